package controller_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// scriptedClient stands where the controller stands in the latency
// benchmarks, and does nothing but send a flow's commands: the same 11
// REST requests, in the same order, through the same pbx.Link (its REST
// transport, its event reader and decoder, a goroutine per call), and no
// queue, routing, store or records. Its latency is the floor the fake
// Asterisk, the transport and the Go runtime on this machine set under
// the controller: what no work in the controller can go below.
type scriptedClient struct {
	link     *pbx.Link
	disp     *pbx.Dispatcher
	free     chan string // operators' endpoints not on a call
	finished atomic.Int64
	want     atomic.Int64
	all      chan struct{}
	failed   atomic.Pointer[error]
	ctx      context.Context // done when the benchmark ends: flows stop waiting
}

func startScripted(tb testing.TB, fake *aritest.Server, operators int) *scriptedClient {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &scriptedClient{free: make(chan string, operators), all: make(chan struct{}, 1), ctx: ctx}
	for i := range operators {
		s.free <- fmt.Sprintf("PJSIP/op%d", 1000+i)
	}
	s.disp = pbx.NewDispatcher(pbx.Hooks{NewChannel: func(e *ari.StasisStart) *pbx.Inbox {
		if strings.Contains(e.Channel.ID, "-op-") {
			return nil
		}
		in := pbx.NewInbox()
		go s.flow(e.Channel.ID, in)
		return in
	}}, nil)
	var err error
	s.link, err = pbx.New(pbx.Options{URL: fake.URL(), User: "toritsugi", Password: "toritsugi", App: "toritsugi",
		DisallowedEvents: call.UnreadEvents, Backoff: pbx.Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond},
		Logger: slog.New(slog.DiscardHandler)}, s.disp)
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go pprof.Do(ctx, controllerSide, func(ctx context.Context) { defer close(done); _ = s.link.Run(ctx) })
	tb.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for !s.link.Up() {
		if time.Now().After(deadline) {
			tb.Fatal("scripted client: link not up")
		}
		time.Sleep(time.Millisecond)
	}
	return s
}

// expect returns a channel signalled once n more flows have finished.
func (s *scriptedClient) expect(n int) <-chan struct{} {
	s.want.Store(s.finished.Load() + int64(n))
	return s.all
}

// flow is one call: answer and greet; music on hold and ring an operator;
// whisper to the operator; bridge; hang up when the operator does.
func (s *scriptedClient) flow(id string, in *pbx.Inbox) {
	defer in.Close()
	rest := s.link.Client()
	key := ari.NewKey(ari.ChannelKey, id)
	// await returns whether the event came (false: the benchmark ended).
	await := func(match func(ari.Event) bool) bool {
		for {
			for _, e := range in.Drain() {
				if match(e) {
					return true
				}
			}
			select {
			case <-in.Ready():
			case <-s.ctx.Done():
				return false
			}
		}
	}
	played := func(pb string) func(ari.Event) bool {
		return func(e ari.Event) bool { p, ok := e.(*ari.PlaybackFinished); return ok && p.Playback.ID == pb }
	}
	check := func(err error) {
		if err != nil && s.failed.Load() == nil {
			s.failed.Store(&err)
		}
	}
	check(rest.Channel().Answer(key))
	_, err := rest.Channel().Play(key, id+"-pb-1", "sound:bench/greeting")
	check(err)
	if !await(played(id + "-pb-1")) {
		return
	}
	check(rest.Channel().SetVariable(key, call.StateVar, "scripted"))
	check(rest.Channel().MOH(key, "default"))
	var op string
	select {
	case op = <-s.free:
	case <-s.ctx.Done():
		return
	}
	leg := id + "-op-" + strings.TrimPrefix(op, "PJSIP/")
	s.disp.BindChannel(leg, in)
	_, err = rest.Channel().Originate(nil, ari.OriginateRequest{Endpoint: op, App: "toritsugi", AppArgs: "operator," + id,
		ChannelID: leg, Timeout: 20, CallerID: `"ACME" <090>`})
	check(err)
	legKey := ari.NewKey(ari.ChannelKey, leg)
	if !await(func(e ari.Event) bool { ss, ok := e.(*ari.StasisStart); return ok && ss.Channel.ID == leg }) {
		return
	}
	_, err = rest.Channel().Play(legKey, id+"-pb-3", "sound:bench/whisper")
	check(err)
	if !await(played(id + "-pb-3")) {
		return
	}
	br := id + "-br-1"
	brKey := ari.NewKey(ari.BridgeKey, br)
	s.disp.BindBridge(br, in)
	_, err = rest.Bridge().Create(brKey, "mixing", br)
	check(err)
	check(rest.Channel().StopMOH(key))
	check(s.link.AddToBridge(br, id, leg))
	if !await(func(e ari.Event) bool { se, ok := e.(*ari.StasisEnd); return ok && se.Channel.ID == leg }) {
		return
	}
	check(rest.Channel().Hangup(key, "normal"))
	check(rest.Bridge().Delete(brKey))
	s.disp.UnbindChannel(leg, in)
	s.disp.UnbindChannel(id, in)
	s.disp.UnbindBridge(br, in)
	s.free <- op
	if s.finished.Add(1) == s.want.Load() {
		s.all <- struct{}{}
	}
}

// BenchmarkEventLatencyFloor: BenchmarkEventLatencyAtRate's calls and
// fake Asterisk, at its 400 and 1,000 flows/s, with the scripted client
// (above) in the controller's place: the latency the controller is
// measured against with none of the controller's own work. The
// controller cannot be faster than this floor; where the floor's p99 is
// over a target, the target is out of reach on this machine whatever the
// controller does.
func BenchmarkEventLatencyFloor(b *testing.B) {
	for _, rate := range []int{400, 1000} {
		b.Run(fmt.Sprintf("flows/s=%d", rate), func(b *testing.B) {
			s := benchSetup{operators: flowOperators, registered: true, talk: flowTalk, trace: true}
			e := startBenchFake(b, s)
			sc := startScripted(b, e.fake, s.operators)
			e.tr.take()
			all := sc.expect(b.N)
			cpu0 := cpuTime()
			b.ResetTimer()
			start, last := paceCalls(b.N, rate, e.call)
			select {
			case <-all:
			case <-time.After(flowLimit):
				b.Fatalf("%d of %d scripted flows finished within %v", sc.finished.Load(), b.N, flowLimit)
			}
			end := time.Now()
			b.StopTimer()
			cpu := cpuTime() - cpu0
			if p := sc.failed.Load(); p != nil {
				b.Fatalf("a scripted request failed: %v", *p)
			}
			d := end.Sub(start)
			evs, reqs := e.tr.counts()
			b.ReportMetric(float64(evs)/float64(b.N), "events/flow")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/flow")
			b.ReportMetric(float64(b.N)/d.Seconds(), "flows/s")
			b.ReportMetric(float64(end.Sub(last).Microseconds())/1000, "drain-ms")
			b.ReportMetric(100*cpu.Seconds()/d.Seconds()/float64(runtime.NumCPU()), "cpu-%")
			reportLatency(b, e)
		})
	}
}
