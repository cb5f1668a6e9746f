package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/acd"
)

// recInbox records what the owner sends a call.
type recInbox struct {
	mu  sync.Mutex
	got []ari.Event
	new chan struct{}
}

func newRecInbox() *recInbox { return &recInbox{new: make(chan struct{}, 100)} }

func (r *recInbox) Push(e ari.Event) {
	r.mu.Lock()
	r.got = append(r.got, e)
	r.mu.Unlock()
	r.new <- struct{}{}
}

// next waits for the next message.
func (r *recInbox) next(t *testing.T) ari.Event {
	t.Helper()
	select {
	case <-r.new:
	case <-time.After(5 * time.Second):
		t.Fatal("no message from the queue in 5 s")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.got[0]
	r.got = r.got[1:]
	return e
}

// runOwner runs an owner with opts until the test ends.
func runOwner(t *testing.T, opts Options) *Owner {
	t.Helper()
	o := New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return o
}

func startOwner(t *testing.T, s acd.ClientSettings) *Owner {
	t.Helper()
	o := runOwner(t, Options{Settings: func(string) acd.ClientSettings { return s }})
	o.SetOperators([]Operator{{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}}})
	return o
}

func state(t *testing.T, o *Owner, id string) acd.State {
	t.Helper()
	s, err := o.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range s.Operators {
		if op.ID == id {
			return op.State
		}
	}
	t.Fatalf("no operator %s", id)
	return 0
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOwnerRingConnectWrapUp(t *testing.T) {
	o := startOwner(t, acd.ClientSettings{RingTimeout: time.Minute, WrapUp: 20 * time.Millisecond})
	if got := state(t, o, "op1"); got != acd.Offline {
		t.Fatalf("unregistered operator is %v, want offline", got)
	}
	o.SetReachable("PJSIP/op1", true)
	eventually(t, "available", func() bool { return state(t, o, "op1") == acd.Available })

	in := newRecInbox()
	o.Enqueue(acd.Call{ID: "c1", ClientID: "acme", EnqueuedAt: time.Now()}, in)
	ring, ok := in.next(t).(*RingOperator)
	if !ok || ring.OpID != "op1" || ring.Endpoint != "PJSIP/op1" || ring.Timeout != time.Minute {
		t.Fatalf("first message %#v, want RingOperator op1 on PJSIP/op1 for 1m", ring)
	}
	o.RingAnswered("c1", "op1", ring.Ring)
	if c, ok := in.next(t).(*Connect); !ok || c.OpID != "op1" || c.Ring != ring.Ring || ring.Ring == 0 {
		t.Fatalf("after the answer of ring %d got %#v, want Connect op1 naming that ring", ring.Ring, c)
	}
	o.CallEnded("c1")
	eventually(t, "wrap-up then available (timer)", func() bool { return state(t, o, "op1") == acd.Available })
}

func TestOwnerRingTimeoutAndAutoPause(t *testing.T) {
	o := startOwner(t, acd.ClientSettings{RingTimeout: 20 * time.Millisecond, AutoPauseAfter: 1})
	o.SetReachable("PJSIP/op1", true)
	eventually(t, "available", func() bool { return state(t, o, "op1") == acd.Available })
	in := newRecInbox()
	o.Enqueue(acd.Call{ID: "c1", ClientID: "acme"}, in)
	if _, ok := in.next(t).(*RingOperator); !ok {
		t.Fatal("want a ring")
	}
	// The ring timeout fires on the owner's timer: the ring is cancelled
	// and the operator, one no-answer later, is paused.
	if c, ok := in.next(t).(*CancelRing); !ok || c.OpID != "op1" {
		t.Fatalf("after the ring timeout got %#v, want CancelRing op1", c)
	}
	eventually(t, "auto-paused", func() bool { return state(t, o, "op1") == acd.Paused })
}

// TestOwnerAutoPausedBackOnRegistration: an operator without the console,
// auto-paused for unanswered rings, is back (available) when their phone
// registers again: they have no other way to say so; not when it is
// reachable again after a blip. A console operator stays paused until the
// console says otherwise, and so does a pause with another reason.
func TestOwnerAutoPausedBackOnRegistration(t *testing.T) {
	for _, tc := range []struct {
		name   string
		manual bool
		reason string
		want   acd.State
	}{
		{"without the console, auto-paused", false, acd.ReasonNoAnswer, acd.Available},
		{"console operator, auto-paused", true, acd.ReasonNoAnswer, acd.Paused},
		{"without the console, paused for a meeting", false, "meeting", acd.Paused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := runOwner(t, Options{Settings: func(string) acd.ClientSettings { return acd.ClientSettings{RingTimeout: time.Minute} }})
			o.SetOperators([]Operator{{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}, Manual: tc.manual}})
			o.SetReachable("PJSIP/op1", true)
			o.Pause("op1", tc.reason)
			eventually(t, "paused", func() bool { return state(t, o, "op1") == acd.Paused })
			// A reload is no registration: the pause stays.
			o.SetOperators([]Operator{{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}, Manual: tc.manual}})
			if got := state(t, o, "op1"); got != acd.Paused {
				t.Fatalf("after a reload: %v, want still paused", got)
			}
			// A blip of the network (a qualify failed, then answered): the
			// phone was never registered again.
			o.SetReachable("PJSIP/op1", false)
			o.SetReachable("PJSIP/op1", true)
			if got := state(t, o, "op1"); got != acd.Paused {
				t.Fatalf("after the phone was unreachable for a moment: %v, want still paused", got)
			}
			o.SetReachable("PJSIP/op1", false)
			o.Registered("PJSIP/op1") // not reachable: nothing
			if got := state(t, o, "op1"); got != acd.Paused {
				t.Fatalf("registered while unreachable: %v, want still paused", got)
			}
			o.SetReachable("PJSIP/op1", true)
			o.Registered("PJSIP/op1")
			if got := state(t, o, "op1"); got != tc.want {
				t.Fatalf("after the phone registered again: %v, want %v", got, tc.want)
			}
		})
	}
}

// TestOwnerStaleAnswerAfterReRing: the only operator's ring times out and
// the call rings them again; the answer to the first ring (racing its
// timeout) arrives late. The owner cancels exactly that first ring and
// connects only on the answer to the second.
func TestOwnerStaleAnswerAfterReRing(t *testing.T) {
	o := startOwner(t, acd.ClientSettings{RingTimeout: 20 * time.Millisecond})
	o.SetReachable("PJSIP/op1", true)
	eventually(t, "available", func() bool { return state(t, o, "op1") == acd.Available })
	in := newRecInbox()
	o.Enqueue(acd.Call{ID: "c1", ClientID: "acme"}, in)
	first, ok := in.next(t).(*RingOperator)
	if !ok {
		t.Fatal("want a ring")
	}
	if c, ok := in.next(t).(*CancelRing); !ok || c.Ring != first.Ring {
		t.Fatalf("after the ring timeout got %#v, want ring %d cancelled", c, first.Ring)
	}
	second, ok := in.next(t).(*RingOperator)
	if !ok || second.Ring == first.Ring {
		t.Fatalf("got %#v, want a new ring to op1", second)
	}
	o.RingAnswered("c1", "op1", first.Ring)
	// The ring timeout runs on the real clock: on a slow machine the
	// second ring may time out (and a third start) before the owner
	// handles the late answer. Whatever comes in between, the late answer
	// must cancel exactly the first ring, as stale, and never connect.
	latest := second
	for stale := false; !stale; {
		switch m := in.next(t).(type) {
		case *CancelRing:
			if m.Ring == first.Ring {
				if m.Reason != "stale" {
					t.Fatalf("first ring cancelled again, as %q", m.Reason)
				}
				stale = true
			}
		case *RingOperator:
			latest = m
		case *Connect:
			t.Fatalf("connected on the first ring's answer: %#v", m)
		}
	}
	o.RingAnswered("c1", "op1", latest.Ring)
	// The answered ring may also have timed out first: answer the newest.
	for {
		switch m := in.next(t).(type) {
		case *Connect:
			if m.Ring == first.Ring {
				t.Fatalf("connected on the first ring's answer: %#v", m)
			}
			return
		case *RingOperator:
			o.RingAnswered("c1", "op1", m.Ring)
		case *CancelRing:
			if m.Ring == first.Ring {
				t.Fatalf("the first ring cancelled twice: %#v", m)
			}
		}
	}
}

func TestOwnerUnreachableAndGoneCalls(t *testing.T) {
	o := startOwner(t, acd.ClientSettings{RingTimeout: time.Minute, MaxWait: 30 * time.Millisecond})
	in := newRecInbox()
	o.Enqueue(acd.Call{ID: "c1", ClientID: "acme"}, in)
	// No reachable operator: nothing rings; max wait overflows the call.
	if ov, ok := in.next(t).(*Overflow); !ok || ov.Reason != acd.ReasonMaxWait {
		t.Fatalf("got %#v, want Overflow max-wait", ov)
	}
	o.Leave("c1")
	// Reports about calls the owner no longer knows are harmless.
	o.RingAnswered("nope", "op1", 1)
	o.RingFailed("nope", "op1", 1, acd.Busy)
	o.Abandon("nope")
	o.SetReachable("PJSIP/unknown", true)
	o.SetOperators(nil)
	eventually(t, "operator removed", func() bool {
		s, _ := o.Snapshot(context.Background())
		return len(s.Operators) == 0
	})
}

func TestOwnerConsoleControls(t *testing.T) {
	o := startOwner(t, acd.ClientSettings{RingTimeout: time.Minute, WrapUp: time.Hour})
	o.SetReachable("PJSIP/op1", true)
	eventually(t, "available", func() bool { return state(t, o, "op1") == acd.Available })
	o.Pause("op1", "休憩")
	eventually(t, "paused", func() bool { return state(t, o, "op1") == acd.Paused })
	in := newRecInbox()
	o.Enqueue(acd.Call{ID: "c1", ClientID: "acme"}, in)
	o.SetAvailable("op1")
	ring, ok := in.next(t).(*RingOperator)
	if !ok {
		t.Fatal("an operator made available did not get the waiting call")
	}
	o.RingAnswered("c1", "op1", ring.Ring)
	in.next(t)
	o.CallEnded("c1")
	eventually(t, "wrap-up", func() bool { return state(t, o, "op1") == acd.WrapUp })
	o.ExtendWrapUp("op1", time.Minute)
	o.EndWrapUp("op1")
	eventually(t, "wrap-up ended early", func() bool { return state(t, o, "op1") == acd.Available })
	o.Logout("op1")
	eventually(t, "logged out of the console: out of routing", func() bool { return state(t, o, "op1") == acd.Offline })
}

func TestOwnerManualOperatorWaitsForConsole(t *testing.T) {
	o := runOwner(t, Options{Settings: func(string) acd.ClientSettings { return acd.ClientSettings{RingTimeout: time.Minute} }})
	o.SetOperators([]Operator{{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}, Manual: true}})
	o.SetReachable("PJSIP/op1", true)
	if got := state(t, o, "op1"); got != acd.Offline {
		t.Fatalf("a console operator became %v on registration, want offline until they log in", got)
	}
	o.SetAvailable("op1")
	eventually(t, "available after the console says so", func() bool { return state(t, o, "op1") == acd.Available })
}

// TestOwnerPhonesChangeHands: a reload gives a phone to another operator,
// or two operators swap phones; each phone's reachability then reaches
// the operator who has it now.
func TestOwnerPhonesChangeHands(t *testing.T) {
	reachable := func(t *testing.T, o *Owner) map[string]bool {
		t.Helper()
		s, err := o.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, op := range s.Operators {
			out[op.ID] = op.Reachable
		}
		return out
	}
	all := map[string]int{"*": 1}
	for _, tc := range []struct {
		name   string
		before []Operator
		after  []Operator
		// phones registered after the reload, and who must then be reachable
		register []string
		want     map[string]bool
	}{
		{"a phone passes to a new operator",
			[]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1001", Clients: all}},
			[]Operator{{ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: all}},
			[]string{"PJSIP/op1001"}, map[string]bool{"suzuki": true}},
		{"two operators swap phones",
			[]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1001", Clients: all}, {ID: "suzuki", Endpoint: "PJSIP/op1002", Clients: all}},
			[]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1002", Clients: all}, {ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: all}},
			[]string{"PJSIP/op1002"}, map[string]bool{"tanaka": true, "suzuki": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := runOwner(t, Options{Settings: func(string) acd.ClientSettings { return acd.ClientSettings{RingTimeout: time.Minute} }})
			o.SetOperators(tc.before)
			o.SetOperators(tc.after)
			for _, ep := range tc.register {
				o.SetReachable(ep, true)
			}
			eventually(t, "reachability of the phones' new owners", func() bool {
				got := reachable(t, o)
				for id, want := range tc.want {
					if got[id] != want {
						return false
					}
				}
				return true
			})
		})
	}
}

// TestOwnerPhonePassedMidCallIsBusy: a reload gives tanaka's phone, on
// which tanaka is still talking, to suzuki (who replaces tanaka, or who
// swaps phones with them). suzuki is not rung on it while that call goes
// on (the phone would answer busy, and three busy rings would auto-pause
// suzuki with nothing to bring them back: the phone stays registered);
// when the call ends (hung up, or the core not involved), suzuki is rung.
func TestOwnerPhonePassedMidCallIsBusy(t *testing.T) {
	all := map[string]int{"*": 1}
	for _, tc := range []struct {
		name  string
		after []Operator
		end   func(o *Owner)
	}{
		{"suzuki replaces tanaka", []Operator{{ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: all}},
			func(o *Owner) { o.CallEnded("c1") }},
		{"tanaka moves to another phone", []Operator{{ID: "tanaka", Endpoint: "PJSIP/op1002", Clients: all}, {ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: all}},
			func(o *Owner) { o.CallEnded("c1") }},
		{"the call ends without the core", []Operator{{ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: all}},
			func(o *Owner) { o.Leave("c1") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := runOwner(t, Options{Settings: func(string) acd.ClientSettings {
				return acd.ClientSettings{RingTimeout: time.Minute, AutoPauseAfter: 1}
			}})
			o.SetOperators([]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1001", Clients: all}})
			o.SetReachable("PJSIP/op1001", true)
			in1 := newRecInbox()
			o.Enqueue(acd.Call{ID: "c1", ClientID: "acme"}, in1)
			r := in1.next(t).(*RingOperator)
			o.RingAnswered("c1", "tanaka", r.Ring)
			if _, ok := in1.next(t).(*Connect); !ok {
				t.Fatal("c1 not connected to tanaka")
			}

			o.SetOperators(tc.after)
			in2 := newRecInbox()
			o.Enqueue(acd.Call{ID: "c2", ClientID: "acme"}, in2)
			if s := state(t, o, "suzuki"); s != acd.Offline { // the owner has handled all of the above
				t.Fatalf("suzuki is %v on a phone still in tanaka's call, want offline", s)
			}
			in2.mu.Lock()
			got := len(in2.got)
			in2.mu.Unlock()
			if got != 0 {
				t.Fatalf("c2 was sent %v while the phone is in c1", in2.got)
			}

			tc.end(o)
			ring, ok := in2.next(t).(*RingOperator)
			if !ok || ring.OpID != "suzuki" || ring.Endpoint != "PJSIP/op1001" {
				t.Fatalf("after c1 ended, c2 got %+v, want a ring of suzuki on PJSIP/op1001", ring)
			}
		})
	}
}

// TestOwnerPhoneInUseFollowsTheLeg: the phone a call is on is the one the
// operator was rung on, or (a restart) the one their leg was found on,
// not the one the configuration gives them now. A reload during the ring
// (tanaka rung on op1001, then given op1002; suzuki given op1001), or a
// restart after the operators were edited, leaves op1001 in tanaka's
// call: suzuki is not rung on it until the call ends.
func TestOwnerPhoneInUseFollowsTheLeg(t *testing.T) {
	all := map[string]int{"*": 1}
	swapped := []Operator{{ID: "tanaka", Endpoint: "PJSIP/op1002", Clients: all}, {ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: all}}
	for _, tc := range []struct {
		name    string
		connect func(t *testing.T, o *Owner)
	}{
		{"reloaded during the ring", func(t *testing.T, o *Owner) {
			o.SetOperators([]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1001", Clients: all}})
			o.SetReachable("PJSIP/op1001", true)
			o.SetReachable("PJSIP/op1002", true) // tanaka's next phone: the ring goes on
			in1 := newRecInbox()
			o.Enqueue(acd.Call{ID: "c1", ClientID: "acme"}, in1)
			r := in1.next(t).(*RingOperator)
			o.SetOperators(swapped)
			o.RingAnswered("c1", "tanaka", r.Ring)
			if _, ok := in1.next(t).(*Connect); !ok {
				t.Fatal("c1 not connected to tanaka")
			}
		}},
		{"re-adopted after a restart", func(t *testing.T, o *Owner) {
			o.SetOperators(swapped)
			o.SetReachable("PJSIP/op1001", true)
			o.SetReachable("PJSIP/op1002", true)
			eventually(t, "suzuki available", func() bool { return state(t, o, "suzuki") == acd.Available })
			o.Occupy("c1", "acme", "tanaka", "PJSIP/op1001")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := runOwner(t, Options{Settings: func(string) acd.ClientSettings { return acd.ClientSettings{RingTimeout: time.Minute} }})
			tc.connect(t, o)
			in2 := newRecInbox()
			o.Enqueue(acd.Call{ID: "c2", ClientID: "acme"}, in2)
			_ = state(t, o, "suzuki") // the owner has handled all of the above
			in2.mu.Lock()
			got := len(in2.got)
			in2.mu.Unlock()
			if got != 0 {
				t.Fatalf("c2 was sent %v while PJSIP/op1001 is in c1", in2.got)
			}
			o.CallEnded("c1")
			if _, ok := in2.next(t).(*RingOperator); !ok {
				t.Fatal("after c1 ended, c2 was not rung")
			}
			s, err := o.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range s.Operators {
				if op.ID == "suzuki" && !op.Reachable {
					t.Fatal("after c1 ended, suzuki on PJSIP/op1001 is still unreachable")
				}
			}
		})
	}
}

// TestOwnerPhoneRingingForAnotherIsBusy: a reload gives the phone that
// rings for tanaka (op1001) to suzuki, tanaka taking op1002: suzuki is not
// rung on op1001 while it rings for tanaka, and is once that ring ends.
// If tanaka is removed instead, the ring is cancelled and op1001 is free
// for suzuki at once.
func TestOwnerPhoneRingingForAnotherIsBusy(t *testing.T) {
	all := map[string]int{"*": 1}
	start := func(t *testing.T) (*Owner, *recInbox, *RingOperator) {
		o := runOwner(t, Options{Settings: func(string) acd.ClientSettings { return acd.ClientSettings{RingTimeout: time.Minute} }})
		o.SetOperators([]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1001", Clients: all}})
		o.SetReachable("PJSIP/op1001", true)
		o.SetReachable("PJSIP/op1002", true)
		in1 := newRecInbox()
		o.Enqueue(acd.Call{ID: "c1", ClientID: "acme"}, in1)
		return o, in1, in1.next(t).(*RingOperator)
	}
	t.Run("tanaka moves to another phone", func(t *testing.T) {
		o, _, r := start(t)
		o.SetOperators([]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1002", Clients: all}, {ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: all}})
		if reachableOp(t, o, "suzuki") {
			t.Fatal("suzuki reachable on PJSIP/op1001 while it rings for tanaka")
		}
		o.RingFailed("c1", "tanaka", r.Ring, acd.NoAnswer)
		eventually(t, "suzuki reachable once the ring ended", func() bool { return reachableOp(t, o, "suzuki") })
	})
	t.Run("tanaka removed", func(t *testing.T) {
		o, in1, _ := start(t)
		o.SetOperators([]Operator{{ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: all}})
		if _, ok := in1.next(t).(*CancelRing); !ok {
			t.Fatal("tanaka's ring not cancelled")
		}
		ring, ok := in1.next(t).(*RingOperator)
		if !ok || ring.OpID != "suzuki" || ring.Endpoint != "PJSIP/op1001" {
			t.Fatalf("c1 then got %+v; want a ring of suzuki on PJSIP/op1001", ring)
		}
	})
}

// TestOwnerPhonesSwappedWhileBothRing: tanaka's phone rings for c1 and
// suzuki's for c2 when a reload swaps the phones: both rings go on (the
// check that keeps a phone ringing for one operator from the other must
// not cancel the rings themselves); once they end, each operator is
// reachable on the phone that is theirs now.
func TestOwnerPhonesSwappedWhileBothRing(t *testing.T) {
	all := map[string]int{"*": 1}
	o := runOwner(t, Options{Settings: func(string) acd.ClientSettings { return acd.ClientSettings{RingTimeout: time.Minute} }})
	o.SetOperators([]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1001", Clients: all}, {ID: "suzuki", Endpoint: "PJSIP/op1002", Clients: all}})
	o.SetReachable("PJSIP/op1001", true)
	o.SetReachable("PJSIP/op1002", true)
	in1, in2 := newRecInbox(), newRecInbox()
	o.Enqueue(acd.Call{ID: "c1", ClientID: "acme"}, in1)
	o.Enqueue(acd.Call{ID: "c2", ClientID: "acme"}, in2)
	r1, r2 := in1.next(t).(*RingOperator), in2.next(t).(*RingOperator)
	o.SetOperators([]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1002", Clients: all}, {ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: all}})
	for _, id := range []string{"tanaka", "suzuki"} {
		if s := state(t, o, id); s != acd.Ringing {
			t.Fatalf("%s is %v after the swap, want still ringing", id, s)
		}
	}
	for _, in := range []*recInbox{in1, in2} {
		in.mu.Lock()
		got := len(in.got)
		in.mu.Unlock()
		if got != 0 {
			t.Fatalf("a ring was cancelled by the swap: %v", in.got)
		}
	}
	o.RingAnswered("c1", r1.OpID, r1.Ring)
	o.RingAnswered("c2", r2.OpID, r2.Ring)
	o.CallEnded("c1")
	o.CallEnded("c2")
	eventually(t, "both reachable on their new phones", func() bool {
		s, err := o.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, op := range s.Operators {
			if op.Reachable {
				n++
			}
		}
		return n == 2
	})
}

// TestOwnerWrapUpHeldForUnsavedMessage: through the owner, a call whose
// message was shown and not saved keeps its operator in wrap-up past
// WrapUp (the snapshot says held, and the console is told when the hold
// starts), and saving it frees them.
func TestOwnerWrapUpHeldForUnsavedMessage(t *testing.T) {
	changes := make(chan acd.OperatorStateChanged, 16)
	o := runOwner(t, Options{Settings: func(string) acd.ClientSettings {
		return acd.ClientSettings{RingTimeout: time.Minute, WrapUp: 10 * time.Millisecond, WrapUpHold: time.Hour}
	}, OnOperatorChange: func(c acd.OperatorStateChanged) { changes <- c }})
	o.SetOperators([]Operator{{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}}})
	o.SetReachable("PJSIP/op1", true)
	eventually(t, "available", func() bool { return state(t, o, "op1") == acd.Available })
	in := newRecInbox()
	o.Enqueue(acd.Call{ID: "c1", ClientID: "acme", EnqueuedAt: time.Now()}, in)
	ring := in.next(t).(*RingOperator)
	o.RingAnswered("c1", "op1", ring.Ring)
	in.next(t)
	o.HoldWrapUp("op1", "c1")
	o.CallEnded("c1")
	eventually(t, "wrap-up held past its 10 ms", func() bool {
		s, err := o.Snapshot(context.Background())
		return err == nil && len(s.Operators) == 1 && s.Operators[0].State == acd.WrapUp && s.Operators[0].WrapUpHeld
	})
	for told := false; !told; {
		select {
		case c := <-changes:
			told = c.From == acd.WrapUp && c.To == acd.WrapUp && c.Reason == acd.ReasonMessageUnsaved
		case <-time.After(5 * time.Second):
			t.Fatal("the hold's start was not reported (the console would not show it)")
		}
	}
	o.ReleaseWrapUp("op1", "c1")
	eventually(t, "available once the message is saved", func() bool { return state(t, o, "op1") == acd.Available })
}

// TestOwnerHoldAfterTheSaveHoldsNothing: the message is saved during the
// call, and a hold the console decided before the save (its state read
// took the call's pop unsaved) arrives after it: after the hang-up the
// operator's wrap-up runs its 10 ms and ends, not held for the hour of
// WrapUpHold for a message that is saved.
func TestOwnerHoldAfterTheSaveHoldsNothing(t *testing.T) {
	o := runOwner(t, Options{Settings: func(string) acd.ClientSettings {
		return acd.ClientSettings{RingTimeout: time.Minute, WrapUp: 10 * time.Millisecond, WrapUpHold: time.Hour}
	}})
	o.SetOperators([]Operator{{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}}})
	o.SetReachable("PJSIP/op1", true)
	eventually(t, "available", func() bool { return state(t, o, "op1") == acd.Available })
	in := newRecInbox()
	o.Enqueue(acd.Call{ID: "c1", ClientID: "acme", EnqueuedAt: time.Now()}, in)
	ring := in.next(t).(*RingOperator)
	o.RingAnswered("c1", "op1", ring.Ring)
	in.next(t)
	o.HoldWrapUp("op1", "c1")    // the pop reached the console
	o.ReleaseWrapUp("op1", "c1") // the message saved during the call
	o.HoldWrapUp("op1", "c1")    // the state read that took the pop before the save
	o.CallEnded("c1")
	eventually(t, "available after the 10 ms wrap-up", func() bool { return state(t, o, "op1") == acd.Available })
}

// TestReloadDoesNotRingAPhoneInUse: suzuki talks on PJSIP/op1002. A
// reload gives that phone to tanaka (the two swap phones) and lets tanaka
// serve beta, whose caller waits. tanaka is not rung on PJSIP/op1002
// while suzuki's call is on it.
func TestReloadDoesNotRingAPhoneInUse(t *testing.T) {
	o := runOwner(t, Options{Settings: func(string) acd.ClientSettings { return acd.ClientSettings{RingTimeout: time.Minute} }})
	acme, both := map[string]int{"acme": 1}, map[string]int{"acme": 1, "beta": 1}
	o.SetOperators([]Operator{{ID: "suzuki", Endpoint: "PJSIP/op1002", Clients: acme}})
	o.SetReachable("PJSIP/op1002", true)
	in1 := newRecInbox()
	o.Enqueue(acd.Call{ID: "c1", ClientID: "acme", EnqueuedAt: time.Now()}, in1)
	r := in1.next(t).(*RingOperator)
	o.RingAnswered("c1", "suzuki", r.Ring)
	in1.next(t) // Connect: suzuki talks on PJSIP/op1002
	o.SetOperators([]Operator{{ID: "suzuki", Endpoint: "PJSIP/op1002", Clients: acme}, {ID: "tanaka", Endpoint: "PJSIP/op1001", Clients: acme}})
	o.SetReachable("PJSIP/op1001", true)
	eventually(t, "tanaka available", func() bool { return state(t, o, "tanaka") == acd.Available })
	in2 := newRecInbox()
	o.Enqueue(acd.Call{ID: "c2", ClientID: "beta", EnqueuedAt: time.Now()}, in2) // nobody serves beta yet
	o.SetOperators([]Operator{{ID: "tanaka", Endpoint: "PJSIP/op1002", Clients: both}, {ID: "suzuki", Endpoint: "PJSIP/op1001", Clients: acme}})
	s, err := o.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range s.Operators {
		if op.ID == "tanaka" && op.Reachable {
			t.Errorf("tanaka is reachable on a phone carrying suzuki's call")
		}
	}
	select { // a ring decided by the reload would be on its way
	case <-in2.new:
	case <-time.After(200 * time.Millisecond):
	}
	in2.mu.Lock()
	defer in2.mu.Unlock()
	for _, m := range in2.got {
		if ring, ok := m.(*RingOperator); ok {
			t.Fatalf("beta's caller rang %s on %s, the phone carrying suzuki's call", ring.OpID, ring.Endpoint)
		}
	}
}

// stepClock is a Clock whose Now a test sets; its timers are real, armed
// for the difference.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) NewTimer(d time.Duration) *time.Timer { return time.NewTimer(d) }

func (c *stepClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// TestOwnerAnswerWaitingAsTheRingTimesOut: the operator's answer is in the
// owner's inbox when their ring's timeout falls due (a busy machine, the
// answer at the timeout's edge). The owner picked at random between the
// two: half the time it cancelled the ring, hung up an operator who had
// answered and counted a no-answer against them (a review). The answer
// waiting goes first.
func TestOwnerAnswerWaitingAsTheRingTimesOut(t *testing.T) {
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for i := range 30 {
		clock := &stepClock{now: base}
		o := runOwner(t, Options{Clock: clock, Settings: func(string) acd.ClientSettings {
			return acd.ClientSettings{RingTimeout: 15 * time.Second}
		}})
		o.SetOperators([]Operator{{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}}})
		o.SetReachable("PJSIP/op1", true)
		in := newRecInbox()
		o.Enqueue(acd.Call{ID: "c1", ClientID: "acme", EnqueuedAt: base}, in)
		ring, ok := in.next(t).(*RingOperator)
		if !ok {
			t.Fatal("want a ring")
		}
		release := make(chan struct{})
		o.do(func() { <-release }) // the owner busy
		clock.set(base.Add(16 * time.Second))
		o.RingAnswered("c1", "op1", ring.Ring) // waits in the inbox
		close(release)
		if c, ok := in.next(t).(*Connect); !ok || c.OpID != "op1" {
			t.Fatalf("round %d: after an answer waiting as the ring timed out got %#v, want Connect op1", i, c)
		}
	}
}

// TestOwnerStoppedTakesNoMore: once Run has returned (a stop), reports
// from call actors still running are dropped instead of blocking them on
// the full input for ever (which held the controller's stop up: it waits
// for every call actor), and Snapshot says the queue stopped.
func TestOwnerStoppedTakesNoMore(t *testing.T) {
	o := New(Options{Settings: func(string) acd.ClientSettings { return acd.ClientSettings{} }})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); o.Run(ctx) }()
	o.SetOperators([]Operator{{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}}})
	cancel()
	<-ran
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		// More than the input holds (1024).
		for i := range 3000 {
			id := fmt.Sprintf("c%d", i)
			o.Enqueue(acd.Call{ID: id, ClientID: "acme"}, newRecInbox())
			o.RingLegGone(id, "op1", 1)
			o.Abandon(id)
		}
	}()
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("reports to a stopped queue still blocked after 10 s")
	}
	if _, err := o.Snapshot(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Snapshot of a stopped queue = %v, want ErrStopped", err)
	}
}
