package controller_test

import (
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

// flowLimit bounds how long a benchmark waits for its calls to finish.
const flowLimit = 20 * time.Second

// runFlows places n calls, at most inFlight unfinished at a time, and
// returns once all n records are stored.
func runFlows(b *testing.B, e *benchEnv, n, inFlight int) time.Duration {
	b.Helper()
	slots := make(chan struct{}, inFlight)
	all := e.rec.expect(n, slots)
	start := time.Now()
	limit := time.After(flowLimit)
	for i := range n {
		select {
		case slots <- struct{}{}:
		case <-limit:
			e.stuck(n)
		}
		e.call(i)
	}
	select {
	case <-all:
	case <-limit:
		e.stuck(n)
	}
	return time.Since(start)
}

// reportLatency reports event-to-command latency over every kind, and
// logs each kind.
func reportLatency(b *testing.B, e *benchEnv) {
	b.Helper()
	lat, unmatched := commandLatencies(e.tr.take())
	var all []time.Duration
	kinds := slices.Sorted(func(yield func(string) bool) {
		for k := range lat {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range kinds {
		all = append(all, lat[k]...)
		b.Logf("%-27s n=%-6d p50 %.3f ms  p99 %.3f ms", k, len(lat[k]), pct(lat[k], .50), pct(lat[k], .99))
	}
	if unmatched > 0 {
		b.Logf("%d events with no command on their channel within %v", unmatched, window)
	}
	b.ReportMetric(pct(all, .50), "p50-ms")
	b.ReportMetric(pct(all, .99), "p99-ms")
}

// Call flow benchmark settings: flowOperators operators answering at once
// and hanging up after flowTalk, as many calls in flight. Talk must
// outlast the bridging under load, or operators hang up before the bridge
// and callers are queued again (the benchmark fails on any call that did
// not end answered); the operators cap the rate at flowOperators/flowTalk
// = 1,500 flows/s.
const (
	flowOperators = 300
	flowTalk      = 200 * time.Millisecond
)

// BenchmarkCallFlows: whole calls (greeting of 0 s, queue, operator leg
// answered at once, whisper of 0 s, bridge, talk, record stored); the
// store batched and committing each record alone, side by side. Latency
// is measured under that load. Also reported: the process's CPU time
// (controller and fake Asterisk together), events the fake wrote and
// REST requests it received, each per flow.
func BenchmarkCallFlows(b *testing.B) {
	for _, m := range []struct {
		name string
		each bool
	}{{"store=batch", false}, {"store=commit-each", true}} {
		b.Run(m.name, func(b *testing.B) {
			e := startBench(b, benchSetup{operators: flowOperators, registered: true, talk: flowTalk, commitEach: m.each, trace: true})
			e.tr.take()
			cpu0 := cpuTime()
			b.ResetTimer()
			d := runFlows(b, e, b.N, flowOperators)
			b.StopTimer()
			cpu := cpuTime() - cpu0
			if o := e.rec.notAnswered(); len(o) > 0 {
				b.Fatalf("calls that did not end answered: %v", o)
			}
			evs, reqs := e.tr.counts()
			b.ReportMetric(float64(b.N)/d.Seconds(), "flows/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/flow")
			b.ReportMetric(float64(evs)/float64(b.N), "events/flow")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/flow")
			reportLatency(b, e)
		})
	}
}

// cpuTime is the CPU time (user and system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEventLatency: the same flow, one call at a time, so that each
// command's latency is the controller's own and not queueing behind
// other calls.
func BenchmarkEventLatency(b *testing.B) {
	e := startBench(b, benchSetup{operators: 5, registered: true, talk: 10 * time.Millisecond, trace: true})
	e.tr.take()
	b.ResetTimer()
	runFlows(b, e, b.N, 1)
	b.StopTimer()
	reportLatency(b, e)
}

// BenchmarkWaitingCallMemory: n callers waiting (greeted, on hold, queued;
// placed 100 at a time;
// no operator reachable). Heap in use after GC: the controller's share is
// what goes away when the controller stops (the fake keeps its channels),
// less the controller's fixed cost; the fake's share is reported apart.
func BenchmarkWaitingCallMemory(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			var ctrl, fake, stack, setup float64
			for b.Loop() {
				ctrl, fake, stack, setup = measureWaiting(b, n)
			}
			b.ReportMetric(ctrl, "KiB/waiting-call")
			b.ReportMetric(stack, "stack-KiB/waiting-call")
			b.ReportMetric(fake, "fake-KiB/waiting-call")
			b.ReportMetric(setup, "setup-s")
		})
	}
}

func measureWaiting(b *testing.B, n int) (ctrl, fake, stack, setup float64) {
	e := startBench(b, benchSetup{operators: 50})
	defer e.close()
	idle, idleStack := heapInuse(), stackInuse()
	start := time.Now()
	deadline := start.Add(flowLimit)
	// Callers arrive 100 at a time, each hundred queued before the next:
	// a burst of 1,000 at once loses some StasisStarts (see the report).
	for i := 0; i < n; i += 100 {
		for j := i; j < min(i+100, n); j++ {
			e.call(j)
		}
		for w := e.waiting(); w < min(i+100, n); w = e.waiting() {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d callers waiting after %v", w, n, time.Since(start))
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	setup = time.Since(start).Seconds()
	loaded, loadedStack := heapInuse(), stackInuse()
	e.stop()
	gone := heapInuse()
	// loaded = fakeAlone + fakeCalls + ctrlFixed + ctrlCalls,
	// gone = fakeAlone + fakeCalls, idle = fakeAlone + ctrlFixed.
	ctrlFixed := float64(idle) - float64(e.heapNoController)
	const kib = 1024
	ctrl = (float64(loaded) - float64(gone) - ctrlFixed) / kib / float64(n)
	fake = (float64(gone) - float64(e.heapNoController)) / kib / float64(n)
	stack = (float64(loadedStack) - float64(idleStack)) / kib / float64(n)
	b.Logf("callers %d: heap in use %d MiB with controller, %d MiB fake alone; controller fixed %.0f KiB", n, loaded>>20, gone>>20, ctrlFixed/kib)
	return ctrl, fake, stack, setup
}

func stackInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse
}

// BenchmarkOperatorReuse: 200 callers wait for 20 unregistered operators.
// Each operator registers (register gap: Register → originate to it), then
// serves calls until none is left (re-use gap: its leg's hangup, the end of
// a 0 s wrap-up → the next originate to it).
func BenchmarkOperatorReuse(b *testing.B) {
	const callers, operators = 200, 20
	var reg, reuse []time.Duration
	for b.Loop() {
		b.StopTimer()
		e := startBench(b, benchSetup{operators: operators, talk: 200 * time.Millisecond, trace: true})
		for i := range callers {
			e.call(i)
		}
		e.poll("callers waiting", flowLimit, func() bool { return e.waiting() == callers })
		done := e.rec.expect(callers, nil)
		e.tr.take()
		b.StartTimer()
		var starts []reuseStart
		for i := range operators {
			ep := fmt.Sprintf("PJSIP/op%d", 1000+i)
			starts = append(starts, reuseStart{endpoint: ep, at: time.Now()})
			if err := e.fake.Register(ep); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-done:
		case <-time.After(flowLimit):
			b.Fatalf("only %d of %d calls recorded", e.rec.count(), callers)
		}
		b.StopTimer()
		evs, reqs := e.tr.take()
		reg = append(reg, originateGaps(starts, reqs)...)
		reuse = append(reuse, originateGaps(hangupStarts(evs), reqs)...)
		e.close()
		b.StartTimer()
	}
	b.Logf("register gaps n=%d p50 %.3f ms p95 %.3f ms; re-use gaps n=%d p50 %.3f ms p95 %.3f ms",
		len(reg), pct(reg, .5), pct(reg, .95), len(reuse), pct(reuse, .5), pct(reuse, .95))
	b.ReportMetric(pct(reuse, .95), "reuse-p95-ms")
	b.ReportMetric(pct(reg, .95), "register-p95-ms")
}
