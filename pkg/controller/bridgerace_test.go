package controller_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// talks: the softphone answers after 1 s and talks 60 s (0.6 s of test
// time): only the race hangs a leg up before the bridge, not its own
// talk ending on a loaded machine.
var talks = aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 60 * time.Second}

// TestPeerHangsUpAsTheBridgeIsMade: the operator (or, for a VIP, the
// client's phone) hangs up at the moment the caller and they are bridged.
// Asterisk answers the add 204 and adds nothing (the leg's Stasis thread
// was busy, then the hangup dropped the queued add: res_stasis
// control_flush_queue), so no ChannelEnteredBridge comes for the leg. The
// caller never heard them: they go back in line and are put through to an
// operator, instead of being hung up with the call billed as answered (or
// transferred). The recording of the caller alone is discarded.
func TestPeerHangsUpAsTheBridgeIsMade(t *testing.T) {
	for _, tc := range []struct {
		name, config, caller, note string
		phones                     []string
		leg                        func(h *harness) string
	}{
		{"operator", oneClient, "0901234567", "op1001 hung up as the bridge was made: back in line", []string{"op1001", "op1002"},
			func(h *harness) string { return h.operatorLeg("op1001") }},
		{"client's phone", strings.Replace(vipClient, "    transfer_timeout: 5s\n", "    transfer_timeout: 5s\n    record: true\n", 1),
			"09011111111", "the client hung up as the bridge was made: back in line", []string{"op1001"},
			func(h *harness) string {
				for _, c := range h.fake.Channels() {
					if strings.Contains(c.ID, "-tx-") {
						return c.ID
					}
				}
				return ""
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.config)
			for _, op := range tc.phones {
				h.fake.AddEndpoint("PJSIP/"+op, true, talks)
			}
			h.fake.SetRemoteNumber("0399990000", clientTalks)
			h.fake.AddSound("toritsugi/line-noise", time.Minute)
			raced := h.raceTheAdd(func() string { return tc.leg(h) })
			h.start()
			h.eventually("operators available", func() bool {
				for _, op := range tc.phones {
					if h.operatorState(op) != acd.Available {
						return false
					}
				}
				return true
			})
			id := h.call("0312345678", tc.caller)
			rec := h.record(id)
			events := fmt.Sprint(rec.Events)
			if !raced.Load() || !strings.Contains(events, tc.note) {
				t.Fatalf("no race, or not seen: %s (%s); events %v", rec.Result, rec.Reason, events)
			}
			if rec.Result != store.ResultAnswered || !strings.Contains(rec.Reason, "talked with") || !strings.Contains(events, "bridged with op") {
				t.Fatalf("%s (%s), want answered by the operator the caller was put through to next; events %v", rec.Result, rec.Reason, events)
			}
			var back time.Time
			for _, e := range rec.Events {
				if strings.Contains(e.What, "back in line") {
					back = e.At
				}
			}
			if rec.Recording == "" || !rec.BridgedAt.After(back) {
				t.Fatalf("recording %q bridged at %v: want the bridge made after going back in line (%v)", rec.Recording, rec.BridgedAt, back)
			}
			// The first bridge's recording (the caller alone) was
			// discarded: one conversation, one stored recording.
			h.eventually("one stored recording", func() bool {
				keys, err := h.last.c.Link.Client().StoredRecording().List(nil)
				return err == nil && len(keys) == 1
			})
			// Only the operator who talked got the call on screen (and
			// the wrap-up held for its message).
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.connected) != 1 || h.connected[0].OperatorID != rec.OperatorID {
				t.Fatalf("screen pops %+v; want one, for %s", h.connected, rec.OperatorID)
			}
		})
	}
}

// TestCallerHangsUpAsTheBridgeIsMade: the caller hangs up at the moment
// they and the operator are bridged: Asterisk adds the operator, answers
// 204, and never adds the caller. Nobody talked with them: the call is a
// missed call (abandoned), not billed as answered.
//
// With Asterisk's hangup stages (the caller's hangup requested, still in
// the application, when the add runs: Asterisk goes on past its failed
// add and adds the operator), the operator's leg enters the bridge after
// the caller's hangup was seen: the operator gets no screen pop for a
// caller who is gone.
func TestCallerHangsUpAsTheBridgeIsMade(t *testing.T) {
	for _, window := range []time.Duration{0, 5 * time.Second} {
		t.Run(fmt.Sprint("hangup window ", window), func(t *testing.T) {
			h := newHarnessFake(t, oneClient, aritest.Options{HangupWindow: window})
			h.fake.AddEndpoint("PJSIP/op1001", true, talks)
			h.fake.AddEndpoint("PJSIP/op1002", false, talks)
			h.fake.AddSound("toritsugi/line-noise", time.Minute)
			raced := h.raceTheAdd(func() string {
				for _, c := range h.fake.Channels() {
					if strings.HasPrefix(c.Name, "PJSIP/trunk-") {
						return c.ID
					}
				}
				return ""
			})
			h.start()
			h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
			rec := h.record(h.call("0312345678", "0901234567"))
			if !raced.Load() || rec.Result != store.ResultAbandoned || rec.Billable || rec.Reason != "caller hung up as the bridge was made" {
				t.Fatalf("raced %v: %s (%s) billable %v; want abandoned, not billed; events %v", raced.Load(), rec.Result, rec.Reason, rec.Billable, rec.Events)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.connected) != 0 {
				t.Fatalf("screen pops %+v for a caller who hung up as the bridge was made, want none", h.connected)
			}
		})
	}
}

// TestCallerHangsUpAsTheNextBridgeIsMade: the operator hangs up as the
// caller and they are bridged (the caller joined that bridge; it is
// undone, the caller back in line), and the caller hangs up as the next
// operator's bridge is made, never joining it. Nobody talked with them:
// a missed call (abandoned), not billed as answered for having been in
// the bridge that was undone.
func TestCallerHangsUpAsTheNextBridgeIsMade(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, talks)
	h.fake.AddEndpoint("PJSIP/op1002", true, talks)
	h.fake.AddSound("toritsugi/line-noise", time.Minute)
	raced := h.raceTheAdds(
		func() string { return h.operatorLeg(h.firstRingOp()) },
		func() string {
			for _, c := range h.fake.Channels() {
				if strings.HasPrefix(c.Name, "PJSIP/trunk-") {
					return c.ID
				}
			}
			return ""
		})
	h.start()
	h.eventually("operators available", func() bool {
		return h.operatorState("op1001") == acd.Available && h.operatorState("op1002") == acd.Available
	})
	rec := h.record(h.call("0312345678", "0901234567"))
	if !raced[0].Load() || !raced[1].Load() || !strings.Contains(fmt.Sprint(rec.Events), "as the bridge was made: back in line") {
		t.Fatalf("races run %v %v: %s (%s); events %v", raced[0].Load(), raced[1].Load(), rec.Result, rec.Reason, rec.Events)
	}
	if rec.Result != store.ResultAbandoned || rec.Billable || rec.Reason != "caller hung up as the bridge was made" {
		t.Fatalf("%s (%s) billable %v; want abandoned, not billed; events %v", rec.Result, rec.Reason, rec.Billable, rec.Events)
	}
}

// TestCallerHangupRequestedAsTheAddIsSent: the caller's hangup is
// requested just before the add reaches Asterisk, and their channel stays
// in the application a while (Asterisk's first hangup stage): the add
// comes to nothing for them and puts the operator in, so the operator's
// ChannelEnteredBridge comes after the caller's hangup request and before
// their StasisEnd. The operator gets no screen pop for a caller who is
// gone, and the call is a missed call.
func TestCallerHangupRequestedAsTheAddIsSent(t *testing.T) {
	h := newHarnessFake(t, oneClient, aritest.Options{HangupWindow: 100 * time.Second})
	h.fake.AddEndpoint("PJSIP/op1001", true, talks)
	var raced atomic.Bool
	h.intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/addChannel") || raced.Swap(true) {
			return false
		}
		for _, c := range h.fake.Channels() {
			if strings.HasPrefix(c.Name, "PJSIP/trunk-") {
				if err := h.fake.RemoteHangup(c.ID); err != nil {
					t.Errorf("hanging up the caller: %v", err)
				}
			}
		}
		return false
	})
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	rec := h.record(h.call("0312345678", "0901234567"))
	if !raced.Load() || rec.Result != store.ResultAbandoned || rec.Billable {
		t.Fatalf("raced %v: %s (%s) billable %v; want abandoned, not billed; events %v", raced.Load(), rec.Result, rec.Reason, rec.Billable, rec.Events)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.connected) != 0 {
		t.Fatalf("screen pops %+v for a caller whose hangup came before the bridge, want none", h.connected)
	}
}

// raceTheAdd makes the first add to a bridge race a hangup: the leg that
// leg names is kept busy (a playback on its Stasis thread), and hung up
// once the add waits for it; Asterisk then answers the add
// 204 and adds nothing for that leg (res_stasis control_flush_queue). It
// reports whether the race was run.
func (h *harness) raceTheAdd(leg func() string) *atomic.Bool { return h.raceTheAdds(leg)[0] }

// raceTheAdds is raceTheAdd for the first len(legs) adds, to whichever
// bridge (the next is the next bridge's once one is undone): the i-th
// races the hangup of the leg legs[i] names. It reports whether
// each race was run.
func (h *harness) raceTheAdds(legs ...func() string) []*atomic.Bool {
	t := h.t
	raced := make([]*atomic.Bool, len(legs))
	for i := range raced {
		raced[i] = new(atomic.Bool)
	}
	var adds atomic.Int32
	h.intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/addChannel") {
			return false
		}
		i := int(adds.Add(1)) - 1
		if i >= len(legs) {
			return false
		}
		raced[i].Store(true)
		id := legs[i]()
		req, _ := http.NewRequest(http.MethodPost, h.fake.URL()+"/channels/"+id+"/play?media=sound:toritsugi/line-noise", nil)
		req.SetBasicAuth("toritsugi", "toritsugi")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("playing on the leg %q: %v", id, err)
			return false
		}
		resp.Body.Close()
		go func() {
			// Once the add waits on the leg's thread: on a loaded
			// machine a fixed pause could end before the add is read,
			// and Asterisk then refuses it (400, the leg gone).
			deadline := time.Now().Add(5 * time.Second)
			for h.fake.Queued(id) == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if err := h.fake.RemoteHangup(id); err != nil {
				t.Errorf("hanging up the leg %q: %v", id, err)
			}
		}()
		return false
	})
	return raced
}
