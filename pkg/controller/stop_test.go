package controller_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// stopUnderLoad: rings of 1000 s (10 s here) that no originate timeout
// ends while the test looks, and callers who wait an hour.
const stopUnderLoad = `
queue: {ring_timeout: 1000s, max_wait: 1h, wrapup: 0s}
clients:
  - id: acme
    name: 株式会社ACME
    short_name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    whisper_sound: sound:beep
    record: true
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
  - {id: op1002, name: 鈴木, endpoint: PJSIP/op1002, clients: ["*"]}
  - {id: op1003, name: 高橋, endpoint: PJSIP/op1003, clients: ["*"]}
  - {id: op1004, name: 田中, endpoint: PJSIP/op1004, clients: ["*"]}
  - {id: op1009, name: 伊藤, endpoint: PJSIP/op1009, clients: ["*"]}
`

// stopBound is how long a stop under load may take here: the service's
// stop has 30 s (TimeoutStopSec), the HTTP drain and the relay's grace
// (5 s) first.
const stopBound = 5 * time.Second

// readCounter counts the events the link read (pbx.Observer).
type readCounter struct{ n atomic.Int64 }

func (r *readCounter) EventRead(ari.Event, time.Time)                        { r.n.Add(1) }
func (r *readCounter) EventHandling(ari.Event, time.Time)                    {}
func (r *readCounter) RequestSent(string, string, string, []byte, time.Time) {}

// TestStopUnderLoad: the controller is stopped while callers talk, ring
// operators and wait, with the queue's owner fallen behind (held here on
// its goroutine, as a loaded machine's falls behind): its input is full,
// and the link's reader waits to hand it an operator phone's change (a
// phone whose registration flaps). The stop completes within stopBound,
// the operators' rings are hung up, and every call still up has its
// state in the store once it is closed, for the next start; the callers
// who hung up while the queue was held have their records.
//
// A stop hung here (commit 9985b8c's fix taken out): the queue's Run
// returned at the stop, and the reader waited for ever to send into its
// input, so the link's Run, and the controller's, never returned.
func TestStopUnderLoad(t *testing.T) {
	h := newHarness(t, stopUnderLoad)
	talks := aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour}
	rings := aritest.EndpointBehavior{Answer: aritest.NoAnswer}
	h.fake.AddEndpoint("PJSIP/op1001", true, talks)
	h.fake.AddEndpoint("PJSIP/op1002", true, talks)
	h.fake.AddEndpoint("PJSIP/op1003", false, rings)
	h.fake.AddEndpoint("PJSIP/op1004", false, rings)
	h.fake.AddEndpoint("PJSIP/op1009", false, rings)
	reads := &readCounter{}
	h.observer = reads
	held := make(chan struct{})
	release := make(chan struct{})
	var holding atomic.Bool
	var released sync.Once
	letGo := func() { released.Do(func() { close(release) }) }
	h.onOperatorChange = func(c acd.OperatorStateChanged) {
		if c.OpID == "op1009" && holding.CompareAndSwap(false, true) {
			close(held)
			<-release
		}
	}
	r := h.start()
	t.Cleanup(letGo) // before the controller's stop (cleanups run last first)
	h.eventually("op1001 and op1002 available", func() bool {
		return h.operatorState("op1001") == acd.Available && h.operatorState("op1002") == acd.Available
	})

	// Two callers talk, two ring op1003 and op1004, sixteen wait.
	const callers = 20
	var ids []string
	for i := range callers {
		ids = append(ids, h.call("0312345678", fmt.Sprintf("0900000%04d", i)))
	}
	bridged := func(id string) bool { c, ok := h.fake.Channel(id); return ok && c.BridgeID != "" }
	talking := map[string]bool{}
	h.eventually("two callers talking", func() bool {
		clear(talking)
		for _, id := range ids {
			if bridged(id) {
				talking[id] = true
			}
		}
		return len(talking) == 2
	})
	h.eventually("the others waiting", func() bool { return len(h.waiting("acme")) == callers-2 })
	for _, ep := range []string{"PJSIP/op1003", "PJSIP/op1004"} {
		if err := h.fake.Register(ep); err != nil {
			t.Fatal(err)
		}
	}
	ringing := func() []string {
		var legs []string
		for _, c := range h.fake.Channels() {
			if strings.Contains(c.ID, "-op-") && c.State == "Ringing" {
				legs = append(legs, c.ID)
			}
		}
		return legs
	}
	h.eventually("op1003 and op1004 ringing", func() bool { return len(ringing()) == 2 })

	// The last four in line (not those ringing op1003 and op1004, the
	// first two) hang up below.
	waiting := h.waiting("acme")
	gone := waiting[len(waiting)-4:]

	// The queue falls behind: op1009's phone registers, and the queue's
	// goroutine is held in what it is told of the change.
	if err := h.fake.Register("PJSIP/op1009"); err != nil {
		t.Fatal(err)
	}
	<-held
	// Four waiting callers hang up meanwhile: their reports wait in the
	// queue's input, their calls are recorded.
	for _, id := range gone {
		if err := h.fake.RemoteHangup(id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range gone {
		if rec := h.record(id); rec.Result != store.ResultAbandoned {
			t.Fatalf("%s hung up waiting: %s (%s)", id, rec.Result, rec.Reason)
		}
	}
	// op1009's registration flaps: each change is a report more, more
	// than the queue's input holds (1024), and the link's reader waits
	// to hand one over.
	for range 600 {
		if err := h.fake.Unregister("PJSIP/op1009"); err != nil {
			t.Fatal(err)
		}
		if err := h.fake.Register("PJSIP/op1009"); err != nil {
			t.Fatal(err)
		}
	}
	// The reader is stuck once it reads nothing more for a while.
	last := reads.n.Load()
	steady := time.Now()
	h.eventually("the link's reader waiting on the queue", func() bool {
		if n := reads.n.Load(); n != last {
			last, steady = n, time.Now()
		}
		return time.Since(steady) > 300*time.Millisecond
	})

	began := time.Now()
	r.cancel()
	letGo()
	select {
	case <-r.done:
	case <-time.After(stopBound):
		t.Fatalf("the stop under load did not complete within %v; goroutines:\n%s", stopBound, allStacks())
	}
	t.Logf("stopped in %v", time.Since(began))

	deadline := time.Now().Add(5 * time.Second)
	for len(ringing()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("legs still ringing after the stop: %v; channels %+v", ringing(), h.fake.Channels())
		}
		time.Sleep(2 * time.Millisecond)
	}
	path := h.store.Path()
	if err := h.store.Close(); err != nil {
		t.Fatalf("closing the store after the stop: %v", err)
	}
	live, _, err := storetest.OpenPath(t, path).LiveCalls()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if slices.Contains(gone, id) {
			continue
		}
		want := call.StepQueued
		if talking[id] {
			want = call.StepConnected
		}
		if _, up := h.fake.Channel(id); !up {
			t.Errorf("caller %s was hung up by the stop", id)
		}
		st, ok := live[id]
		switch {
		case !ok:
			t.Errorf("caller %s (%s) has no state in the store after the stop", id, want)
		case !strings.Contains(st, "s="+url.QueryEscape(string(want))):
			t.Errorf("caller %s's state after the stop is %q, want step %s", id, st, want)
		}
	}
	for _, id := range gone {
		if _, ok := live[id]; ok {
			t.Errorf("caller %s, recorded, still has a live state", id)
		}
	}
}

// ringAllStop: one ring-all client, five operators whose phones ring
// 1000 s (10 s here).
const ringAllStop = `
queue: {ring_timeout: 1000s, max_wait: 1h, wrapup: 0s}
clients:
  - id: acme
    name: 株式会社ACME
    short_name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    queue: {strategy: ring-all}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
  - {id: op1002, name: 鈴木, endpoint: PJSIP/op1002, clients: ["*"]}
  - {id: op1003, name: 高橋, endpoint: PJSIP/op1003, clients: ["*"]}
  - {id: op1004, name: 田中, endpoint: PJSIP/op1004, clients: ["*"]}
  - {id: op1005, name: 伊藤, endpoint: PJSIP/op1005, clients: ["*"]}
`

// TestStopHangsUpRingAllLegsSideBySide: a ring-all caller rings five
// operators when the controller stops, and Asterisk takes 1 s to answer
// each hang-up. The five go side by side: the stop takes about 1 s, not
// 5 s, and every leg is hung up.
//
// Before the hang-ups went side by side, the stop
// took 5 s here, one hang-up after another (10 x request_timeout, 20 s,
// for ten operators of an Asterisk that does not answer).
func TestStopHangsUpRingAllLegsSideBySide(t *testing.T) {
	const (
		operators = 5
		held      = time.Second
		bound     = 2500 * time.Millisecond
	)
	h := newHarness(t, ringAllStop)
	var holding atomic.Bool
	var deletes atomic.Int32
	h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if holding.Load() && r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/channels/") && strings.Contains(r.URL.Path, "-op-") {
			deletes.Add(1)
			time.Sleep(held)
		}
		return false
	})
	for i := range operators {
		h.fake.AddEndpoint(fmt.Sprintf("PJSIP/op%d", 1001+i), true, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	}
	r := h.start()
	h.eventually("the operators available", func() bool {
		for i := range operators {
			if h.operatorState(fmt.Sprintf("op%d", 1001+i)) != acd.Available {
				return false
			}
		}
		return true
	})
	id := h.call("0312345678", "0901234567")
	ringing := func() []string {
		var legs []string
		for _, c := range h.fake.Channels() {
			if strings.HasPrefix(c.ID, id) && strings.Contains(c.ID, "-op-") && c.State == "Ringing" {
				legs = append(legs, c.ID)
			}
		}
		return legs
	}
	h.eventually("every operator ringing", func() bool { return len(ringing()) == operators })

	holding.Store(true)
	began := time.Now()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(operators * held * 2):
		t.Fatalf("the stop did not complete within %v; goroutines:\n%s", operators*held*2, allStacks())
	}
	took := time.Since(began)
	t.Logf("stopped in %v", took)
	if took >= bound {
		t.Errorf("the stop took %v with %d legs' hang-ups held %v each, want under %v: hung up one after another", took, operators, held, bound)
	}
	if n := deletes.Load(); n != operators {
		t.Errorf("%d legs hung up at the stop, want %d", n, operators)
	}
	if legs := ringing(); len(legs) > 0 {
		t.Errorf("legs still ringing after the stop: %v", legs)
	}
	if _, up := h.fake.Channel(id); !up {
		t.Errorf("caller %s was hung up by the stop", id)
	}
}
