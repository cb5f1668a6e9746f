package controller_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	h.startOp1001(answers)

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

func TestCallerHangsUpWhileRinging(t *testing.T) {
	h := newHarness(t, oneClient)
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	id := h.call("0312345678", "0901234567")
	h.eventually("op1001 ringing", func() bool { return h.operatorState("op1001") == acd.Ringing })
	// Ring a few milliseconds: the wait is recorded in whole ones, and
	// all of this can take less than one (a flake of 0 ms once).
	time.Sleep(5 * time.Millisecond)
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

func TestRingbackUntilOperatorAnswers(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    answer_mode: ringback\n    ringback_max: 30s\n", 1))
	h.startOp1001(answers)
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

// TestRingbackMaxCountsFromTheFirstRing: a ringback caller whose operator
// hung up during the whisper goes back in line, still unanswered. Their
// ringback_max runs from when they first heard ringing, not again from
// the requeue: a caller rings no longer than the client allows.
func TestRingbackMaxCountsFromTheFirstRing(t *testing.T) {
	h := newHarness(t, `
queue: {ring_timeout: 60s, max_wait: 2s, wrapup: 10m}
clients:
  - id: acme
    name: 株式会社ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    whisper_sound: sound:toritsugi/long-whisper
    answer_mode: ringback
    ringback_max: 1s
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	// In Asterisk's time: answers after 40 s, hangs up 20 s into a 50 s
	// whisper (0.4 s and 0.2 s of test time); then wraps up for 10 min.
	h.fake.AddSound("toritsugi/long-whisper", 50*time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: 40 * time.Second, HangupAfter: 20 * time.Second})
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	ringing, lost, answered := eventAt(rec, "ringback"), eventAt(rec, "op1001 lost"), eventAt(rec, "no operator within the ringback time")
	if ringing.IsZero() || lost.IsZero() || answered.IsZero() {
		t.Fatalf("timeline lacks ringback, the lost operator or the answer: %v", rec.Events)
	}
	if lost.Sub(ringing) < 500*time.Millisecond {
		t.Fatalf("the operator was lost %s after the first ring: the test needs the requeue late in the ringback", lost.Sub(ringing))
	}
	// From the first ring: 1 s. From the requeue it would be over 1.5 s.
	if got := answered.Sub(ringing); got < time.Second || got >= 1400*time.Millisecond {
		t.Fatalf("answered %s after the first ring, want ringback_max (1s) from it; events %v", got, rec.Events)
	}
}

func TestRecordingRetention(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n    recording_retention_days: 90\n", 1))
	h.retention = true
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	r := h.start()
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	// The name says whose it is: the deployment, then the controller's
	// instance.
	if want := strings.ReplaceAll(id, ".", "-") + "-" + testDeployment + "-"; !strings.HasPrefix(rec.Recording, want) {
		t.Fatalf("recording %q on %+v, want %s<instance>", rec.Recording, rec, want)
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

// TestRecordingRequestTimesOut: Asterisk, under load, answers the bridge
// recording's request after the controller gave up on it, having started
// the recording before the controller gave up or only after. The record
// used to name none, and the retention, going by records, never deleted
// it: it is named either way.
func TestRecordingRequestTimesOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		late bool // Asterisk runs the request after the controller gave up
	}{{"started before the timeout", false}, {"started after the timeout", true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, oneClient)
			// The operator talks until the caller hangs up, once the
			// request reached the fake however late.
			h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
			h.fake.AddEndpoint("PJSIP/op1002", false, answers)
			fakeURL := h.fake.URL()
			forwarded := make(chan struct{})
			h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/ari/bridges/") || !strings.HasSuffix(r.URL.Path, "/record") {
					return false
				}
				body, _ := io.ReadAll(r.Body)
				forward := func() {
					req, _ := http.NewRequest(http.MethodPost, fakeURL+strings.TrimPrefix(r.URL.Path, "/ari")+"?"+r.URL.RawQuery, strings.NewReader(string(body)))
					req.Header = r.Header.Clone()
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				}
				if !tc.late {
					forward()
				}
				time.Sleep(2200 * time.Millisecond) // the controller's RequestTimeout is 2 s
				if tc.late {
					forward()
				}
				close(forwarded)
				w.WriteHeader(http.StatusCreated)
				return true
			})
			r := h.start()
			id := h.call("0312345678", "0901234567")
			select {
			case <-forwarded:
			case <-time.After(10 * time.Second):
				t.Fatal("the recording's request never came")
			}
			if err := h.fake.RemoteHangup(id); err != nil {
				t.Fatal(err)
			}
			rec := h.record(id)
			if rec.Result != store.ResultAnswered {
				t.Fatalf("record %s (%s), want answered", rec.Result, rec.Reason)
			}
			keys, err := r.c.Link.Client().StoredRecording().List(nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1 || rec.Recording != keys[0].ID {
				t.Fatalf("record names recording %q, Asterisk stored %v", rec.Recording, keys)
			}
		})
	}
}

// TestRecordingNamedByNoRecord: a store restored from a backup has no
// record of the calls made after it, nor of their recordings, which the
// retention, going by records, kept for ever. Once past the longest
// retention of any client (the default 90 days here, and a day more),
// the recordings this deployment's calls made are deleted all the same;
// one named otherwise (another toritsugi's on the same Asterisk, one made
// before names said whose, anything else) is never touched, and with a
// client keeping recordings a year nothing goes at 92 days.
func TestRecordingNamedByNoRecord(t *testing.T) {
	made := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	id := func(n int) string { return fmt.Sprintf("%d.%d", made.Unix(), n) }
	for _, tc := range []struct {
		name  string
		days  string
		after int  // days after the recordings were made
		gone  bool // this deployment's old recordings deleted
	}{
		{"past every retention", "", 92, true},
		{"a client keeps them a year", "    recording_retention_days: 365\n", 92, false},
		{"within the retention and its day more", "", 90, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n"+tc.days, 1))
			tag := testDeployment + "-0a1b2c3d"
			ours := []string{call.RecordingName(id(1), false, tag), call.RecordingName(id(2), true, tag), call.RecordingName("pbx1-"+id(3), false, tag)}
			theirs := []string{
				"monitor-" + id(4), call.RecordingName(id(5), false, "0a1b2c3d"), // named before names said whose
				call.RecordingName(id(6), false, "0badbeef-0a1b2c3d"), // another deployment's
				call.RecordingName(fmt.Sprintf("%d.7", made.AddDate(0, 0, 80).Unix()), false, tag),
			}
			var gone []string
			if tc.gone {
				gone = ours
			}
			for _, n := range append(append([]string(nil), ours...), theirs...) {
				h.fake.AddStoredRecording(n, "wav")
			}
			r := h.start()
			ret := &controller.Retention{Store: h.store, ARI: r.c.Link.Client(), Config: func() *config.Config { return h.cfg }, Deployment: testDeployment, Logger: storetest.Logger(t)}
			n, err := ret.Sweep(made.AddDate(0, 0, tc.after).Add(time.Minute))
			if err != nil || n != len(gone) {
				t.Fatalf("sweep deleted %d (%v), want %d", n, err, len(gone))
			}
			keys, err := r.c.Link.Client().StoredRecording().List(nil)
			if err != nil {
				t.Fatal(err)
			}
			left := map[string]bool{}
			for _, k := range keys {
				left[k.ID] = true
			}
			for _, n := range append(append([]string(nil), ours...), theirs...) {
				if want := !slices.Contains(gone, n); left[n] != want {
					t.Errorf("recording %s kept %v, want %v", n, left[n], want)
				}
			}
		})
	}
}

// TestRecordingRetentionOfARemovedClient: a client kept recordings a year;
// once it is removed from the configuration, its recordings are kept the
// default 90 days, not forever.
func TestRecordingRetentionOfARemovedClient(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n    recording_retention_days: 365\n", 1))
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	r := h.start()
	rec := h.record(h.call("0312345678", "0901234567"))
	if rec.Recording == "" {
		t.Fatalf("no recording on %+v", rec)
	}
	cfg := h.cfg
	ret := &controller.Retention{Store: h.store, ARI: r.c.Link.Client(), Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t)}
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 100)); err != nil || n != 0 {
		t.Fatalf("sweep at 100 days, the client keeping a year: deleted %d (%v), want 0", n, err)
	}
	other, err := config.Parse("test.yaml", []byte(fmt.Sprintf("ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s",
		h.fake.URL(), strings.Replace(oneClient, "id: acme", "id: other", 1))), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg = other
	if n, err := ret.Sweep(rec.StartedAt.AddDate(0, 0, 101)); err != nil || n != 1 {
		t.Fatalf("sweep at 101 days, the client removed: deleted %d (%v), want 1", n, err)
	}
	if after, _ := h.store.Call(rec.ID); after.Recording != "" || !strings.Contains(fmt.Sprint(after.Events), "deleted after 90 days") {
		t.Fatalf("record after the sweep: recording %q, events %v", after.Recording, after.Events)
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

// TestOperatorHangsUpDuringWhisper: Asterisk reports a playback cut by its
// channel's hangup as finished ("failed"), before the channel leaves Stasis.
// The whisper's end must not bridge the caller with a leg that is hanging
// up: the caller waits again, and no bridge is made.
func TestOperatorHangsUpDuringWhisper(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddSound("beep", 30*time.Second) // the whisper: 0.3 s of test time
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 2 * time.Second})
	id := h.call("0312345678", "0901234567")
	h.eventually("the whisper on op1001's leg, the leg gone", func() bool {
		return whisperPlayed(h) && h.operatorLeg("op1001") == "" && len(h.waiting("acme")) == 1
	})
	for _, r := range h.fake.Requests() {
		if r.Method == "POST" && strings.HasPrefix(r.Path, "/bridges") {
			t.Fatalf("a bridge was made with a leg that was hanging up:\n%s", h.requests())
		}
	}
	if got := h.waiting("acme"); got[0] != id {
		t.Fatalf("waiting %v, want the caller again", got)
	}
}

// whisperPlayed reports whether a playback was started on an operator's leg.
func whisperPlayed(h *harness) bool {
	for _, r := range h.fake.Requests() {
		if r.Method == "POST" && strings.Contains(r.Path, "-op-") && strings.Contains(r.Path, "/play/") {
			return true
		}
	}
	return false
}

// TestOperatorAnswersAsTheLinkComesBack: the ARI link drops while an
// operator's phone rings, and the phone answers just as the controller,
// back, checks the leg: the re-sync finds it answered, the call connects,
// and only then does the leg's StasisStart arrive (the network held it).
// Told twice, the call must connect once: it used to hang up the leg the
// second time, and leave the caller in silence for good.
func TestOperatorAnswersAsTheLinkComesBack(t *testing.T) {
	var (
		mu       sync.Mutex
		leg      string // the ringing leg
		answered bool
		released = make(chan struct{})
		fake     *aritest.Server
	)
	h := newHarnessFake(t, strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 120s", 1), aritest.Options{
		OnRequest: func(r aritest.ReceivedRequest) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case leg == "":
			case !answered && r.Method == "GET" && r.Path == "/channels/"+leg:
				// The re-sync asks: the phone answers now, and its
				// StasisStart is held back. (The link's first reads may
				// come before its websocket is attached: wait for it, or
				// Stasis() would refuse the leg.)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := fake.WaitConnected(ctx, 2); err != nil {
					t.Errorf("no second websocket: %v", err)
				}
				fake.HoldEvents(true)
				if err := fake.RemoteAnswer(leg); err != nil {
					t.Errorf("answering %s: %v", leg, err)
				}
				answered = true
			case answered && r.Method == "POST" && strings.HasPrefix(r.Path, "/channels/"+leg+"/play/"):
				// The whisper: the call connected. Now the StasisStart.
				fake.HoldEvents(false)
				leg = ""
				close(released)
			}
		},
	})
	fake = h.fake
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	id := h.call("0312345678", "0901234567")
	h.eventually("op1001 ringing", func() bool {
		c, ok := h.fake.Channel(h.operatorLeg("op1001"))
		return ok && c.State == "Ringing"
	})
	mu.Lock()
	leg = h.operatorLeg("op1001")
	mu.Unlock()
	h.fake.DropWebSockets()
	select {
	case <-released:
	case <-time.After(10 * time.Second):
		h.fake.HoldEvents(false)
		t.Fatalf("no whisper after the re-sync found the leg answered:\n%s", h.requests())
	}
	h.eventually("caller bridged with op1001", func() bool {
		c, ok := h.fake.Channel(id)
		return ok && c.BridgeID != ""
	})
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(id); rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("record %s (%s) op %q, want answered by op1001; timeline %v", rec.Result, rec.Reason, rec.OperatorID, rec.Events)
	}
}

// TestConversationRecordingFails: Asterisk cannot record the conversation
// (a full disk): the call goes on, answered, and its record names no
// recording (it would point at a file that does not exist) but says why.
func TestConversationRecordingFails(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.FailRecordings("disk full")
	h.start()
	rec := h.record(h.call("0312345678", "0901234567"))
	if rec.Result != store.ResultAnswered || rec.Recording != "" || !strings.Contains(fmt.Sprint(rec.Events), "the conversation could not be recorded: disk full") {
		t.Fatalf("a conversation that could not be recorded: %+v", rec)
	}
}

// TestRingAllOthersStopAnsweredElsewhere: ring-all rings both operators;
// when one answers, the other's phone is hung up as answered elsewhere,
// so that it shows no missed call.
func TestRingAllOthersStopAnsweredElsewhere(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n    queue: {strategy: ring-all}\n", 1))
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", true, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.start()
	id := h.call("0312345678", "0901234567")
	if rec := h.record(id); rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("ring-all call: %s (%s) by %q", rec.Result, rec.Reason, rec.OperatorID)
	}
	var stopped []string
	for _, r := range h.fake.Requests() {
		if r.Method == "DELETE" && strings.Contains(r.Path, "-op-op1002-") {
			stopped = append(stopped, r.Query)
		}
	}
	if len(stopped) != 1 || stopped[0] != "reason=answered_elsewhere" {
		t.Fatalf("op1002's ring stopped with %q, want once as answered_elsewhere", stopped)
	}
}

// TestCallerHangsUpDuringWhisper: a caller who leaves while the operator
// hears the whisper was never put through: the operator has nothing to
// wrap up and takes the next caller at once, not after the client's
// wrap-up (an hour here).
func TestCallerHangsUpDuringWhisper(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "wrapup: 0s", "wrapup: 1h", 1))
	h.fake.AddSound("beep", 100*time.Second) // the whisper: 1 s of test time
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	id := h.call("0312345678", "0901234567")
	h.eventually("the whisper on op1001's leg", func() bool { return whisperPlayed(h) })
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(id); !rec.BridgedAt.IsZero() {
		t.Fatalf("the caller who left during the whisper was put through: %+v", rec)
	}
	h.eventually("op1001 available at once", func() bool { return h.operatorState("op1001") == acd.Available })
	next := h.call("0312345678", "0907654321")
	h.eventually("op1001 rung for the next caller", func() bool {
		for _, v := range h.snapshot().Operators {
			if v.ID == "op1001" {
				return v.CallID == next && (v.State == acd.Ringing || v.State == acd.OnCall)
			}
		}
		return false
	})
}

// TestCallerHangsUpAsOperatorAnswers: the operator's answer and the
// caller's hang-up come together (one batch of events). The caller was
// never put through (no whisper, no bridge): as when a caller leaves
// during the whisper, the operator is free at once, not held in the
// client's wrap-up (an hour here), and the call is abandoned, not billed.
func TestCallerHangsUpAsOperatorAnswers(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "wrapup: 0s", "wrapup: 1h", 1))
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	id := h.call("0312345678", "0901234567")
	var leg string
	h.eventually("op1001 ringing", func() bool {
		for _, c := range h.fake.Channels() {
			if strings.Contains(c.ID, "-op-op1001-") && c.State == "Ringing" {
				leg = c.ID
				return true
			}
		}
		return false
	})
	h.fake.HoldEvents(true)
	if err := h.fake.RemoteAnswer(leg); err != nil {
		t.Fatal(err)
	}
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	h.fake.HoldEvents(false)
	if rec := h.record(id); rec.Result != store.ResultAbandoned || rec.Billable || !rec.BridgedAt.IsZero() {
		t.Fatalf("record: %s (%s), billable %v, bridged at %v; want abandoned, not billed, never bridged", rec.Result, rec.Reason, rec.Billable, rec.BridgedAt)
	}
	h.eventually("op1001 available at once", func() bool { return h.operatorState("op1001") == acd.Available })
}

// TestOperatorHangsUpDuringTheRecordingNotice: the operator hangs up while
// the caller hears the recording notice (after the whisper, before the
// bridge): the notice is stopped, the caller waits again, and the next
// connect (the same operator, rung again) plays it from the start, once.
func TestOperatorHangsUpDuringTheRecordingNotice(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n    record_announcement: sound:toritsugi/recorded\n", 1))
	h.fake.AddSound("beep", time.Second)                   // the whisper: 10 ms
	h.fake.AddSound("toritsugi/recorded", 100*time.Second) // the notice: 1 s
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	id := h.call("0312345678", "0901234567")
	h.eventually("the notice plays to the caller", func() bool {
		c, ok := h.fake.Channel(id)
		return ok && len(c.Playing) > 0 && strings.Contains(c.Playing[0], "toritsugi/recorded")
	})
	if err := h.fake.RemoteHangup(h.operatorLeg("op1001")); err != nil {
		t.Fatal(err)
	}
	h.eventually("the notice stopped", func() bool {
		for _, r := range h.fake.Requests() {
			if r.Method == http.MethodDelete && strings.HasPrefix(r.Path, "/playbacks/"+id+"-pb-") {
				return true
			}
		}
		return false
	})
	if c, _ := h.fake.Channel(id); c.BridgeID != "" {
		t.Fatalf("the caller is in bridge %s with nobody", c.BridgeID)
	}
	h.eventually("the caller put through to the operator rung next", func() bool {
		c, ok := h.fake.Channel(id)
		return ok && c.BridgeID != "" && h.operatorState("op1001") == acd.OnCall
	})
	plays := 0
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodPost && strings.Contains(r.Path, "/channels/"+id+"/play") && strings.Contains(r.Body, "toritsugi/recorded") {
			plays++
		}
	}
	if plays != 2 {
		t.Fatalf("the notice was played %d times, want twice (once to each operator's connect)", plays)
	}
}
