// Scenarios of a controller restarting while calls wait or talk: what
// survives on the channels and in the bridges' names is picked up again.

package controller_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestRestartMidQueueKeepsOrder: callers wait (no operator), the
// controller dies and a new one re-adopts them in their original order.
func TestRestartMidQueueKeepsOrder(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	first := h.start()
	var ids []string
	for i := range 5 {
		ids = append(ids, h.call("0312345678", fmt.Sprintf("090000000%d", i)))
		h.eventually("queued", func() bool { return len(h.waiting("acme")) == i+1 })
	}
	first.stop()
	h.start()
	h.eventually("re-adopted", func() bool { return len(h.waiting("acme")) == 5 })
	if got := strings.Join(h.waiting("acme"), ","); got != strings.Join(ids, ",") {
		t.Fatalf("order after restart %s, want %s", got, strings.Join(ids, ","))
	}
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if r := h.record(id); r.Result != store.ResultAnswered {
			t.Fatalf("%s: %s (%s)", id, r.Result, r.Reason)
		}
	}
}

// TestRestartKeepsOrderWithinAMillisecond: six callers queued within one
// millisecond (a burst from the trunk) come back in their order; the
// re-adopted calls join the queue in whatever order their reads finish.
func TestRestartKeepsOrderWithinAMillisecond(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	first := h.start()
	var ids []string
	for i := range 6 {
		ids = append(ids, h.call("0312345678", fmt.Sprintf("090000000%d", i)))
		h.eventually("queued", func() bool { return len(h.waiting("acme")) == i+1 })
	}
	first.stop()
	// The six states as if the six had been queued in one millisecond,
	// a few microseconds apart.
	qn := regexp.MustCompile(`qn=(\d+)`)
	cl := first.c.Link.Client()
	var ms int64
	for i, id := range ids {
		ch, _ := h.fake.Channel(id)
		st := ch.Vars[call.StateVar]
		m := qn.FindStringSubmatch(st)
		if m == nil {
			t.Fatalf("state %q has no enqueue time to the nanosecond", st)
		}
		if i == 0 {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			ms = n / 1e6 * 1e6
		}
		st = qn.ReplaceAllString(st, fmt.Sprintf("qn=%d", ms+int64(i)*7000))
		if err := cl.Channel().SetVariable(ari.NewKey(ari.ChannelKey, id), call.StateVar, st); err != nil {
			t.Fatal(err)
		}
	}
	h.start()
	h.eventually("re-adopted", func() bool { return len(h.waiting("acme")) == 6 })
	if got := strings.Join(h.waiting("acme"), ","); got != strings.Join(ids, ",") {
		t.Fatalf("order after restart\n got %s\nwant %s", got, strings.Join(ids, ","))
	}
}

// TestRestartWithOperatorFreeKeepsOrder: an operator's phone registers
// while no controller runs, with eight callers waiting. The new controller
// re-adopts them, each after reading its saved state; the free operator
// must go to the oldest caller, not to whichever was back in line first,
// and the callers are served in their order.
func TestRestartWithOperatorFreeKeepsOrder(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	first := h.start()
	var ids []string
	for i := range 8 {
		ids = append(ids, h.call("0312345678", fmt.Sprintf("090000000%d", i)))
		h.eventually("queued", func() bool { return len(h.waiting("acme")) == i+1 })
	}
	first.stop()
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.start()
	for _, id := range ids {
		if r := h.record(id); r.Result != store.ResultAnswered {
			t.Fatalf("%s: %s (%s)", id, r.Result, r.Reason)
		}
	}
	if got := strings.Join(h.firstRings(), ","); got != strings.Join(ids, ",") {
		t.Fatalf("rung in the order %s, want %s", got, strings.Join(ids, ","))
	}
}

// TestRestartWhileBridged: the controller dies during a conversation; the
// call goes on in Asterisk, and the next controller records it when it ends.
func TestRestartWhileBridged(t *testing.T) {
	h := newHarness(t, oneClient)
	first, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 60 * time.Second})
	if _, err := h.store.Call(id); err == nil {
		t.Fatal("the stopped controller recorded a call still in progress")
	}
	h.start()
	// The operator hangs up 60 s (0.6 s of test time) after answering.
	rec := h.wantTalkedThrough(id, "op1001", first.c.Link.Client())
	// The wait (from the bridge's name) and the conversation's recording
	// (from the store: the retention deletes it with the record) are kept.
	if rec.WaitMS <= 0 || !strings.HasPrefix(rec.Recording, strings.ReplaceAll(id, ".", "-")) {
		t.Fatalf("after restart: wait %d ms, recording %q", rec.WaitMS, rec.Recording)
	}
}

// TestRestartWhenAsteriskWillNotGiveTheState: after a restart, Asterisk
// fails (500) every read of the state a call saved on its channel. The
// call is re-adopted from the copy the store kept, not started over: a
// talking caller is not greeted and queued again (their operator rung a
// second time), a message being left is not lost.
func TestRestartWhenAsteriskWillNotGiveTheState(t *testing.T) {
	stateUnreadable := func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/variable")
	}
	t.Run("bridged", func(t *testing.T) {
		h := newHarness(t, oneClient)
		first, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 60 * time.Second})
		h.failThrough(stateUnreadable)
		h.start()
		h.wantTalkedThrough(id, "op1001", first.c.Link.Client())
	})
	t.Run("leaving a message", func(t *testing.T) {
		h := voicemailHarness(t)
		first := h.start()
		id := h.call("0312345678", "09012345678")
		h.waitStoredStep(id, call.StepVoicemail) // the copy that stands in
		first.stop()
		h.failThrough(stateUnreadable)
		h.start()
		if rec := h.hangUpAfterAMessage(id); rec.Result != store.ResultVoicemail || rec.Recording == "" || rec.Reason != "voicemail left (overflow)" {
			t.Fatalf("%s (%s) recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
		}
	})
}

// TestRestartCallerLeavesAsTheStateIsRead: the caller hangs up between
// the new controller's list of channels and its read of the state saved
// on the channel, which Asterisk then answers 404, as it answers for a
// variable never set. The store's copy stands in: a conversation is not
// recorded as a caller who hung up before the answer, a message left is
// not lost.
func TestRestartCallerLeavesAsTheStateIsRead(t *testing.T) {
	leaveAtTheRead := func(h *harness, id string) {
		var once atomic.Bool
		h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && r.URL.Path == "/ari/channels/"+id+"/variable" && once.CompareAndSwap(false, true) {
				_ = h.fake.RemoteHangup(id)
			}
			return false
		})
	}
	t.Run("talking", func(t *testing.T) {
		h := newHarness(t, oneClient)
		_, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
		leaveAtTheRead(h, id)
		h.start()
		if rec := h.record(id); rec.Result != store.ResultAnswered || !rec.Billable || rec.OperatorID != "op1001" {
			t.Fatalf("a talking caller recorded as %s (%s), billable %v, operator %q; events %v", rec.Result, rec.Reason, rec.Billable, rec.OperatorID, rec.Events)
		}
	})
	t.Run("leaving a message", func(t *testing.T) {
		h := voicemailHarness(t)
		first := h.start()
		id := h.call("0312345678", "09012345678")
		h.waitSpeaking(id)
		h.waitStoredStep(id, call.StepVoicemail)
		first.stop()
		leaveAtTheRead(h, id)
		h.start()
		if rec := h.record(id); rec.Result != store.ResultVoicemail || rec.Recording == "" {
			t.Fatalf("a caller who left a message recorded as %s (%s), recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
		}
	})
}

// TestRestartAfterBlockedHangup: a blocked caller hung up at once
// (block_mode: hangup) had saved no state before the hang-up; the
// controller stops (a deploy's SIGTERM) as it sends the DELETE, before the
// channel's end reaches it. The next controller records the call, blocked
// and not billable, and counts it.
func TestRestartAfterBlockedHangup(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n",
		"    record: true\n    callers:\n      - {match: \"050*\", action: block, block_mode: hangup}\n", 1))
	var first atomic.Pointer[running]
	h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if f := first.Load(); f != nil && r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/ari/channels/") {
			f.cancel()
			select { // stopped before the channel's end is seen
			case <-f.done:
			case <-time.After(2 * time.Second):
			}
		}
		return false
	})
	first.Store(h.start())
	id := h.call("0312345678", "05011112222")
	<-first.Load().done
	first.Store(nil)
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultBlocked || rec.Billable {
		t.Fatalf("blocked caller recorded as %s (%s), billable %v; events %v", rec.Result, rec.Reason, rec.Billable, rec.Events)
	}
	if c, err := h.store.MonthlyCounts("acme", rec.StartedAt); err != nil || c.Total != 1 || c.Billable != 0 {
		t.Fatalf("counts %+v, %v; want the one call, not billable", c, err)
	}
}

// TestRestartWhileBridgedKeepsOperatorBusy: after a restart during a
// conversation the new queue knows the operator is talking: a caller who
// arrives meanwhile waits, and gets the operator once the first call ends.
func TestRestartWhileBridgedKeepsOperatorBusy(t *testing.T) {
	h := newHarness(t, oneClient)
	// The operator answers and talks until the caller hangs up.
	_, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second})
	h.start()
	h.eventually("op1001 on the re-adopted call and registered", func() bool {
		for _, op := range h.snapshot().Operators {
			if op.ID == "op1001" {
				return op.State == acd.OnCall && op.CallID == id && op.Reachable
			}
		}
		return false
	})
	if err := h.fake.SetEndpointBehavior("PJSIP/op1001", answers); err != nil {
		t.Fatal(err)
	}
	second := h.call("0312345678", "0907654321")
	h.eventually("second caller waiting", func() bool { return slices.Contains(h.waiting("acme"), second) })
	// The queue decides in the same step as the enqueue: a ring would be
	// recorded by now.
	if got := h.operatorState("op1001"); got != acd.OnCall {
		t.Fatalf("op1001 is %v while still talking, want on-call", got)
	}
	if rings := h.firstRings(); slices.Contains(rings, second) {
		t.Fatalf("the second caller was rung to the busy operator: %v", rings)
	}
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(id); rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("first call: %s (%s) op %q", rec.Result, rec.Reason, rec.OperatorID)
	}
	if rec := h.record(second); rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("second call: %s (%s) op %q, want answered by op1001 after the first call", rec.Result, rec.Reason, rec.OperatorID)
	}
	h.eventually("no channels left", func() bool { return len(h.fake.Channels()) == 0 })
	h.eventually("op1001 available again", func() bool { return h.operatorState("op1001") == acd.Available })
}

// TestRestartWhileBridgedSavedByOlderVersion: a call bridged by a version
// that named its bridge by its id and wrote the connected step on the
// caller's channel is re-adopted as connected all the same.
func TestRestartWhileBridgedSavedByOlderVersion(t *testing.T) {
	h := newHarness(t, oneClient)
	first, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 60 * time.Second})
	caller, _ := h.fake.Channel(id)
	opLeg := h.operatorLeg("op1001")
	// Move both into a bridge named as the older version named them.
	cl := first.c.Link.Client()
	oldBridge := ari.NewKey(ari.BridgeKey, id+"-br-0ld0ld00-4")
	if _, err := cl.Bridge().Create(oldBridge, "mixing", oldBridge.ID); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{id, opLeg} {
		if err := cl.Bridge().AddChannel(oldBridge, ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Bridge().Delete(ari.NewKey(ari.BridgeKey, caller.BridgeID)); err != nil {
		t.Fatal(err)
	}
	old := call.Persisted{ClientID: "acme", DID: "0312345678", Step: call.StepConnected, StartedAt: time.Now(), OpID: "op1001", OpChannel: opLeg, Bridge: oldBridge.ID}
	if err := cl.Channel().SetVariable(ari.NewKey(ari.ChannelKey, id), call.StateVar, old.Encode()); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.wantTalkedThrough(id, "op1001", cl)
}

// TestRestartAfterCallerLeftBridge: the caller hung up while no controller
// watched; the next one records the call from its bridge's name (answered,
// billable: the counters stay exact), hangs the operator's leg up and
// destroys the bridge (Asterisk keeps a Stasis bridge until it is
// destroyed).
func TestRestartAfterCallerLeftBridge(t *testing.T) {
	h := newHarness(t, oneClient)
	first, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second})
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	cl := first.c.Link.Client()
	if h.bridgeCount(cl) != 1 || len(h.fake.Channels()) != 1 {
		t.Fatalf("before the restart: %d bridges, channels %+v; want the bridge and the operator's leg", h.bridgeCount(cl), h.fake.Channels())
	}
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" || !rec.Billable || rec.ClientID != "acme" ||
		rec.DID != "0312345678" || rec.CallerID != "0901234567" || rec.StartedAt.IsZero() || rec.WaitMS <= 0 ||
		!strings.Contains(fmt.Sprint(rec.Events), "ended while no controller watched") ||
		rec.AnsweredAt.IsZero() || rec.BridgedAt.Before(rec.AnsweredAt) || !rec.BridgedAt.Before(rec.EndedAt) {
		t.Fatalf("call that ended unseen: %+v", rec)
	}
	if !strings.HasPrefix(rec.Recording, strings.ReplaceAll(id, ".", "-")) { // the live state names it: retention deletes it
		t.Fatalf("call that ended unseen names recording %q", rec.Recording)
	}
	h.eventually("no channels or bridges left", func() bool { return len(h.fake.Channels()) == 0 && h.bridgeCount(cl) == 0 })
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
}

// TestRestartKeepsAFullRecord: a call recorded whole whose bridge is still
// there at the next start (its controller could not destroy it) keeps its
// record: the one pieced together from the bridge's name does not replace
// it.
func TestRestartKeepsAFullRecord(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	first := h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	id := h.call("0312345678", "0901234567")
	full := h.record(id)
	first.stop()
	cl := first.c.Link.Client()
	br := ari.NewKey(ari.BridgeKey, id+"-br-1eft0000-4")
	st := call.Persisted{ClientID: "acme", DID: "0312345678", Step: call.StepConnected, StartedAt: full.StartedAt, OpID: "op1001", OpChannel: id + "-op-op1001-1eft0000-2", Bridge: br.ID}
	if _, err := cl.Bridge().Create(br, "mixing", call.BridgeName("toritsugi", id, "0901234567", st)); err != nil {
		t.Fatal(err)
	}
	second := h.start()
	h.eventually("the left-over bridge destroyed", func() bool { return h.bridgeCount(cl) == 0 })
	second.stop() // waits for the manager's goroutines: the record is written, or not, by now
	got, err := h.store.Call(id)
	if err != nil || got.Reason != full.Reason || len(got.Events) != len(full.Events) || !got.EndedAt.Equal(full.EndedAt) {
		t.Fatalf("record after the restart %+v, %v; want the full one kept: %+v", got, err, full)
	}
}

// TestRestartAfterCallerLeftHalfMadeBridge: the controller stopped before
// the operator's leg joined the bridge, and the caller hung up meanwhile:
// nobody talked, so the call is recorded abandoned, not billable.
func TestRestartAfterCallerLeftHalfMadeBridge(t *testing.T) {
	h := newHarness(t, oneClient)
	cl, id, _, _ := h.halfJoinThenStop()
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultAbandoned || rec.Billable || rec.ClientID != "acme" || !rec.BridgedAt.IsZero() {
		t.Fatalf("call whose caller left a half-made bridge: %s (%s) billable %v bridged at %v", rec.Result, rec.Reason, rec.Billable, rec.BridgedAt)
	}
	h.eventually("no channels or bridges left", func() bool { return len(h.fake.Channels()) == 0 && h.bridgeCount(cl) == 0 })
}

// TestRestartWhileTransferredToClient: a VIP caller talking with the
// client's own phone when the controller restarts keeps talking, and the
// call is recorded as transferred when it ends.
func TestRestartWhileTransferredToClient(t *testing.T) {
	h := newHarness(t, vipClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.SetRemoteNumber("0399990000", aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 60 * time.Second})
	first := h.start()
	id := h.call("0312345678", "09011111111")
	h.eventually("bridged with the client", func() bool {
		ch, ok := h.fake.Channel(id)
		return ok && ch.BridgeID != ""
	})
	first.stop()
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultTransferred || !rec.Billable || !strings.Contains(fmt.Sprint(rec.Events), "re-adopted after controller restart at step connected") {
		t.Fatalf("VIP call after the restart: %s (%s); events %v", rec.Result, rec.Reason, rec.Events)
	}
	if rec.WaitMS <= 0 {
		t.Errorf("the VIP's wait for the client was lost across the restart: %d ms", rec.WaitMS)
	}
	if rec.BridgedAt.IsZero() || !rec.BridgedAt.After(rec.AnsweredAt) || !rec.BridgedAt.Before(rec.EndedAt) {
		t.Errorf("talk time lost across the restart: answered %v, bridged %v, ended %v", rec.AnsweredAt, rec.BridgedAt, rec.EndedAt)
	}
	if o := h.originates(); len(o) != 1 {
		t.Fatalf("%d originates, want the one transfer (the caller must not be queued again): %+v", len(o), o)
	}
	cl := first.c.Link.Client()
	h.eventually("no channels or bridges left", func() bool { return len(h.fake.Channels()) == 0 && h.bridgeCount(cl) == 0 })
}

// TestRestartWithHalfJoinedBridge: the controller stopped with the caller
// in the bridge and the operator's leg (still up) not yet in it: nobody
// talked. The caller waits again (rung anew), the bridge and the leg go.
func TestRestartWithHalfJoinedBridge(t *testing.T) {
	h := newHarness(t, oneClient)
	cl, id, bridgeID, opLeg := h.halfJoinThenStop()
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("after restart: %s (%s) op %q, events %v", rec.Result, rec.Reason, rec.OperatorID, rec.Events)
	}
	if o := h.originates(); len(o) != 2 {
		t.Fatalf("%d originates, want 2 (rung again after the restart): %+v", len(o), o)
	}
	if !containsRequest(h, "DELETE", "/bridges/"+bridgeID) || !containsRequest(h, "DELETE", "/channels/"+opLeg) {
		t.Fatalf("the half-made bridge %s or the leg %s was not removed:\n%s", bridgeID, opLeg, h.requests())
	}
	h.eventually("no channels or bridges left", func() bool { return len(h.fake.Channels()) == 0 && h.bridgeCount(cl) == 0 })
}

// TestRestartDestroysHalfMadeBridge: the controller stopped after creating
// a caller's bridge and before the caller joined it; the restarted one
// destroys the bridge and keeps the caller waiting.
func TestRestartDestroysHalfMadeBridge(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	first := h.start()
	id := h.call("0312345678", "0901234567")
	h.eventually("caller waiting", func() bool { return slices.Contains(h.waiting("acme"), id) })
	first.stop()
	bridges := first.c.Link.Client().Bridge()
	br := ari.NewKey(ari.BridgeKey, id+"-br-dead0001-3")
	st := call.Persisted{ClientID: "acme", DID: "0312345678", Step: call.StepConnected, StartedAt: time.Now(), OpID: "op1001", OpChannel: id + "-op-op1001-dead0001-2", Bridge: br.ID}
	if _, err := bridges.Create(br, "mixing", call.BridgeName("toritsugi", id, "0901234567", st)); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.eventually("caller waiting again", func() bool { return slices.Contains(h.waiting("acme"), id) })
	h.eventually("the half-made bridge destroyed", func() bool {
		keys, err := bridges.List(nil)
		return err == nil && len(keys) == 0
	})
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(id); rec.Result != store.ResultAbandoned {
		t.Fatalf("caller hung up while waiting: %s (%s), want abandoned", rec.Result, rec.Reason)
	}
}

// bridgeThenStop runs a controller until a caller is bridged with op1001
// (answering as op says; op1002 is not registered) and the store has the
// call's connected state, then stops it. It
// returns the stopped controller and the caller's channel.
func (h *harness) bridgeThenStop(op aritest.EndpointBehavior) (*running, string) {
	h.t.Helper()
	h.fake.AddEndpoint("PJSIP/op1001", true, op)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	first := h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	id := h.call("0312345678", "0901234567")
	h.eventually("bridged", func() bool { ch, ok := h.fake.Channel(id); return ok && ch.BridgeID != "" })
	h.waitStoredStep(id, call.StepConnected)
	first.stop()
	return first, id
}

// wantTalkedThrough checks that call id, bridged with op before a restart,
// was re-adopted as talking (not queued and rung again) and recorded as
// answered by op, and that no channel or bridge is left; it returns the
// record.
func (h *harness) wantTalkedThrough(id, op string, cl ari.Client) store.CallRecord {
	h.t.Helper()
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.OperatorID != op || !strings.Contains(fmt.Sprint(rec.Events), "re-adopted after controller restart at step connected") {
		h.t.Fatalf("after restart: %s (%s) op %q, events %v", rec.Result, rec.Reason, rec.OperatorID, rec.Events)
	}

	if o := h.originates(); len(o) != 1 {
		h.t.Fatalf("%d originates, want 1 (the talking caller must not be queued again): %+v", len(o), o)
	}
	h.eventually("no channels or bridges left", func() bool { return len(h.fake.Channels()) == 0 && h.bridgeCount(cl) == 0 })
	return rec
}

// halfJoinThenStop bridges a caller with op1001 (who would talk for 60 s),
// stops the controller and takes the operator's leg out of the bridge, as
// if the controller had stopped between adding the caller and the leg. It
// returns an ARI client, the caller's channel, the bridge and the leg.
func (h *harness) halfJoinThenStop() (cl ari.Client, id, bridgeID, opLeg string) {
	h.t.Helper()
	first, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 60 * time.Second})
	caller, _ := h.fake.Channel(id)
	opLeg = h.operatorLeg("op1001")
	cl = first.c.Link.Client()
	if err := cl.Bridge().RemoveChannel(ari.NewKey(ari.BridgeKey, caller.BridgeID), opLeg); err != nil {
		h.t.Fatal(err)
	}
	return cl, id, caller.BridgeID, opLeg
}

// operatorLeg is the id of op's channel (PJSIP/<op>-…), "" if none.
func (h *harness) operatorLeg(op string) string {
	for _, ch := range h.fake.Channels() {
		if strings.HasPrefix(ch.Name, "PJSIP/"+op+"-") {
			return ch.ID
		}
	}
	return ""
}

// bridgeCount is how many bridges Asterisk holds (-1 if the list fails).
func (h *harness) bridgeCount(cl ari.Client) int {
	keys, err := cl.Bridge().List(nil)
	if err != nil {
		return -1
	}
	return len(keys)
}

// TestRestartAfterCallerLeftQueue: a caller hangs up while waiting and no
// controller runs. Asterisk keeps nothing of the call, so the next
// controller records the missed call (不在着信) from the state the call
// kept in the store: abandoned, not billable, with how long at most the
// caller waited, and counted in the month. The callers still waiting keep
// their places.
func TestRestartAfterCallerLeftQueue(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	first := h.start()
	var ids []string
	for i := range 3 {
		ids = append(ids, h.call("0312345678", fmt.Sprintf("0900000000%d", i)))
		h.eventually("queued", func() bool { return len(h.waiting("acme")) == i+1 })
	}
	h.eventually("the waiting calls' states in the store", func() bool {
		live, _, err := h.store.LiveCalls()
		return err == nil && len(live) == 3 && strings.Contains(live[ids[2]], "s=queued")
	})
	first.stop()
	if err := h.fake.RemoteHangup(ids[1]); err != nil {
		t.Fatal(err)
	}
	h.start()
	rec := h.record(ids[1])
	if rec.Result != store.ResultAbandoned || rec.Billable || rec.WaitMS <= 0 || rec.ClientID != "acme" || rec.DID != "0312345678" ||
		rec.CallerID != "09000000001" || !strings.Contains(rec.Reason, "waiting at least") ||
		!strings.Contains(fmt.Sprint(rec.Events), "found its saved state (queued)") {
		t.Fatalf("missed call while no controller ran: %+v", rec)
	}
	h.eventually("the others still waiting, in order", func() bool { return strings.Join(h.waiting("acme"), ",") == ids[0]+","+ids[2] })
	counts, err := h.store.MonthlyCounts("acme", rec.StartedAt)
	if err != nil || counts.ByResult[store.ResultAbandoned] != 1 || counts.NonBillable != 1 {
		t.Fatalf("month's counts %+v, %v; want the missed call", counts, err)
	}
	live, _, err := h.store.LiveCalls()
	if _, kept := live[ids[1]]; err != nil || kept {
		t.Fatalf("live states after the record: %v, %v", live, err)
	}
}

// TestRestartAfterAsteriskLostTheBridge: the conversation's channels and
// bridge are all gone when the next controller starts (as after an
// Asterisk restart), so no bridge name says the call was answered; the
// state kept in the store does, and the call is recorded answered and
// billable.
func TestRestartAfterAsteriskLostTheBridge(t *testing.T) {
	h := newHarness(t, oneClient)
	first, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second})
	caller, _ := h.fake.Channel(id)
	cl := first.c.Link.Client()
	for _, ch := range []string{id, h.operatorLeg("op1001")} {
		if err := h.fake.RemoteHangup(ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Bridge().Delete(ari.NewKey(ari.BridgeKey, caller.BridgeID)); err != nil {
		t.Fatal(err)
	}
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || !rec.Billable || rec.OperatorID != "op1001" || rec.CallerID != "0901234567" ||
		rec.Recording == "" || !strings.Contains(fmt.Sprint(rec.Events), "found its saved state (connected)") {
		t.Fatalf("call whose bridge went too: %+v", rec)
	}
}

// TestRestartAfterCallerLeftGreeting: a new call's state is not written on
// its channel during the first greeting (a restarted controller would
// start it again anyway), but the store has it: a caller who hangs up
// during the greeting while no controller runs is recorded.
func TestRestartAfterCallerLeftGreeting(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddSound("toritsugi/acme-greeting", 1000*time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	first := h.start()
	id := h.call("0312345678", "09012345678")
	h.waitStoredStep(id, call.StepNew)
	h.eventually("greeting", func() bool { return strings.Contains(h.requests(), "/play") })
	first.stop()
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultAbandoned || rec.Billable || rec.WaitMS != 0 || !strings.Contains(rec.Reason, "during the greeting") {
		t.Fatalf("caller who left during the greeting while no controller ran: %+v", rec)
	}
}

// TestRestartKeepsTheAnswer: a caller answered and waiting is re-adopted
// as answered: the record keeps the first answer's time, and the caller
// is not answered again when an operator takes the call.
func TestRestartKeepsTheAnswer(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	first := h.start()
	id := h.call("0312345678", "0901234567")
	h.eventually("queued", func() bool { return len(h.waiting("acme")) == 1 })
	h.eventually("the answer time saved", func() bool {
		ch, ok := h.fake.Channel(id)
		return ok && strings.Contains(ch.Vars["TORITSUGI_STATE"], "&a=")
	})
	first.stop()
	answersBefore := strings.Count(h.requests(), "/channels/"+id+"/answer")
	h.start()
	h.eventually("re-adopted", func() bool { return len(h.waiting("acme")) == 1 })
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.AnsweredAt.IsZero() || !rec.AnsweredAt.Before(rec.BridgedAt) || !rec.BridgedAt.Before(rec.EndedAt) {
		t.Fatalf("record %+v", rec)
	}
	if n := strings.Count(h.requests(), "/channels/"+id+"/answer"); n != answersBefore {
		t.Fatalf("the caller was answered %d times, %d of them after the restart", n, n-answersBefore)
	}
}

// TestKnownCallerNamedAfterARestart: a known contact (the client's caller
// rules) waiting in line across a controller restart is still named to the
// operator who takes the call, and their record says what kind of number
// called; the re-adopted call used to lose both.
func TestKnownCallerNamedAfterARestart(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    callers:\n      - {match: \"090-1111-2222\", action: known, name: 取引先A}\n", 1))
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	first := h.start()
	id := h.call("0312345678", "09011112222")
	h.eventually("queued", func() bool { return len(h.waiting("acme")) == 1 })
	first.stop()
	h.start()
	h.eventually("re-adopted in line", func() bool { return len(h.waiting("acme")) == 1 })
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.CallerKind != "number" {
		t.Fatalf("%s (%s), caller kind %q; want answered, a number", rec.Result, rec.Reason, rec.CallerKind)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.connected) != 1 || h.connected[0].KnownName != "取引先A" || !h.connected[0].Known || h.connected[0].VIP {
		t.Fatalf("screen pops after the restart %+v, want one naming 取引先A, a known caller", h.connected)
	}
}

// TestRestartDuringAnnouncementThenBridge: a caller on hold hears a long
// position announcement; the controller restarts during it. The new one
// re-adopts the call and stops the announcement, so that when an operator
// answers, addChannel does not wait on the caller's Stasis thread for it
// (as Asterisk's command_join does) until the request times out and the
// call fails.
func TestRestartDuringAnnouncementThenBridge(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    whisper_sound: sound:beep\n", "", 1))
	h.announceEvery(100 * time.Millisecond)
	h.fake.AddSound("queue-youarenext", 10*time.Minute) // 6 s of test time
	h.fake.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	first := h.start()
	id := h.call("0312345678", "0901234567")
	h.eventually("announcement plays", func() bool {
		c, ok := h.fake.Channel(id)
		return ok && len(c.Playing) > 0 && strings.Contains(c.Playing[0], "queue-youarenext")
	})
	first.stop()
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.eventually("the caller put through to op1001", func() bool {
		c, ok := h.fake.Channel(id)
		return ok && c.BridgeID != "" && h.operatorState("op1001") == acd.OnCall
	})
	if rec, err := h.store.Call(id); err == nil {
		t.Fatalf("the call ended: %s (%s)", rec.Result, rec.Reason)
	}
}

// TestOperatorLegHangupTriedAgain: a bridged caller hangs up and
// Asterisk fails the DELETE of the operator's leg (a 500) both times the
// call asks (as it hangs up and as it ends): it is asked again later, and
// the leg does not stay up, owned by nobody, while the queue rings the
// operator for the next caller.
func TestOperatorLegHangupTriedAgain(t *testing.T) {
	h := newHarness(t, oneClient)
	long := aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour}
	h.fake.AddEndpoint("PJSIP/op1001", true, long)
	h.fake.AddEndpoint("PJSIP/op1002", false, long)
	var failed atomic.Int32
	h.failThrough(func(r *http.Request) bool {
		return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "-op-op1001-") && failed.Add(1) <= 2
	})
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	id := h.call("0312345678", "0901234567")
	h.eventually("bridged", func() bool { c, ok := h.fake.Channel(id); return ok && c.BridgeID != "" })
	leg := h.operatorLeg("op1001")
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	h.record(id)
	h.eventually("the operator's leg hung up on a later try", func() bool {
		_, up := h.fake.Channel(leg)
		return failed.Load() >= 3 && !up
	})
}

// TestRestartWhileRinging: the controller restarts while an operator's
// phone rings for a caller. The new controller re-adopts the caller and
// rings again; the old leg (AppDial2, not in Stasis) is hung up, not left
// ringing the same phone until its originate timeout.
func TestRestartWhileRinging(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 60s", 1))
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	first := h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	id := h.call("0312345678", "0901234567")
	legs := func() []string {
		var out []string
		for _, c := range h.fake.Channels() {
			if strings.Contains(c.ID, id+"-op-op1001") {
				out = append(out, c.ID+"("+c.State+")")
			}
		}
		return out
	}
	h.eventually("op1001 ringing", func() bool { return len(legs()) == 1 && strings.Contains(legs()[0], "Ringing") })
	old := legs()[0]
	first.stop()
	h.start()
	h.eventually("op1001 rung again", func() bool { return len(h.originates()) >= 2 })
	time.Sleep(50 * time.Millisecond)
	got := legs()
	if len(got) > 1 {
		t.Fatalf("the old leg %s was left ringing while the new controller rang op1001 again: %v", old, got)
	}
}

// TestStopHangsUpARingingOperator: at a stop, an operator's phone still
// ringing for a caller is hung up: it rang on until its originate timeout
// or the next start, and an operator who answered it heard silence,
// nothing there to put them through. The waiting caller stays, for the
// next controller to re-adopt, as does a bridged call.
func TestStopHangsUpARingingOperator(t *testing.T) {
	// A ring of 1000 s (10 s here): its originate timeout does not end
	// it while the test looks.
	h := newHarness(t, strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 1000s", 1))
	h.fake.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.fake.AddEndpoint("PJSIP/op1002", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	first := h.start()
	h.eventually("op1002 available", func() bool { return h.operatorState("op1002") == acd.Available })
	bridged := h.call("0312345678", "0901234567")
	h.eventually("the first caller bridged with op1002", func() bool { c, ok := h.fake.Channel(bridged); return ok && c.BridgeID != "" })
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	waiting := h.call("0312345678", "0901234568")
	legs := func(call, op string) []aritest.ChannelSnapshot {
		var out []aritest.ChannelSnapshot
		for _, c := range h.fake.Channels() {
			if strings.Contains(c.ID, call+"-op-"+op) {
				out = append(out, c)
			}
		}
		return out
	}
	h.eventually("op1001 ringing for the second", func() bool {
		l := legs(waiting, "op1001")
		return len(l) == 1 && l[0].State == "Ringing"
	})
	first.stop()
	h.eventually("op1001's ring hung up", func() bool { return len(legs(waiting, "op1001")) == 0 })
	if _, ok := h.fake.Channel(waiting); !ok {
		t.Fatal("the waiting caller was hung up")
	}
	if c, ok := h.fake.Channel(bridged); !ok || c.BridgeID == "" || len(legs(bridged, "op1002")) != 1 {
		t.Fatalf("the bridged call was touched: caller %v %+v, op1002's legs %v", ok, c, legs(bridged, "op1002"))
	}
}

// TestRestartWithoutTheClientTellsTheWaitingCaller: a caller waiting in
// line when the controller restarted on a configuration without their
// client (its contract ended) is told the number is not in service
// (unknown_did_sound), as a caller of it would be now, and hung up: the
// call is recorded failed, saying why. They were hung up in silence.
func TestRestartWithoutTheClientTellsTheWaitingCaller(t *testing.T) {
	h := newHarness(t, oneClient)
	first := h.start()
	id := h.call("0312345678", "0901234567")
	h.waitStoredStep(id, call.StepQueued)
	first.stop()
	h.cfg = withoutAcme(t, h)
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultFailed || rec.Reason != "client acme no longer configured after restart" {
		t.Fatalf("a waiting caller after a restart without their client: %s (%s), want failed, saying why", rec.Result, rec.Reason)
	}
	played := false
	for _, r := range h.fake.Requests() {
		if r.Method == "POST" && strings.HasPrefix(r.Path, "/channels/"+id+"/play") && strings.Contains(r.Query+r.Body, "ss-noservice") {
			played = true
		}
	}
	if !played {
		t.Fatalf("the caller was not told the number is not in service (sound:ss-noservice); requests: %s", h.requests())
	}
}

// TestRestartWithoutTheClientKeepsTheConversation: the caller was talking
// with op1001 when the controller restarted on a configuration without the
// client (a contract ended at the month's end). The conversation goes on
// and is recorded answered, billable, op1001's, as a reload that removes
// the client leaves it; it was cut and recorded failed, not billable, with
// no operator: the invoice and op1001's handled count both lost it.
func TestRestartWithoutTheClientKeepsTheConversation(t *testing.T) {
	h := newHarness(t, oneClient)
	first, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second})
	h.cfg = withoutAcme(t, h)
	h.start()
	h.eventually("still talking after the restart", func() bool { c, ok := h.fake.Channel(id); return ok && c.BridgeID != "" })
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	cl := first.c.Link.Client()
	h.eventually("no channels or bridges left", func() bool { return len(h.fake.Channels()) == 0 && h.bridgeCount(cl) == 0 })
	if rec.Result != store.ResultAnswered || !rec.Billable || rec.OperatorID != "op1001" {
		t.Errorf("answered call after a restart without its client: %s (%s), billable %v, operator %q, bridged %v",
			rec.Result, rec.Reason, rec.Billable, rec.OperatorID, !rec.BridgedAt.IsZero())
	}
}
