package controller_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestRingbackOperatorHangsUpAsTheBridgeIsMade: a ringback caller,
// answered when op1001 answered (ug kept), is being bridged as op1001
// hangs up. They must be greeted, then put back in line at their place,
// and put through to op1002.
func TestRingbackOperatorHangsUpAsTheBridgeIsMade(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n    answer_mode: ringback\n    ringback_max: 1h\n", 1))
	h.fake.AddEndpoint("PJSIP/op1001", true, talks)
	h.fake.AddEndpoint("PJSIP/op1002", true, talks)
	h.fake.AddSound("toritsugi/line-noise", time.Minute)
	raced := h.raceTheAdd(func() string { return h.operatorLeg(h.firstRingOp()) })
	h.start()
	h.eventually("operators available", func() bool {
		return h.operatorState("op1001") == acd.Available && h.operatorState("op1002") == acd.Available
	})
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	ev := fmt.Sprint(rec.Events)
	if !raced.Load() || !strings.Contains(ev, "as the bridge was made: back in line") {
		t.Fatalf("no race: %v", ev)
	}
	back := strings.Index(ev, "back in line")
	if g := strings.Index(ev[back:], "playing sound:toritsugi/acme-greeting"); g < 0 {
		t.Fatalf("not greeted after going back in line: %v", ev)
	}
	if rec.Result != store.ResultAnswered || !rec.Billable {
		t.Fatalf("%s (%s): %v", rec.Result, rec.Reason, ev)
	}
}

func (h *harness) firstRingOp() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.rings) == 0 {
		return ""
	}
	return h.rings[0].OpID
}

// TestRingbackCallerKeepsPlaceWhileGreetedAgain: ringback caller A is
// answered when op1001 answers; op1001 hangs up during the whisper. A
// (ug: never greeted) is greeted and "goes back in line at their place";
// meanwhile B, who called after A, waits. op1001 (no wrap-up) is free at
// once: the next ring must be for A, the older caller, not for B.
func TestRingbackCallerKeepsPlaceWhileGreetedAgain(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    answer_mode: ringback\n    ringback_max: 1h\n", 1))
	h.fake.AddSound("beep", 5*time.Second)                     // the whisper
	h.fake.AddSound("toritsugi/acme-greeting", 20*time.Second) // 0.2 s of test time
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 2 * time.Second})
	a := h.call("0312345678", "0901234567")
	h.eventually("op1001 answered A", func() bool { return whisperPlayed(h) })
	b := h.call("0312345678", "0907654321")
	h.eventually("A's operator lost, a second ring", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.rings) >= 2
	})
	h.mu.Lock()
	second := h.rings[1]
	h.mu.Unlock()
	if second.CallID != a {
		t.Fatalf("after A's operator left, op1001 was rung for %s (B: %s), not for A (%s), who called first and was being greeted out of line", second.CallID, b, a)
	}
}
