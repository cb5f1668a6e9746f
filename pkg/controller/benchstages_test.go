package controller_test

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// stageTracer is the controller's pbx.Observer in the stage benchmark: it
// keeps when each StasisStart and PlaybackFinished was read and taken up
// by its call, and every REST request as handed to the HTTP client.
type stageTracer struct {
	mu    sync.Mutex
	times map[stageKey][]time.Time
	sent  []aritest.ReceivedRequest // At: handed to the HTTP client
}

type stageKey struct{ stage, typ, channel string }

func newStageTracer() *stageTracer { return &stageTracer{times: map[stageKey][]time.Time{}} }

func (t *stageTracer) EventRead(e ari.Event, at time.Time)     { t.event("read", e, at) }
func (t *stageTracer) EventHandling(e ari.Event, at time.Time) { t.event("handling", e, at) }

func (t *stageTracer) event(stage string, e ari.Event, at time.Time) {
	typ := e.GetType()
	if typ != "StasisStart" && typ != "PlaybackFinished" {
		return
	}
	chs := pbx.TargetsOf(e).Channels
	if len(chs) == 0 {
		return
	}
	k := stageKey{stage, typ, chs[0]}
	t.mu.Lock()
	t.times[k] = append(t.times[k], at)
	t.mu.Unlock()
}

func (t *stageTracer) RequestSent(method, path, query string, body []byte, at time.Time) {
	r := aritest.ReceivedRequest{Method: method, Path: path, Query: query, Body: string(body), At: at}
	t.mu.Lock()
	t.sent = append(t.sent, r)
	t.mu.Unlock()
}

// take returns what was kept (requests by time) and starts afresh.
func (t *stageTracer) take() (map[stageKey][]time.Time, []aritest.ReceivedRequest) {
	t.mu.Lock()
	times, sent := t.times, t.sent
	t.times, t.sent = map[stageKey][]time.Time{}, nil
	t.mu.Unlock()
	slices.SortStableFunc(sent, func(a, b aritest.ReceivedRequest) int { return a.At.Compare(b.At) })
	return times, sent
}

// stages of one event's latency: the fake writes it → the controller
// reads its frame → its call takes it up → the command is handed to the
// HTTP client → the fake has read the command.
type stages struct{ read, wake, work, serve, total time.Duration }

// stageLatencies splits the latency of each event commandLatencies
// measures; events with a stage missing are left out.
func stageLatencies(evs []aritest.SentEvent, reqs []aritest.ReceivedRequest, times map[stageKey][]time.Time, sent []aritest.ReceivedRequest) []stages {
	var out []stages
	for _, e := range evs {
		if e.Channel == "" || (e.Type != "StasisStart" && e.Type != "PlaybackFinished") {
			continue
		}
		read, ok1 := firstTimeAfter(times[stageKey{"read", e.Type, e.Channel}], e.At)
		handling, ok2 := firstTimeAfter(times[stageKey{"handling", e.Type, e.Channel}], read)
		call, _, _ := strings.Cut(e.Channel, "-op-")
		sentAt, ok3 := firstNaming(sent, call, handling)
		recvAt, ok4 := firstNaming(reqs, call, e.At)
		if !ok1 || !ok2 || !ok3 || !ok4 || recvAt.Before(sentAt) {
			continue
		}
		out = append(out, stages{read: read.Sub(e.At), wake: handling.Sub(read), work: sentAt.Sub(handling), serve: recvAt.Sub(sentAt), total: recvAt.Sub(e.At)})
	}
	return out
}

func firstTimeAfter(ts []time.Time, t time.Time) (time.Time, bool) {
	for _, x := range ts {
		if !x.Before(t) {
			return x, true
		}
	}
	return time.Time{}, false
}

// firstNaming is when the first request at or after t that names call
// arrived (within window).
func firstNaming(reqs []aritest.ReceivedRequest, call string, t time.Time) (time.Time, bool) {
	for _, r := range reqs[firstAfter(reqs, t):] {
		if r.At.Sub(t) > window {
			break
		}
		if namesCall(r, call) {
			return r.At, true
		}
	}
	return time.Time{}, false
}

// BenchmarkEventLatencyStages: BenchmarkEventLatencyAtRate's flows, with
// each event's latency split where it goes: read (the fake writes the
// event → the controller has read its frame: the link's reader waking and
// reading), wake (→ the event's call takes it from its inbox: the call's
// goroutine waiting for a core), work (→ the command is handed to the
// HTTP client: the call's own work), serve (→ the fake has read the
// command: the fake's connection goroutine waking and parsing; includes
// any wait for a pooled connection). Reported: each stage's p50 and p99,
// and logged, how the slowest 1 % of events split on average. The
// observer's own bookkeeping (a lock and an append per stage) is on the
// measured path: compare totals with BenchmarkEventLatencyAtRate, not
// with this.
func BenchmarkEventLatencyStages(b *testing.B) {
	for _, rate := range []int{400, 1000} {
		b.Run(fmt.Sprintf("flows/s=%d", rate), func(b *testing.B) {
			st := newStageTracer()
			e := startBench(b, benchSetup{operators: flowOperators, registered: true, talk: flowTalk, trace: true, observer: st})
			st.take()
			timedFlows(b, e, func() time.Duration { d, _ := runAtRate(b, e, b.N, rate); return d })
			evs, reqs := e.tr.take()
			times, sent := st.take()
			s := stageLatencies(evs, reqs, times, sent)
			if len(s) < b.N {
				b.Fatalf("%d events split into stages, want at least %d (one per call)", len(s), b.N)
			}
			reportStages(b, s)
		})
	}
}

func reportStages(b *testing.B, s []stages) {
	b.Helper()
	pick := func(f func(stages) time.Duration) []time.Duration {
		out := make([]time.Duration, len(s))
		for i, x := range s {
			out[i] = f(x)
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    func(stages) time.Duration
	}{
		{"read", func(x stages) time.Duration { return x.read }},
		{"wake", func(x stages) time.Duration { return x.wake }},
		{"work", func(x stages) time.Duration { return x.work }},
		{"serve", func(x stages) time.Duration { return x.serve }},
		{"total", func(x stages) time.Duration { return x.total }},
	} {
		d := pick(c.f)
		b.ReportMetric(pct(d, .50), c.name+"-p50-ms")
		b.ReportMetric(pct(d, .99), c.name+"-p99-ms")
	}
	slow := slices.Clone(s)
	slices.SortFunc(slow, func(a, b stages) int { return cmp.Compare(b.total, a.total) })
	slow = slow[:max(len(slow)/100, 1)]
	var sum stages
	for _, x := range slow {
		sum.read += x.read
		sum.wake += x.wake
		sum.work += x.work
		sum.serve += x.serve
		sum.total += x.total
	}
	n := time.Duration(len(slow))
	ms := func(d time.Duration) float64 { return float64(d/n) / float64(time.Millisecond) }
	b.Logf("events %d; the slowest %d on average: read %.3f + wake %.3f + work %.3f + serve %.3f = %.3f ms",
		len(s), len(slow), ms(sum.read), ms(sum.wake), ms(sum.work), ms(sum.serve), ms(sum.total))
}

// TestStageLatencies: each stage is taken from the first time at or after
// the one before; an event with a stage missing is left out.
func TestStageLatencies(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	at := func(us int) time.Time { return t0.Add(time.Duration(us) * time.Microsecond) }
	evs := []aritest.SentEvent{
		{Type: "StasisStart", Channel: "c1", At: at(0)},
		{Type: "PlaybackFinished", Channel: "c1-op-1", At: at(1000)},
		{Type: "StasisStart", Channel: "c2", At: at(2000)}, // never taken up
		{Type: "ChannelHangupRequest", Channel: "c1", At: at(3000)},
	}
	times := map[stageKey][]time.Time{
		{"read", "StasisStart", "c1"}:               {at(100)},
		{"handling", "StasisStart", "c1"}:           {at(300)},
		{"read", "PlaybackFinished", "c1-op-1"}:     {at(900), at(1050)}, // the first is an earlier event's
		{"handling", "PlaybackFinished", "c1-op-1"}: {at(1060)},
		{"read", "StasisStart", "c2"}:               {at(2100)},
	}
	sent := []aritest.ReceivedRequest{
		{Method: "POST", Path: "/channels/c9/answer", At: at(310)},
		{Method: "POST", Path: "/channels/c1/answer", At: at(320)},
		{Method: "POST", Path: "/bridges/c1-br-1", At: at(1070)},
		{Method: "POST", Path: "/channels/c2/answer", At: at(2200)},
	}
	reqs := []aritest.ReceivedRequest{
		{Method: "POST", Path: "/channels/c1/answer", At: at(400)},
		{Method: "POST", Path: "/bridges/c1-br-1", At: at(1200)},
		{Method: "POST", Path: "/channels/c2/answer", At: at(2300)},
	}
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	want := []stages{
		{read: us(100), wake: us(200), work: us(20), serve: us(80), total: us(400)},
		{read: us(50), wake: us(10), work: us(10), serve: us(130), total: us(200)},
	}
	if got := stageLatencies(evs, reqs, times, sent); !slices.Equal(got, want) {
		t.Errorf("stageLatencies =\n%+v\nwant\n%+v", got, want)
	}
}
