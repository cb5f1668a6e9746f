package controller_test

// Operators' phones: which are rung and when (unregistered, refusing,
// unanswered, on a call of their own).

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestOperatorRungAgainAfterAsteriskRefuses: Asterisk refuses originates to
// the only registered operator's phone.
//   - 500, as when it cannot create the channel: the operator is taken out
//     of routing, but not for good: their phone is read again, found
//     online, and rung for the caller, who would otherwise wait while the
//     operator sits available.
//   - 503, twice (overloaded: not the operator's doing): with
//     auto_pause_after: 2, counting them as unanswered rings would pause
//     the operator and strand the caller; the operator rests a moment
//     after each and is rung again.
func TestOperatorRungAgainAfterAsteriskRefuses(t *testing.T) {
	for _, tc := range []struct {
		name           string
		status, refuse int
	}{
		{"cannot create the channel", http.StatusInternalServerError, 1},
		{"overloaded", http.StatusServiceUnavailable, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, oneClient)
			// Talks long enough (0.3 s) to be bridged however loaded the
			// machine: hanging up before the bridge would ring again.
			h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 30 * time.Second})
			h.recheckAfter = 50 * time.Millisecond
			var originates atomic.Int32
			h.failThroughWith(tc.status, func(r *http.Request) bool {
				return r.Method == http.MethodPost && r.URL.Path == "/ari/channels" && originates.Add(1) <= int32(tc.refuse)
			})
			h.start()
			h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
			id := h.call("0312345678", "0901234567")
			if rec := h.record(id); rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
				t.Fatalf("record %s (%s) op %q, want answered by op1001", rec.Result, rec.Reason, rec.OperatorID)
			}
			if n := originates.Load(); n != int32(tc.refuse)+1 {
				t.Fatalf("%d originates, want the %d refused and one more", n, tc.refuse)
			}
		})
	}
}

func TestUnregisteredOperatorIsNeverRung(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "max_wait: 5m", "max_wait: 300ms", 1))
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.start()
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if rec.Result != store.ResultOverflow || rec.Billable {
		t.Fatalf("record %s (%s) billable %v, want a non-billable overflow", rec.Result, rec.Reason, rec.Billable)
	}
	if og := h.originates(); len(og) != 0 {
		t.Fatalf("rang unregistered phones: %+v", og)
	}
}

func TestRingNoAnswerMovesOnAndAutoPauses(t *testing.T) {
	h := newHarness(t, oneClient)
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	id := h.call("0312345678", "0901234567")
	// op1001 alone: rung twice without answer → auto-paused (auto_pause_after: 2).
	h.eventually("op1001 auto-paused", func() bool { return h.operatorState("op1001") == acd.Paused })
	for _, op := range h.snapshot().Operators {
		if op.ID == "op1001" && op.PauseReason != acd.ReasonNoAnswer {
			t.Fatalf("pause reason %q, want %q", op.PauseReason, acd.ReasonNoAnswer)
		}
	}
	if err := h.fake.Register("PJSIP/op1002"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.OperatorID != "op1002" {
		t.Fatalf("record %s by %q, want answered by op1002", rec.Result, rec.OperatorID)
	}
	og := h.originates()
	if len(og) != 3 || og[0].Endpoint != "PJSIP/op1001" || og[1].Endpoint != "PJSIP/op1001" || og[2].Endpoint != "PJSIP/op1002" {
		t.Fatalf("originates %+v, want op1001 twice then op1002", og)
	}
}

// TestNetworkBlipKeepsTheAutoPause: an operator without the console is
// auto-paused for unanswered rings (away from the desk); their phone's
// network drops for a moment (Asterisk's qualify gets no answer, then one
// again: the contact stays registered). That is nobody back at the desk:
// the pause stays and the waiting caller is not rung to them again. The
// phone registering again (the operator restarted the softphone, their
// way of saying they are back) ends it.
func TestNetworkBlipKeepsTheAutoPause(t *testing.T) {
	h := newHarness(t, oneClient)
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	id := h.call("0312345678", "0901234567")
	h.eventually("op1001 auto-paused", func() bool { return h.operatorState("op1001") == acd.Paused })
	for _, reachable := range []bool{false, true} {
		if err := h.fake.Qualify("PJSIP/op1001", reachable); err != nil {
			t.Fatal(err)
		}
		h.eventually(fmt.Sprintf("op1001 reachable %v", reachable), func() bool { r, _ := h.phoneState("op1001"); return r == reachable })
	}
	time.Sleep(100 * time.Millisecond)
	if st, og := h.operatorState("op1001"), h.originates(); st != acd.Paused || len(og) != 2 {
		t.Fatalf("after the blip op1001 is %v, %d rings; want still paused, the 2 rings before", st, len(og))
	}
	if err := h.fake.Unregister("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	if err := h.fake.SetEndpointBehavior("PJSIP/op1001", aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(id); rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("record %s (%s) op %q, want answered by op1001 once registered again", rec.Result, rec.Reason, rec.OperatorID)
	}
}

// TestRefusingPhoneRests: an operator's softphone on do-not-disturb
// answers every ring 486 (or 480) at once. With auto-pause off it was rung again at
// once, as fast as it refused, for as long as the caller waited; it now
// rests acd.BusyRest after each refusal (app_queue's retry), then rings
// again, and the caller is answered once the operator takes calls again.
func TestRefusingPhoneRests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer aritest.Answer
	}{{"486", aritest.Busy}, {"480", aritest.Unavailable}} {
		t.Run(tc.name, func(t *testing.T) { refusingPhoneRests(t, tc.answer) })
	}
}

// refusingPhoneRests is TestRefusingPhoneRests with a phone refusing as
// answer says: 486, or 480 (cause 19, as Asterisk's own dial timeout, but
// at once).
func refusingPhoneRests(t *testing.T, answer aritest.Answer) {
	h := newHarness(t, strings.Replace(oneClient, "auto_pause_after: 2", "auto_pause_after: 0", 1))
	h.startOp1001(aritest.EndpointBehavior{Answer: answer})
	id := h.call("0312345678", "0901234567")
	h.eventually("the first ring refused", func() bool {
		return len(h.originates()) == 1 && h.operatorState("op1001") == acd.Available
	})
	refused := time.Now()
	time.Sleep(time.Second) // 100 s in Asterisk's time: a loop would ring hundreds of times
	if og := h.originates(); len(og) != 1 {
		t.Fatalf("%d rings in a second of a phone refusing at once, want 1", len(og))
	}
	if err := h.fake.SetEndpointBehavior("PJSIP/op1001", aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("record %s (%s) op %q, want answered by op1001", rec.Result, rec.Reason, rec.OperatorID)
	}
	if og := h.originates(); len(og) != 2 {
		t.Fatalf("originates %+v, want the refused ring and one after the rest", og)
	}
	if d := time.Since(refused); d < acd.BusyRest-time.Second {
		t.Fatalf("rung again %v after the refusal, want after a rest of %v", d, acd.BusyRest)
	}
}

// TestOperatorOnAnotherCallIsNotRung: op1001 calls a customer back from
// their softphone. Rung for a caller meanwhile, the phone would ring (or
// answer 486) in the middle of that call and count towards auto-pause; it
// is not rung until that call ends (Asterisk's EndpointStateChange lists
// its channel), then rung for the caller who waited. Should the end raise
// no event (lost, or an Asterisk that sends none), the phone is read
// again while it has another call.
func TestOperatorOnAnotherCallIsNotRung(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quiet bool
	}{{"its end seen", false}, {"its end unseen", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessFake(t, oneClient, aritest.Options{QuietChannelEnd: tc.quiet})
			h.otherCallRead = 100 * time.Millisecond
			h.startOp1001(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 30 * time.Second})
			own := h.ownCall("op1001", "0901234567")
			id := h.call("0312345678", "0901234567")
			h.eventually("the caller waiting", func() bool { return len(h.waiting("acme")) == 1 })
			time.Sleep(500 * time.Millisecond) // 50 s in Asterisk's time
			if n := h.ringsOf("op1001"); n != 0 {
				t.Fatalf("the queue rang an operator on another call %d times", n)
			}
			if err := h.fake.RemoteHangup(own); err != nil {
				t.Fatal(err)
			}
			rec := h.record(id)
			if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
				t.Fatalf("record %s (%s) op %q, want answered by op1001", rec.Result, rec.Reason, rec.OperatorID)
			}
		})
	}
}

// TestOtherCallEndsAsThePhoneGoes: one change both ends an operator's own
// call and takes their phone away (it unregisters after an end Asterisk
// raised no event for; a reload gives the operator another phone during
// that call). The phone must not ring for a waiting caller in between.
func TestOtherCallEndsAsThePhoneGoes(t *testing.T) {
	for _, tc := range []struct {
		name string
		gone func(h *harness, own string)
	}{
		{"unregistered after an end unseen", func(h *harness, own string) {
			if err := h.fake.RemoteHangup(own); err != nil {
				h.t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
			if err := h.fake.Unregister("PJSIP/op1001"); err != nil {
				h.t.Fatal(err)
			}
		}},
		{"another phone by a reload", func(h *harness, own string) {
			full := fmt.Sprintf("ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s", h.cfg.ARI.URL,
				strings.Replace(oneClient, "endpoint: PJSIP/op1001,", "endpoint: PJSIP/op1001b,", 1))
			cfg, err := config.Parse("test.yaml", []byte(full), nil)
			if err != nil {
				h.t.Fatal(err)
			}
			h.updates <- cfg
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessFake(t, oneClient, aritest.Options{QuietChannelEnd: true})
			h.otherCallRead = time.Hour
			h.updates = make(chan *config.Config, 1)
			h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
			h.fake.AddEndpoint("PJSIP/op1001b", false, answers)
			h.fake.AddEndpoint("PJSIP/op1002", false, answers)
			h.start()
			h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
			own := h.ownCall("op1001", "0901234567")
			h.call("0312345678", "0901234567")
			h.eventually("the caller waiting", func() bool { return len(h.waiting("acme")) == 1 })
			tc.gone(h, own)
			// Both changes taken in: op1001's phone away (the new one is
			// not registered) and its call over.
			h.eventually("op1001's phone gone, its call over", func() bool {
				reachable, other := h.phoneState("op1001")
				return !reachable && !other
			})
			if n := h.ringsOf("op1001"); n != 0 {
				t.Fatalf("the queue rang op1001 %d times as the phone went", n)
			}
		})
	}
}

// TestOtherCallLeavesAnAutoPauseAlone: an operator without the console,
// auto-paused for unanswered rings, is made available again only by
// registering their phone. A call on that phone (a colleague dialling
// their extension) is no registration: it used to end the pause and ring
// the phone over that call.
func TestOtherCallLeavesAnAutoPauseAlone(t *testing.T) {
	h := newHarness(t, oneClient)
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.call("0312345678", "0901234567")
	h.eventually("op1001 auto-paused", func() bool { return h.operatorState("op1001") == acd.Paused })
	rung := len(h.originates())
	own := h.ownCall("op1001", "1002")
	if err := h.fake.RemoteHangup(own); err != nil {
		t.Fatal(err)
	}
	h.eventually("the other call over", func() bool { return !h.onOtherCall("op1001") })
	time.Sleep(100 * time.Millisecond)
	if st := h.operatorState("op1001"); st != acd.Paused {
		t.Fatalf("op1001 %s after a call on their phone, want still paused", st)
	}
	if n := len(h.originates()); n != rung {
		t.Fatalf("%d more rings of a paused operator", n-rung)
	}
}

// TestReloadDuringTheConnectsPhoneRead: a reload adds op1003 while the
// link's connect is reading the phones (a list taken before the reload),
// before the link says it is up. The read after the reload must still
// happen (a version that skipped it while the link was down left op1003
// unsubscribed and unread: never available).
func TestReloadDuringTheConnectsPhoneRead(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.fake.AddEndpoint("PJSIP/op1003", true, answers)
	h.recheckAfter = 50 * time.Millisecond
	h.updates = make(chan *config.Config, 1)
	var cfg *config.Config
	var once atomic.Bool
	h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/endpoints/PJSIP/op1001") && once.CompareAndSwap(false, true) {
			// The connect hook is reading phones; a SIGHUP reload arrives.
			h.reload(cfg)
			time.Sleep(200 * time.Millisecond) // apply + readPhones (link not Up yet)
		}
		return false
	})
	full := fmt.Sprintf("ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s", h.cfg.ARI.URL,
		strings.Replace(oneClient, "operators:\n", "operators:\n  - {id: op1003, name: 高橋, endpoint: PJSIP/op1003, clients: [\"*\"]}\n", 1))
	var err error
	if cfg, err = config.Parse("test.yaml", []byte(full), nil); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.eventually("op1003 (added by a reload during the connect hook) available", func() bool {
		return once.Load() && h.operatorState("op1003") == acd.Available
	})
}

// TestOperatorRemovedAndAddedBackIsReachable: a reload removes op1002,
// whose phone is registered, and the next adds it back with the same
// phone. The queue forgets a phone no operator has; the registry tracks
// it afresh and reads it, so op1002 is available again without waiting
// for its phone's next event.
func TestOperatorRemovedAndAddedBackIsReachable(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", true, answers)
	h.updates = make(chan *config.Config, 1)
	parse := func(body string) *config.Config {
		full := fmt.Sprintf("ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s", h.cfg.ARI.URL, body)
		cfg, err := config.Parse("test.yaml", []byte(full), nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	without := parse(strings.Replace(oneClient, "  - {id: op1002, name: 鈴木, endpoint: PJSIP/op1002, clients: [\"*\"]}\n", "", 1))
	h.start()
	h.eventually("op1002 available", func() bool { return h.operatorState("op1002") == acd.Available })
	h.reload(without)
	h.eventually("op1002 removed", func() bool {
		for _, op := range h.snapshot().Operators {
			if op.ID == "op1002" {
				return false
			}
		}
		return true
	})
	h.reload(parse(oneClient))
	h.eventually("op1002 added back, available", func() bool {
		reachable, _ := h.phoneState("op1002")
		return reachable && h.operatorState("op1002") == acd.Available
	})
}
