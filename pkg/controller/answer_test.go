package controller_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestUnansweredCallerIsRefusedWith480: a caller hung up without being
// answered (closed with nothing to hear and no voicemail; a queue given
// up in ringback, TestRingbackOverflowWithNothingToSay) is not answered
// first, and is refused with cause no_answer (SIP 480), not "normal",
// which chan_pjsip sends as 603 Decline, a final refusal; a blocked
// caller still gets that.
func TestUnansweredCallerIsRefusedWith480(t *testing.T) {
	h := newHarness(t, `
clients:
  - id: closed
    name: 休業中
    dids: ["03-1111-1111"]
    greeting: sound:toritsugi/closed-greeting
    hours: {weekly: {mon: []}}
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    callers:
      - {match: "050*", action: block}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: [acme]}
`)
	h.start()
	for _, tt := range []struct {
		name, did, caller string
		result            store.Result
		wantReason        string
	}{
		{"closed with nothing to say", "0311111111", "0901234567", store.ResultAfterHours, "no_answer"},
		{"blocked", "0312345678", "05011112222", store.ResultBlocked, "normal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := h.call(tt.did, tt.caller)
			rec := h.record(id)
			if rec.Result != tt.result || !rec.AnsweredAt.IsZero() {
				t.Fatalf("record %s (%s) answered at %v, want %s unanswered", rec.Result, rec.Reason, rec.AnsweredAt, tt.result)
			}
			refusedUnanswered(t, h, id, tt.wantReason)
		})
	}
}

// refusedUnanswered fails t unless the caller's channel id was never
// answered and was hung up once, with reason.
func refusedUnanswered(t *testing.T, h *harness, id, reason string) {
	t.Helper()
	if containsRequest(h, "POST", "/channels/"+id+"/answer") {
		t.Fatalf("answered only to be hung up:\n%s", h.requests())
	}
	var reasons []string
	for _, r := range h.fake.Requests() {
		if r.Method == "DELETE" && r.Path == "/channels/"+id {
			q, _ := url.ParseQuery(r.Query)
			reasons = append(reasons, q.Get("reason"))
		}
	}
	if len(reasons) != 1 || reasons[0] != reason {
		t.Fatalf("hang-ups with reasons %q, want one with %q:\n%s", reasons, reason, h.requests())
	}
}

// TestVoicemailBeepAfterTheLeadIn: a ringback caller answered only to
// leave a message, with no prompt, hears the answer's lead-in before the
// recording's beep (played at once, the beep would be cut).
func TestVoicemailBeepAfterTheLeadIn(t *testing.T) {
	h := newHarness(t, `
queue: {max_wait: 200ms}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    answer_mode: ringback
    ringback_max: 60s
    overflow: voicemail
    overflow_sound: ""
    voicemail_prompt: ""
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.start()
	id := h.call("0312345678", "09012345678")
	h.eventually("recording the message", func() bool { return containsRequest(h, "POST", "/channels/"+id+"/record") })
	var seq []string
	for _, r := range h.fake.Requests() {
		if r.Method == "POST" && strings.HasPrefix(r.Path, "/channels/"+id+"/") && !strings.HasSuffix(r.Path, "/variable") {
			step := strings.TrimPrefix(r.Path, "/channels/"+id+"/")
			if strings.HasPrefix(step, "play/") {
				step = "play " + strings.TrimSpace(r.Body)
			}
			seq = append(seq, step)
		}
	}
	want := []string{"ring", "answer", `play {"media":["sound:silence/1"]}`, "record"}
	if len(seq) < 4 || !slices.Equal(seq[:4], want) {
		t.Fatalf("caller's requests %q, want %q", seq, want)
	}
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	h.record(id)
}
