package controller_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/controller"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

const oneClient = `
queue: {ring_timeout: 15s, max_wait: 5m, wrapup: 0s, auto_pause_after: 2}
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
`

// answers: the softphone answers after 1 s and hangs up 5 s later.
var answers = aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 5 * time.Second}

func TestAnsweredByOperator(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })

	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" || !rec.Billable {
		t.Fatalf("record %s/%q op %q billable %v, want answered by op1001 and billable", rec.Result, rec.Reason, rec.OperatorID, rec.Billable)
	}
	if rec.WaitMS <= 0 || rec.Recording == "" {
		t.Fatalf("wait %d ms, recording %q: want both set", rec.WaitMS, rec.Recording)
	}
	og := h.originates()
	if len(og) != 1 || og[0].Endpoint != "PJSIP/op1001" || og[0].CallerID != `"ACME" <0901234567>` || og[0].AppArgs != "operator,"+id {
		t.Fatalf("originates %+v: want one to PJSIP/op1001 showing \"ACME\" <0901234567>", og)
	}
	reqs := h.requests()
	for _, want := range []string{"POST /channels/" + id + "/moh", "DELETE /channels/" + id + "/moh", "/addChannel", "/record"} {
		if !strings.Contains(reqs, want) {
			t.Errorf("no %q request:\n%s", want, reqs)
		}
	}
	h.eventually("no channels left", func() bool { return len(h.fake.Channels()) == 0 })
	h.eventually("op1001 available again", func() bool { return h.operatorState("op1001") == acd.Available })
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.connected) != 1 || h.connected[0].CallID != id || h.connected[0].OperatorID != "op1001" ||
		h.connected[0].ClientID != "acme" || h.connected[0].CallerNumber != "0901234567" || h.connected[0].Waited <= 0 {
		t.Fatalf("screen pops %+v, want one for %s to op1001", h.connected, id)
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
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
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

func TestCallerHangsUpWhileRinging(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	id := h.call("0312345678", "0901234567")
	h.eventually("op1001 ringing", func() bool { return h.operatorState("op1001") == acd.Ringing })
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultAbandoned || rec.WaitMS <= 0 || rec.Billable || !strings.Contains(rec.Reason, "after waiting") {
		t.Fatalf("record %s (%s) wait %d: want a missed call with its wait", rec.Result, rec.Reason, rec.WaitMS)
	}
	h.eventually("operator leg hung up", func() bool { return len(h.fake.Channels()) == 0 })
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
}

func TestAfterHoursAndBlocked(t *testing.T) {
	h := newHarness(t, `
clients:
  - id: closed
    name: 休業中
    dids: ["03-1111-1111"]
    greeting: sound:toritsugi/closed-greeting
    after_hours_sound: sound:toritsugi/closed-message
    bill_after_hours: true
    hours: {weekly: {mon: []}}
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    blocked_sound: sound:toritsugi/no-sales
    callers:
      - {match: "050*", action: block}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.fake.AddSound("toritsugi/closed-message", 2*time.Second)
	h.fake.AddSound("toritsugi/no-sales", 2*time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.start()
	closed := h.record(h.call("0311111111", "0901234567"))
	if closed.Result != store.ResultAfterHours || !closed.Billable { // bill_after_hours: true
		t.Fatalf("closed client: %s (%s) billable %v", closed.Result, closed.Reason, closed.Billable)
	}
	blocked := h.record(h.call("0312345678", "05011112222"))
	if blocked.Result != store.ResultBlocked || blocked.Billable {
		t.Fatalf("blocked caller: %s (%s) billable %v", blocked.Result, blocked.Reason, blocked.Billable)
	}
	reqs := h.requests()
	for _, media := range []string{"closed-message", "no-sales"} {
		if !strings.Contains(reqs, "/play/") {
			t.Fatalf("no playback at all:\n%s", reqs)
		}
		_ = media
	}
	if og := h.originates(); len(og) != 0 {
		t.Fatalf("after-hours or blocked calls rang operators: %+v", og)
	}
}

// TestThreeClientsFiveOperatorsFortyCallers: 40 callers arrive together
// for 3 clients and wait; then 5 operators with different skills log in and
// answer them all. Every caller is served, only by operators serving their
// client, and within each client strictly in the order they joined the
// queue (the queue's own Ring decisions are compared, not timings).
func TestThreeClientsFiveOperatorsFortyCallers(t *testing.T) {
	h := newHarness(t, `
queue: {ring_timeout: 15s, max_wait: 30m, wrapup: 0s}
clients:
  - {id: a, name: A, dids: ["03-0000-0001"], greeting: "sound:toritsugi/a"}
  - {id: b, name: B, dids: ["03-0000-0002"], greeting: "sound:toritsugi/b"}
  - {id: c, name: C, dids: ["03-0000-0003"], greeting: "sound:toritsugi/c"}
operators:
  - {id: op1, name: one, endpoint: PJSIP/op1, clients: ["*"]}
  - {id: op2, name: two, endpoint: PJSIP/op2, clients: ["a", "b"]}
  - {id: op3, name: three, endpoint: PJSIP/op3, clients: ["b", "c"]}
  - {id: op4, name: four, endpoint: PJSIP/op4, clients: ["c"]}
  - {id: op5, name: five, endpoint: PJSIP/op5, clients: ["a"]}
`)
	short := aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 10 * time.Second}
	for i := 1; i <= 5; i++ {
		h.fake.AddEndpoint(fmt.Sprintf("PJSIP/op%d", i), false, short)
	}
	h.start()
	var ids []string
	clientOf := map[string]string{}
	for i := range 40 {
		id := h.call(fmt.Sprintf("030000000%d", i%3+1), fmt.Sprintf("0900000%04d", i))
		ids = append(ids, id)
		clientOf[id] = string(rune('a' + i%3))
	}
	h.eventually("40 callers waiting", func() bool {
		return len(h.waiting("a"))+len(h.waiting("b"))+len(h.waiting("c")) == 40
	})
	for i := 1; i <= 5; i++ {
		if err := h.fake.Register(fmt.Sprintf("PJSIP/op%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	recs := map[string]store.CallRecord{}
	for _, id := range ids {
		r := h.record(id)
		recs[id] = r
		if r.Result != store.ResultAnswered {
			t.Fatalf("call %s for %s: %s (%s)", id, clientOf[id], r.Result, r.Reason)
		}
		allowed := map[string]string{"a": "op1 op2 op5", "b": "op1 op2 op3", "c": "op1 op3 op4"}[clientOf[id]]
		if !strings.Contains(allowed, r.OperatorID) {
			t.Errorf("call for %s answered by %s, who does not serve it", clientOf[id], r.OperatorID)
		}
	}
	rung := map[string][]string{}
	for _, id := range h.firstRings() {
		rung[clientOf[id]] = append(rung[clientOf[id]], id)
	}
	for cl, got := range rung {
		want := append([]string(nil), got...)
		sort.SliceStable(want, func(i, j int) bool { return eventAt(recs[want[i]], "queued").Before(eventAt(recs[want[j]], "queued")) })
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("client %s rung in order\n%v\nwant oldest first\n%v", cl, got, want)
		}
	}
}

// eventAt is when the record's timeline first shows an event starting with prefix.
func eventAt(r store.CallRecord, prefix string) time.Time {
	for _, e := range r.Events {
		if strings.HasPrefix(e.What, prefix) {
			return e.At
		}
	}
	return time.Time{}
}

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

func TestRingbackUntilOperatorAnswers(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    answer_mode: ringback\n    ringback_max: 30s\n", 1))
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if rec.Result != store.ResultAnswered {
		t.Fatalf("ringback call: %s (%s)", rec.Result, rec.Reason)
	}
	var seq []string
	for _, r := range h.fake.Requests() {
		if strings.HasPrefix(r.Path, "/channels/"+id+"/") {
			seq = append(seq, r.Method+" "+strings.TrimPrefix(r.Path, "/channels/"+id+"/"))
		}
	}
	got := strings.Join(seq, ",")
	if !strings.HasPrefix(got, "POST ring,") || strings.Contains(got, "play") || strings.Contains(got, "moh") {
		t.Fatalf("caller requests %s: want ring, no greeting and no hold music before the operator", got)
	}
	if strings.Index(got, "POST answer") < 0 {
		t.Fatalf("caller never answered: %s", got)
	}
}

func TestRingbackExpiresIntoGreetingThenAnnouncements(t *testing.T) {
	h := newHarness(t, strings.Replace(strings.Replace(oneClient, "    record: true\n",
		"    answer_mode: ringback\n    ringback_max: 100ms\n", 1),
		"max_wait: 5m, wrapup: 0s, auto_pause_after: 2}", "max_wait: 2s, wrapup: 0s, auto_pause_after: 2, announce_period: 400ms}", 1))
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.start()
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if rec.Result != store.ResultOverflow {
		t.Fatalf("result %s (%s), want overflow after max wait", rec.Result, rec.Reason)
	}
	var seq []string
	for _, r := range h.fake.Requests() {
		if strings.HasPrefix(r.Path, "/channels/"+id+"/") {
			seq = append(seq, r.Method+" "+strings.TrimPrefix(r.Path, "/channels/"+id+"/")+" "+r.Body)
		}
	}
	got := strings.Join(seq, "\n")
	for _, want := range []string{"POST ring", "POST answer", "acme-greeting", "POST moh", "queue-youarenext"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q among the caller's requests:\n%s", want, got)
		}
	}
	if !strings.Contains(fmt.Sprint(rec.Events), "announced position 1") {
		t.Errorf("timeline has no announcement: %v", rec.Events)
	}
}

const vipClient = `
queue: {ring_timeout: 15s, max_wait: 5m, wrapup: 0s}
clients:
  - id: acme
    name: 株式会社ACME
    short_name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    transfer_to: 03-9999-0000
    transfer_timeout: 5s
    callers:
      - {match: "090-1111-1111", action: vip, name: 山田社長}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`

func TestVIPTransferredToClient(t *testing.T) {
	h := newHarness(t, vipClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.SetRemoteNumber("0399990000", answers)
	h.start()
	rec := h.record(h.call("0312345678", "09011111111"))
	if rec.Result != store.ResultTransferred || !rec.Billable || rec.OperatorID != "" {
		t.Fatalf("VIP call: %s (%s) op %q billable %v, want transferred to the client", rec.Result, rec.Reason, rec.OperatorID, rec.Billable)
	}
	og := h.originates()
	if len(og) != 1 || og[0].Endpoint != "PJSIP/0399990000@trunk" || og[0].CallerID != `"ACME" <09011111111>` {
		t.Fatalf("originates %+v: want the client's number through the trunk, showing the caller", og)
	}
}

func TestVIPDeclinedByClientKeepsPlaceInQueue(t *testing.T) {
	h := newHarness(t, vipClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.SetRemoteNumber("0399990000", aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.start()
	vip := h.call("0312345678", "09011111111")
	h.eventually("transfer attempted", func() bool { return len(h.originates()) == 1 })
	other := h.call("0312345678", "09022222222")
	h.eventually("both waiting", func() bool { return len(h.waiting("acme")) == 2 })
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	vr, or := h.record(vip), h.record(other)
	if vr.Result != store.ResultAnswered || or.Result != store.ResultAnswered {
		t.Fatalf("VIP %s (%s), other %s (%s): want both answered by the operator", vr.Result, vr.Reason, or.Result, or.Reason)
	}
	if got := strings.Join(h.firstRings(), ","); got != vip+","+other {
		t.Fatalf("operator rung for %s; want the VIP (who waited longer, from the transfer on) first: %s,%s", got, vip, other)
	}
	if !strings.Contains(fmt.Sprint(vr.Events), "transfer to the client failed (no answer)") {
		t.Fatalf("VIP timeline: %v", vr.Events)
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
	h.wantTalkedThrough(id, "op1001", first.c.Link.Client())
}

func TestOverflowToVoicemail(t *testing.T) {
	h := newHarness(t, `
queue: {max_wait: 200ms}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    overflow: voicemail
    voicemail_max: 30s
  - id: closed
    name: 休業中
    dids: ["03-1111-1111"]
    greeting: sound:toritsugi/closed-greeting
    after_hours_sound: sound:toritsugi/closed-message
    after_hours_voicemail: true
    voicemail_max: 30s
    hours: {weekly: {mon: []}}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.fake.AddSound("toritsugi/closed-message", time.Second)
	h.fake.AddSound("vm-nobodyavail", time.Second)
	h.fake.AddSound("vm-intro", time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.start()
	for _, tc := range []struct{ did, why string }{{"0312345678", "overflow"}, {"0311111111", "after hours"}} {
		rec := h.record(h.call(tc.did, "0901234567"))
		if rec.Result != store.ResultVoicemail || rec.Recording == "" || rec.Reason != "voicemail left ("+tc.why+")" {
			t.Fatalf("%s: %s (%s) recording %q, want a voicemail", tc.why, rec.Result, rec.Reason, rec.Recording)
		}
	}
	if !strings.Contains(h.requests(), "/record") {
		t.Fatalf("no recording request:\n%s", h.requests())
	}
}

func TestRecordingRetention(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n    recording_retention_days: 90\n", 1))
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	r := h.start()
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if rec.Recording == "" {
		t.Fatalf("no recording on %+v", rec)
	}
	stored := func() int {
		keys, err := r.c.Link.Client().StoredRecording().List(nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	h.eventually("recording stored", func() bool { return stored() == 1 })
	ret := &controller.Retention{Store: h.store, ARI: r.c.Link.Client(), Config: func() *config.Config { return h.cfg }, Logger: storetest.Logger(t)}
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 89)); err != nil || n != 0 {
		t.Fatalf("sweep at 89 days deleted %d (%v), want 0", n, err)
	}
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 91)); err != nil || n != 1 {
		t.Fatalf("sweep at 91 days deleted %d (%v), want 1", n, err)
	}
	if stored() != 0 {
		t.Fatal("the stored recording is still in Asterisk")
	}
	after, _ := h.store.Call(id)
	if after.Recording != "" || !strings.Contains(fmt.Sprint(after.Events), "deleted after 90 days") {
		t.Fatalf("record after the sweep: recording %q, events %v", after.Recording, after.Events)
	}
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 92)); err != nil || n != 0 {
		t.Fatalf("second sweep deleted %d (%v), want 0", n, err)
	}
}

// callbackHarness: acme overflows after 200 ms to a callback offer; its
// one operator is not reachable.
func callbackHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, `
queue: {max_wait: 200ms}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    overflow: callback
    callback_prompt: sound:toritsugi/callback-offer
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	for _, s := range []string{"vm-nobodyavail", "toritsugi/callback-thanks"} {
		h.fake.AddSound(s, time.Second)
	}
	// Long enough (0.3 s of test time) that the caller's digit, or a
	// restart, comes while it plays.
	h.fake.AddSound("toritsugi/callback-offer", 30*time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	return h
}

func TestOverflowOffersCallback(t *testing.T) {
	h := callbackHarness(t)
	h.start()

	// Caller 1 presses 1 during the offer: a callback request is stored.
	yes := h.call("0312345678", "09012345678")
	h.eventually("callback offered", func() bool {
		for _, r := range h.fake.Requests() {
			if strings.Contains(r.Body, "digits:09012345678") {
				return true
			}
		}
		return false
	})
	if err := h.fake.SendDTMF(yes, "1"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(yes)
	if rec.Result != store.ResultOverflow || rec.Reason != "overflow: callback requested" {
		t.Fatalf("caller who pressed 1: %s (%s)", rec.Result, rec.Reason)
	}
	// The 1 came during the offer: the offer was cut, not played out
	// before the thanks.
	offer := offerPlaybacks(h, yes)
	if len(offer) != 1 || !containsRequest(h, "DELETE", "/playbacks/"+offer[0]) {
		t.Fatalf("offer playbacks %v; the one playing when the caller pressed 1 was not stopped:\n%s", offer, h.requests())
	}
	cbs, err := h.store.Callbacks(store.CallbackPending)
	if err != nil || len(cbs) != 1 || cbs[0].ID != yes || cbs[0].Number != "+819012345678" || cbs[0].ClientID != "acme" {
		t.Fatalf("callbacks %+v, %v", cbs, err)
	}

	// A withheld caller cannot be called back: plain overflow.
	anon := h.record(h.call("0312345678", "anonymous"))
	if anon.Result != store.ResultOverflow || strings.Contains(anon.Reason, "callback") {
		t.Fatalf("withheld caller: %s (%s)", anon.Result, anon.Reason)
	}
	if cbs, _ := h.store.Callbacks(""); len(cbs) != 1 {
		t.Fatalf("callbacks after the withheld caller: %+v", cbs)
	}
}

// TestRestartDuringCallbackOffer: the controller restarts while a caller
// hears the callback offer (their digit may be lost with it): the new
// controller offers again, and the caller's 1 stores the request.
func TestRestartDuringCallbackOffer(t *testing.T) {
	h := callbackHarness(t)
	first := h.start()
	id := h.call("0312345678", "09012345678")
	plays := func(media string) int {
		n := 0
		for _, r := range h.fake.Requests() {
			if strings.Contains(r.Path, id) && strings.Contains(r.Body, media) {
				n++
			}
		}
		return n
	}
	offers := func() int { return plays("digits:09012345678") }
	h.eventually("callback offered, state saved", func() bool {
		ch, ok := h.fake.Channel(id)
		return offers() == 1 && ok && strings.Contains(ch.Vars["TORITSUGI_STATE"], "s=callback")
	})
	first.stop()
	old := offerPlaybacks(h, id)
	h.start()
	h.eventually("callback offered again", func() bool { return offers() == 2 })
	// The old offer was still playing (0.3 s): it was stopped, or Asterisk
	// would have played the new one after it.
	if len(old) != 1 || !containsRequest(h, "DELETE", "/playbacks/"+old[0]) {
		t.Fatalf("old offer %v not stopped after the restart:\n%s", old, h.requests())
	}
	if err := h.fake.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultOverflow || rec.Reason != "overflow: callback requested" || rec.Billable {
		t.Fatalf("after a restart during the offer: %s (%s) billable %v; events %v", rec.Result, rec.Reason, rec.Billable, rec.Events)
	}
	cbs, err := h.store.Callbacks(store.CallbackPending)
	if err != nil || len(cbs) != 1 || cbs[0].ID != id || cbs[0].Number != "+819012345678" {
		t.Fatalf("callbacks %+v, %v", cbs, err)
	}
	// The offer resumed: the caller was not greeted and queued again.
	if n := plays("toritsugi/acme-greeting"); n != 1 {
		t.Fatalf("greeting played %d times, want once (before the restart)", n)
	}
}

// TestRestartAfterCallbackStored: the restart came after the caller's 1
// was stored but before the call was hung up: the new controller does not
// offer again, and the call ends as a requested callback, the request
// unchanged. A client that no longer offers callbacks (configuration
// changed meanwhile) gets its caller a plain overflow instead of an offer.
func TestRestartAfterCallbackStored(t *testing.T) {
	h := callbackHarness(t)
	first := h.start()
	stored := h.call("0312345678", "09012345678")
	other := h.call("0312345678", "09087654321")
	for _, id := range []string{stored, other} {
		h.eventually("callback offered, state saved", func() bool {
			ch, ok := h.fake.Channel(id)
			return ok && strings.Contains(ch.Vars["TORITSUGI_STATE"], "s=callback")
		})
	}
	first.stop()
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	if err := h.store.PutCallback(store.Callback{ID: stored, ClientID: "acme", Number: "+819012345678", RequestedAt: at}); err != nil {
		t.Fatal(err)
	}
	// The second caller's client stops offering callbacks.
	h.cfg.Clients[0].Overflow = config.OverflowHangup
	h.start()
	rec := h.record(stored)
	if rec.Result != store.ResultOverflow || rec.Reason != "overflow: callback requested" {
		t.Fatalf("stored request, restart: %s (%s); events %v", rec.Result, rec.Reason, rec.Events)
	}
	var thanks int
	for _, r := range h.fake.Requests() {
		if strings.Contains(r.Path, stored) && strings.Contains(r.Body, "toritsugi/callback-thanks") {
			thanks++
		}
	}
	if thanks != 1 {
		t.Fatalf("the caller whose request was stored heard the thanks %d times, want once", thanks)
	}
	if c, err := h.store.Callback(stored); err != nil || !c.RequestedAt.Equal(at) || c.State != store.CallbackPending {
		t.Fatalf("the request after the restart: %+v, %v", c, err)
	}
	rec = h.record(other)
	if rec.Result != store.ResultOverflow || strings.Contains(rec.Reason, "callback") {
		t.Fatalf("callbacks no longer offered, restart: %s (%s)", rec.Result, rec.Reason)
	}
	if _, err := h.store.Callback(other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a request was stored for the caller who was not offered again: %v", err)
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
	h.eventually("second caller waiting", func() bool { return containsID(h.waiting("acme"), second) })
	// The queue decides in the same step as the enqueue: a ring would be
	// recorded by now.
	if got := h.operatorState("op1001"); got != acd.OnCall {
		t.Fatalf("op1001 is %v while still talking, want on-call", got)
	}
	if rings := h.firstRings(); containsID(rings, second) {
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
		rec.DID != "0312345678" || rec.CallerID != "0901234567" || rec.StartedAt.IsZero() || !strings.Contains(fmt.Sprint(rec.Events), "ended while no controller watched") {
		t.Fatalf("call that ended unseen: %+v", rec)
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
	if rec.Result != store.ResultAbandoned || rec.Billable || rec.ClientID != "acme" {
		t.Fatalf("call whose caller left a half-made bridge: %s (%s) billable %v", rec.Result, rec.Reason, rec.Billable)
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

// TestRestartWhileBridgedClientGone: the client of a talking caller is no
// longer configured after the restart: the call ends (failed), and its
// operator's leg and bridge go with it.
func TestRestartWhileBridgedClientGone(t *testing.T) {
	h := newHarness(t, oneClient)
	first, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second})
	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf("ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s",
		h.fake.URL(), strings.Replace(oneClient, "id: acme", "id: other", 1))), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultFailed || !strings.Contains(rec.Reason, "no longer configured") {
		t.Fatalf("after restart: %s (%s)", rec.Result, rec.Reason)
	}
	cl := first.c.Link.Client()
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
	h.eventually("caller waiting", func() bool { return containsID(h.waiting("acme"), id) })
	first.stop()
	bridges := first.c.Link.Client().Bridge()
	br := ari.NewKey(ari.BridgeKey, id+"-br-dead0001-3")
	st := call.Persisted{ClientID: "acme", DID: "0312345678", Step: call.StepConnected, StartedAt: time.Now(), OpID: "op1001", OpChannel: id + "-op-op1001-dead0001-2", Bridge: br.ID}
	if _, err := bridges.Create(br, "mixing", call.BridgeName("toritsugi", id, "0901234567", st)); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.eventually("caller waiting again", func() bool { return containsID(h.waiting("acme"), id) })
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
// (answering as op says; op1002 is not registered), then stops it. It
// returns the stopped controller and the caller's channel.
func (h *harness) bridgeThenStop(op aritest.EndpointBehavior) (*running, string) {
	h.t.Helper()
	h.fake.AddEndpoint("PJSIP/op1001", true, op)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	first := h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	id := h.call("0312345678", "0901234567")
	h.eventually("bridged", func() bool {
		ch, ok := h.fake.Channel(id)
		return ok && ch.BridgeID != ""
	})
	first.stop()
	return first, id
}

// wantTalkedThrough checks that call id, bridged with op before a restart,
// was re-adopted as talking (not queued and rung again) and recorded as
// answered by op, and that no channel or bridge is left.
func (h *harness) wantTalkedThrough(id, op string, cl ari.Client) {
	h.t.Helper()
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.OperatorID != op || !strings.Contains(fmt.Sprint(rec.Events), "re-adopted after controller restart at step connected") {
		h.t.Fatalf("after restart: %s (%s) op %q, events %v", rec.Result, rec.Reason, rec.OperatorID, rec.Events)
	}
	if o := h.originates(); len(o) != 1 {
		h.t.Fatalf("%d originates, want 1 (the talking caller must not be queued again): %+v", len(o), o)
	}
	h.eventually("no channels or bridges left", func() bool { return len(h.fake.Channels()) == 0 && h.bridgeCount(cl) == 0 })
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

// offerPlaybacks lists the ids of the callback offers played to call id.
func offerPlaybacks(h *harness, id string) []string {
	var out []string
	for _, r := range h.fake.Requests() {
		if pb, ok := strings.CutPrefix(r.Path, "/channels/"+id+"/play/"); ok && strings.Contains(r.Body, "toritsugi/callback-offer") {
			out = append(out, pb)
		}
	}
	return out
}

// containsRequest reports whether the fake received method path.
func containsRequest(h *harness, method, path string) bool {
	for _, r := range h.fake.Requests() {
		if r.Method == method && r.Path == path {
			return true
		}
	}
	return false
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// TestVIPClientHangsUpDuringWhisper: the client answers the transfer and
// hangs up at once; the caller must reach an operator (a fresh bridge, not
// the one prepared for the client).
func TestVIPClientHangsUpDuringWhisper(t *testing.T) {
	h := newHarness(t, vipClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.SetRemoteNumber("0399990000", aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 10 * time.Millisecond})
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	rec := h.record(h.call("0312345678", "09011111111"))
	if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("VIP whose client hung up during the whisper: %s (%s) op %q; events %v", rec.Result, rec.Reason, rec.OperatorID, rec.Events)
	}
	h.eventually("no channels left", func() bool { return len(h.fake.Channels()) == 0 })
}

// TestRestartWhileLeavingVoicemail: the controller restarts while a caller
// records a message; the message is still recorded as a voicemail.
func TestRestartWhileLeavingVoicemail(t *testing.T) {
	h := newHarness(t, `
queue: {max_wait: 200ms}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    overflow: voicemail
    overflow_sound: ""
    voicemail_prompt: ""
    voicemail_max: 60s
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	first := h.start()
	id := h.call("0312345678", "09012345678")
	h.eventually("recording the message, state saved", func() bool {
		ch, ok := h.fake.Channel(id)
		return ok && strings.Contains(ch.Vars["TORITSUGI_STATE"], "s=voicemail")
	})
	first.stop()
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultVoicemail || rec.Recording == "" {
		t.Fatalf("after a restart during the message: %s (%s) recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
	}
}

// TestBurstOfCallsAllQueued: 1,000 callers arrive at once while no
// operator is reachable; every one of them is answered, greeted and
// queued (none lost between StasisStart and the queue), and each leaving
// caller is recorded as abandoned.
func TestBurstOfCallsAllQueued(t *testing.T) {
	h := newHarness(t, `
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.start()
	const n = 1000
	ids := make([]string, n)
	for i := range n {
		ids[i] = h.call("0312345678", fmt.Sprintf("090%08d", i))
	}
	h.eventually("all callers queued", func() bool { return len(h.waiting("acme")) == n })
	for _, id := range ids[:10] {
		if err := h.fake.RemoteHangup(id); err != nil {
			t.Fatal(err)
		}
		if rec := h.record(id); rec.Result != store.ResultAbandoned {
			t.Fatalf("caller %s who left: %s (%s)", id, rec.Result, rec.Reason)
		}
	}
	h.eventually("the others still queued", func() bool { return len(h.waiting("acme")) == n-10 })
}

// TestVIPOwnWhisper: a VIP rule with its own whisper ("山田社長からのお電話
// です") is what the client hears before the bridge, instead of the
// client's transfer_whisper.
func TestVIPOwnWhisper(t *testing.T) {
	h := newHarness(t, strings.Replace(vipClient,
		`{match: "090-1111-1111", action: vip, name: 山田社長}`,
		`{match: "090-1111-1111", action: vip, name: 山田社長, whisper: "sound:toritsugi/yamada-whisper"}`, 1))
	h.fake.AddSound("toritsugi/yamada-whisper", time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.SetRemoteNumber("0399990000", answers)
	h.start()
	id := h.call("0312345678", "09011111111")
	if rec := h.record(id); rec.Result != store.ResultTransferred {
		t.Fatalf("VIP call: %s (%s)", rec.Result, rec.Reason)
	}
	var whispers []string
	for _, r := range h.fake.Requests() {
		if strings.HasPrefix(r.Path, "/channels/"+id+"-tx-") && strings.Contains(r.Path, "/play") {
			whispers = append(whispers, r.Body)
		}
	}
	if len(whispers) != 1 || !strings.Contains(whispers[0], "sound:toritsugi/yamada-whisper") {
		t.Fatalf("plays on the client's leg: %q, want the VIP's own whisper once", whispers)
	}
}
