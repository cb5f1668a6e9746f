package controller_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
)

// flowLimit bounds how long a benchmark waits for its calls to make
// progress (a call to finish, callers to queue).
const flowLimit = 20 * time.Second

// runFlows places n calls, at most inFlight unfinished at a time, and
// returns once all n records are stored. It fails when no call finishes
// for flowLimit.
func runFlows(b *testing.B, e *benchEnv, n, inFlight int) time.Duration {
	b.Helper()
	slots := make(chan struct{}, inFlight)
	all := e.rec.expect(n, slots)
	start := time.Now()
	stall := time.NewTimer(flowLimit)
	defer stall.Stop()
	for i := range n {
		select {
		case slots <- struct{}{}:
		case <-stall.C:
			e.stuck(n)
		}
		stall.Reset(flowLimit)
		e.call(i)
	}
	select {
	case <-all:
	case <-stall.C:
		e.stuck(n)
	}
	return time.Since(start)
}

// reportLatency reports the event-to-command latency the fake traced over
// every kind, and logs each kind.
func reportLatency(b *testing.B, e *benchEnv) {
	b.Helper()
	lat, unmatched := commandLatencies(e.tr.take())
	reportLatencies(b, lat, unmatched)
}

// reportLatencies reports event-to-command latencies over every kind, and
// logs each kind.
func reportLatencies(b *testing.B, lat map[string][]time.Duration, unmatched int) {
	b.Helper()
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
// not end answered). By Little's law the calls in flight cap the rate at
// flowOperators / (flowTalk + a flow's own time): with 300 that was about
// 1,100-1,250 flows/s once a flow's steps queued for CPU, so the
// benchmark measured its own setting more than the controller; 600 lift
// the cap above what two cores can do.
const (
	flowOperators = 600
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
			d, cpu := timedFlows(b, e, func() time.Duration { return runFlows(b, e, b.N, flowOperators) })
			evs, reqs := e.tr.counts()
			b.ReportMetric(float64(b.N)/d.Seconds(), "flows/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/flow")
			b.ReportMetric(float64(evs)/float64(b.N), "events/flow")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/flow")
			reportLatency(b, e)
		})
	}
}

// timedFlows runs the benchmark's flows with the timer on and returns their
// wall time and the process's CPU time; it fails the benchmark if any
// call did not end answered.
func timedFlows(b *testing.B, e *benchEnv, run func() time.Duration) (wall, cpu time.Duration) {
	b.Helper()
	e.tr.take()
	cpu0 := cpuTime()
	b.ResetTimer()
	wall = run()
	b.StopTimer()
	cpu = cpuTime() - cpu0
	if o := e.rec.notAnswered(); len(o) > 0 {
		b.Fatalf("calls that did not end answered: %v", o)
	}
	return wall, cpu
}

// BenchmarkEventLatency: the same flow, one call at a time, so that each
// command's latency is the controller's own and not queueing behind
// other calls; with 0, 1,000 and 10,000 callers of another client on
// hold meanwhile (the queue holds them all; the flows go past them to the
// operators of their own client).
func BenchmarkEventLatency(b *testing.B) {
	for _, n := range []int{0, 1000, 10000} {
		b.Run(fmt.Sprintf("waiting=%d", n), func(b *testing.B) {
			e := startBench(b, benchSetup{operators: 5, registered: true, talk: 10 * time.Millisecond, trace: true})
			e.hold(n)
			if w := e.waiting(); w != n {
				b.Fatalf("%d callers waiting, want %d", w, n)
			}
			e.tr.take()
			b.ResetTimer()
			runFlows(b, e, b.N, 1)
			b.StopTimer()
			if o := e.rec.notAnswered(); len(o) > 0 {
				b.Fatalf("calls that did not end answered: %v", o)
			}
			reportLatency(b, e)
		})
	}
}

// BenchmarkEventLatencyAtRate: calls arrive at a steady rate (not when
// the previous ones finished), as on a busy day, through the
// CallFlows setup; latency as offered load grows, up to the 1,000 flows/s
// of the target. flows/s counts from the first call to the last record,
// so it includes the last calls' own time (drain-ms: from the last call
// placed to the last record; one flow's time, about 0.2 s of talk, when
// the controller keeps up).
func BenchmarkEventLatencyAtRate(b *testing.B) {
	for _, rate := range []int{100, 200, 400, 1000} {
		b.Run(fmt.Sprintf("flows/s=%d", rate), func(b *testing.B) {
			e := startBench(b, benchSetup{operators: flowOperators, registered: true, talk: flowTalk, trace: true})
			var drain time.Duration
			d, cpu := timedFlows(b, e, func() time.Duration {
				var total time.Duration
				total, drain = runAtRate(b, e, b.N, rate)
				return total
			})
			b.ReportMetric(float64(b.N)/d.Seconds(), "flows/s")
			b.ReportMetric(float64(drain.Microseconds())/1000, "drain-ms")
			b.ReportMetric(100*cpu.Seconds()/d.Seconds()/float64(runtime.NumCPU()), "cpu-%")
			reportLatency(b, e)
		})
	}
}

// runAtRate places n calls, one every 1/rate seconds, and returns once all
// n records are stored: the time from the first call, and from the last.
func runAtRate(b *testing.B, e *benchEnv, n, rate int) (total, drain time.Duration) {
	b.Helper()
	all := e.rec.expect(n, nil)
	start, last := paceCalls(n, rate, e.call)
	select {
	case <-all:
	case <-time.After(flowLimit):
		e.stuck(n)
	}
	return time.Since(start), time.Since(last)
}

// paceCalls places n calls, one every 1/rate seconds, and returns when it
// placed the first and the last.
func paceCalls(n, rate int, place func(i int)) (start, last time.Time) {
	start = time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		place(i)
	}
	return start, time.Now()
}

// BenchmarkEventLatencyAtRateFakeApart: BenchmarkEventLatencyAtRate with
// the fake Asterisk in a process of its own, as Asterisk is: the two
// share the machine's two cores, as before, but not one Go runtime (its
// run queues, its collector). The fake's process places the calls and
// measures latency as in-process; cpu-% counts both processes.
func BenchmarkEventLatencyAtRateFakeApart(b *testing.B) {
	for _, rate := range []int{400, 1000} {
		b.Run(fmt.Sprintf("flows/s=%d", rate), func(b *testing.B) {
			e, p := startBenchProcess(b, benchSetup{operators: flowOperators, registered: true, talk: flowTalk, trace: true})
			p.report() // start afresh
			all := e.rec.expect(b.N, nil)
			cpu0 := cpuTime()
			b.ResetTimer()
			first, last := p.calls(b.N, rate)
			select {
			case <-all:
			case <-time.After(flowLimit):
				e.stuck(b.N)
			}
			end := time.Now()
			b.StopTimer()
			cpu := cpuTime() - cpu0
			r := p.report()
			if o := e.rec.notAnswered(); len(o) > 0 {
				b.Fatalf("calls that did not end answered: %v", o)
			}
			d := end.Sub(first)
			b.ReportMetric(float64(b.N)/d.Seconds(), "flows/s")
			b.ReportMetric(float64(end.Sub(last).Microseconds())/1000, "drain-ms")
			b.ReportMetric(100*(cpu+r.CPU).Seconds()/d.Seconds()/float64(runtime.NumCPU()), "cpu-%")
			b.ReportMetric(100*cpu.Seconds()/d.Seconds()/float64(runtime.NumCPU()), "controller-cpu-%")
			reportLatencies(b, r.Latency, r.Unmatched)
		})
	}
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
	setup = e.hold(n).Seconds()
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
// serves calls until none is left, with a 0 s wrap-up (re-use gap: the
// call's end → the next originate to that operator). Who ends the call:
//   - hangup=operator: the operator's phone hangs up 200 ms after it
//     answered; from its leg's ChannelHangupRequest (the operator is free
//     at once: the leg is gone with the BYE).
//   - hangup=caller: the caller hangs up 200 ms after the operator's leg
//     entered the bridge, as callers usually do; from the caller's
//     ChannelHangupRequest. The operator is rung again only once the
//     controller's DELETE of their leg has taken it out of Asterisk
//     (acd.LegGoneWait at most), so the gap holds that hang-up: every
//     hangup takes reuseHangupStage per stage (aritest's HangupWindow).
func BenchmarkOperatorReuse(b *testing.B) {
	b.Run("hangup=operator", func(b *testing.B) { benchOperatorReuse(b, false) })
	b.Run("hangup=caller", func(b *testing.B) { benchOperatorReuse(b, true) })
}

// reuseHangupStage is how long each stage of a hangup (ChannelHangupRequest,
// StasisEnd, ChannelDestroyed) takes in BenchmarkOperatorReuse's
// hangup=caller: more than Asterisk takes on an idle machine (its Stasis
// thread sees the hangup and leaves at once; not recorded, from the
// source), so the gap is not flattered.
const reuseHangupStage = 10 * time.Millisecond

// reuseGapLimit bounds how long after a call's end the next originate to
// its operator is looked for: past acd.LegGoneWait, so that an operator
// rung only when that wait ran out (their leg's end not seen) counts, as
// a gap of 2 s, rather than being left out.
const reuseGapLimit = 5 * time.Second

func benchOperatorReuse(b *testing.B, callerFirst bool) {
	const callers, operators = 200, 20
	const talk = 200 * time.Millisecond
	var reg, reuse []time.Duration
	for b.Loop() {
		b.StopTimer()
		setup := benchSetup{operators: operators, talk: talk, trace: true}
		var fake atomic.Pointer[aritest.Server]
		if callerFirst {
			setup.talk = 0 // the operators' phones never hang up
			setup.hangupWindow = reuseHangupStage
			var bridged sync.Map
			setup.onEvent = func(ev aritest.SentEvent) {
				call, _, ok := strings.Cut(ev.Channel, "-op-")
				if ev.Type != "ChannelEnteredBridge" || !ok {
					return
				}
				if _, dup := bridged.LoadOrStore(call, true); dup {
					return
				}
				time.AfterFunc(talk, func() {
					if f := fake.Load(); f != nil {
						_ = f.RemoteHangup(call) // gone already: nothing to do
					}
				})
			}
		}
		e := startBench(b, setup)
		fake.Store(e.fake)
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
		reg = append(reg, originateGaps(starts, reqs, window)...)
		ends := hangupStarts(evs)
		if callerFirst {
			ends = callerHangupStarts(evs)
		}
		reuse = append(reuse, originateGaps(ends, reqs, reuseGapLimit)...)
		e.close()
		b.StartTimer()
	}
	b.Logf("register gaps n=%d p50 %.3f ms p95 %.3f ms; re-use gaps n=%d p50 %.3f ms p95 %.3f ms",
		len(reg), pct(reg, .5), pct(reg, .95), len(reuse), pct(reuse, .5), pct(reuse, .95))
	b.ReportMetric(pct(reuse, .50), "reuse-p50-ms")
	b.ReportMetric(pct(reuse, .95), "reuse-p95-ms")
	b.ReportMetric(pct(reg, .95), "register-p95-ms")
}

// BenchmarkMachineStalls: the floor under every latency above, with no
// controller and no fake. One OS thread reads the clock in a loop for b.N
// milliseconds; a gap between two readings is time the thread did not
// run (the kernel ran something else, or the hypervisor ran another
// machine on this one's core). Reported: such gaps longer than 1, 2 and 5
// ms per second, the longest, and over-2ms-%: the share of the time in
// which work woken on that core would wait more than 2 ms before it runs
// (of a gap of length g, its first g-2 ms). A p99 of 2 ms allows 1 % of
// events over 2 ms in all; on two busy cores, a stall's backlog adds more.
func BenchmarkMachineStalls(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const ms = time.Millisecond
	var over1, over2, over5 int
	var longest, over2Time time.Duration
	b.ResetTimer()
	start := time.Now()
	end := start.Add(time.Duration(b.N) * ms)
	for last := start; last.Before(end); {
		now := time.Now()
		g := now.Sub(last)
		last = now
		if g <= ms {
			continue
		}
		over1++
		longest = max(longest, g)
		if g > 2*ms {
			over2++
			over2Time += g - 2*ms
		}
		if g > 5*ms {
			over5++
		}
	}
	wall := time.Since(start)
	b.StopTimer()
	s := wall.Seconds()
	b.ReportMetric(float64(over1)/s, "stalls>1ms/s")
	b.ReportMetric(float64(over2)/s, "stalls>2ms/s")
	b.ReportMetric(float64(over5)/s, "stalls>5ms/s")
	b.ReportMetric(float64(longest.Microseconds())/1000, "longest-ms")
	b.ReportMetric(100*over2Time.Seconds()/s, "over-2ms-%")
}
