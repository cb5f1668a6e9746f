package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
	"github.com/toritsugi/toritsugi/pkg/syncbuf"
)

// TestForgetCallerErasesEverywhere: POST /api/v1/callers/forget erases a
// caller on request: their messages and the outbox's copies of every
// version (delivered or not), their missed-call notices, their callback
// requests, their number in their calls' records, and their calls'
// recordings in Asterisk; it says where copies were delivered (the
// clients' to erase) and which recordings it could not delete. Another
// caller's entries stay; a number that is none is a 400.
// forgetWorld is a store with its outbox and one message, i1, taken from
// 090-1111-2222 at at.
func forgetWorld(t *testing.T) (st *store.Store, ob *relay.Outbox, i1 store.Intake, at time.Time) {
	t.Helper()
	st = storetest.Open(t)
	at = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Clock: &steppedClock{now: at}})
	if err != nil {
		t.Fatal(err)
	}
	in := store.Intake{ID: "i1", ClientID: "acme", OperatorID: "op1001", CallerNumber: "09011112222",
		Values: map[string]string{"name": "山田花子"}, CreatedAt: at, UpdatedAt: at}
	if i1, _, err = st.SaveIntake(in, true); err != nil {
		t.Fatal(err)
	}
	return st, ob, i1, at
}

func TestForgetCallerErasesEverywhere(t *testing.T) {
	st, ob, _, at := forgetWorld(t)
	for _, c := range []struct{ id, number, rec string }{{"call-1", "09011112222", "rec-1"}, {"call-2", "+819011112222", "rec-2"}, {"call-3", "0312345678", "rec-3"}} {
		if err := st.PutCall(store.CallRecord{ID: c.id, ClientID: "acme", CallerID: c.number, Result: store.ResultAbandoned, StartedAt: at, EndedAt: at.Add(time.Minute), Recording: c.rec}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"i1-v1", "call-2-missed-call", "call-3-missed-call"} {
		if _, err := ob.Enqueue(relay.Message{ID: m, ClientID: "acme", Text: "山田花子 090-1111-2222"}, []string{"acme-mail", "acme-slack"}); err != nil {
			t.Fatal(err)
		}
	}
	var deleted, told []string
	flaky := &failOnce{Outbox: ob}
	var logs syncbuf.Buffer
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: flaky,
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		OnForget: func(e164 string) { told = append(told, e164) },
		DeleteRecording: func(name string) error {
			if name == "rec-2" {
				return errors.New("ARI: 500")
			}
			deleted = append(deleted, name)
			return nil
		}})
	// The outbox fails the first time: nothing is erased from the store,
	// and asking again finishes the erasure.
	if resp, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222"); resp.StatusCode != 500 || !strings.Contains(string(body), "ask again") {
		t.Fatalf("first: %d %s, want 500", resp.StatusCode, body)
	}
	resp, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222")
	var got struct {
		Number                     string
		Messages, Calls, Callbacks int
		RelayEntries               int      `json:"relay_entries"`
		SentTo                     []string `json:"sent_to"`
		MaybeSentTo                []string `json:"maybe_sent_to"`
		Recordings                 []string
		RecordingsLeft             []string `json:"recordings_left"`
	}
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s (%v)", resp.StatusCode, body, err)
	}
	// Pending entries: their sends may have been on their way.
	if got.Number != "090-1111-2222" || len(got.SentTo) != 0 || !slices.Equal(got.MaybeSentTo, []string{"acme-mail", "acme-slack"}) || got.Messages != 1 || got.Calls != 2 || got.RelayEntries != 4 ||
		!slices.Equal(got.Recordings, []string{"rec-1"}) || !slices.Equal(got.RecordingsLeft, []string{"rec-2"}) {
		t.Fatalf("answer %s", body)
	}
	left, err := ob.List(relay.Filter{})
	if err != nil || len(left) != 2 || left[0].Message.ID != "call-3-missed-call" || left[1].Message.ID != "call-3-missed-call" {
		t.Fatalf("outbox after: %+v (%v), want call-3's two entries", left, err)
	}
	if rec, err := st.Call("call-3"); err != nil || rec.CallerID != "0312345678" {
		t.Fatalf("another caller's record: %+v (%v)", rec, err)
	}
	if !slices.Equal(deleted, []string{"rec-1"}) || !slices.Equal(told, []string{"+819011112222"}) {
		t.Fatalf("recordings deleted: %v; told of %v", deleted, told)
	}
	// The recording Asterisk kept is still named by its record (for the
	// retention), whose caller is erased.
	if rec, err := st.Call("call-2"); err != nil || rec.Recording != "rec-2" || rec.CallerID != "" {
		t.Fatalf("call-2: %+v (%v)", rec, err)
	}
	// The log says who was erased, masked.
	for _, n := range []string{"090-1111-2222", "09011112222", "9011112222"} {
		if strings.Contains(logs.String(), n) {
			t.Fatalf("the log names the erased caller's number %s:\n%s", n, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "number=%2A%2A%2A%2A%2A%2A%2A%2A%2A2222") && !strings.Contains(logs.String(), "*2222") {
		t.Fatalf("the log does not say whose data was erased, masked:\n%s", logs.String())
	}
	if !strings.Contains(string(body), `"sent_to":[]`) {
		t.Fatalf("sent_to not an empty list: %s", body)
	}
	for _, q := range []string{"number=anonymous", "number=", "numbr=0312345678"} {
		if resp, body := do(t, h, "POST", "/api/v1/callers/forget?"+q); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", q, resp.StatusCode, body)
		}
	}
}

// failOnce is an outbox whose first Forget fails.
type failOnce struct {
	*relay.Outbox
	failed bool
}

func (f *failOnce) Forget(ids []string) (int, error) {
	if !f.failed {
		f.failed = true
		return 0, errors.New("write toritsugi.db: no space left on device")
	}
	return f.Outbox.Forget(ids)
}

// TestForgetCallerOnACallRefused: a caller on a call now (their state
// live) is not erased: the call's record would be written with their
// number when it ends. 409, to ask again.
func TestForgetCallerOnACallRefused(t *testing.T) {
	st := storetest.Open(t)
	st.SaveLive("in-progress", "n=09011112222&s=queued")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if live, _, err := st.LiveCalls(); err == nil && len(live) == 1 {
			break
		} else if time.Now().After(deadline) {
			t.Fatal("live state never written")
		}
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	if resp, body := do(t, h, "POST", "/api/v1/callers/forget?number=+819011112222"); resp.StatusCode != 409 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%d %s, want 409 with Retry-After", resp.StatusCode, body)
	}
}

// TestForgetAskAgainDeletesTheRecordingLeft: an erasure whose recording
// Asterisk could not delete (the link down) says it left it; its record,
// erased, no longer names the caller, so asking again for the number
// found nothing and answered that nothing was left: the caller's voice
// stayed until the client's retention. The recording is kept in the
// store as left, and asking again (for any number) deletes it, noting it
// in its record.
func TestForgetAskAgainDeletesTheRecordingLeft(t *testing.T) {
	st, ob, _, at := forgetWorld(t)
	if err := st.PutCall(store.CallRecord{ID: "call-1", ClientID: "acme", CallerID: "09011112222", Result: store.ResultAnswered,
		StartedAt: at, EndedAt: at.Add(time.Minute), Recording: "rec-1"}); err != nil {
		t.Fatal(err)
	}
	asteriskDown := true
	var deleted []string
	calls := 0
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return !asteriskDown }, Token: tokenFunc, Outbox: ob,
		Logger: slog.New(slog.DiscardHandler),
		DeleteRecording: func(name string) error {
			calls++
			if asteriskDown {
				return errors.New("ARI link down")
			}
			deleted = append(deleted, name)
			return nil
		}})
	if _, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222"); !strings.Contains(string(body), `"recordings":[],"recordings_left":["rec-1"]`) {
		t.Fatalf("first request: %s", body)
	}
	// Asked again while the link is down: the leftover is not tried (each
	// try would wait for its timeout), and said left.
	// The record no longer says whose it was: asked again, the leftover
	// is said as an earlier erasure's.
	tries := calls
	if _, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222"); calls != tries ||
		!strings.Contains(string(body), `"recordings":[],"recordings_left":[],"earlier_recordings_deleted":[],"earlier_recordings_left":["rec-1"]`) {
		t.Fatalf("asked again with the link down: %d deletes tried, answer %s", calls-tries, body)
	}
	asteriskDown = false
	_, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222")
	if !slices.Equal(deleted, []string{"rec-1"}) || !strings.Contains(string(body), `"earlier_recordings_deleted":["rec-1"],"earlier_recordings_left":[]`) {
		t.Fatalf("asked again with Asterisk back: deleted %v, answer %s", deleted, body)
	}
	r, err := st.Call("call-1")
	if err != nil || r.Recording != "" || !strings.Contains(fmt.Sprint(r.Events), "recording rec-1 deleted (erasure)") {
		t.Fatalf("the record after: recording %q, timeline %v (%v)", r.Recording, r.Events, err)
	}
	if left, err := st.ErasedRecordingsLeft(); err != nil || len(left) != 0 {
		t.Fatalf("still listed as left: %v (%v)", left, err)
	}
	if _, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222"); len(deleted) != 1 ||
		!strings.Contains(string(body), `"recordings":[],"recordings_left":[],"earlier_recordings_deleted":[],"earlier_recordings_left":[]`) {
		t.Fatalf("a third request: deleted %v, answer %s", deleted, body)
	}
}

// TestForgetAnswerKeepsOtherCallersApart: the leftover of caller A's
// erasure, tried again with caller B's, was said as B's recording (a
// review found it): it is said apart, as an earlier erasure's.
func TestForgetAnswerKeepsOtherCallersApart(t *testing.T) {
	st, ob, _, at := forgetWorld(t)
	if err := st.PutCall(store.CallRecord{ID: "call-a", ClientID: "acme", CallerID: "09011112222", Result: store.ResultAnswered,
		StartedAt: at, EndedAt: at.Add(time.Minute), Recording: "rec-a"}); err != nil {
		t.Fatal(err)
	}
	down := true
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob, Logger: slog.New(slog.DiscardHandler),
		DeleteRecording: func(string) error {
			if down {
				return errors.New("Asterisk failed")
			}
			return nil
		}})
	if _, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222"); !strings.Contains(string(body), `"recordings_left":["rec-a"],"earlier_recordings_deleted":[],"earlier_recordings_left":[]`) {
		t.Fatalf("A: %s", body)
	}
	down = false
	if _, body := do(t, h, "POST", "/api/v1/callers/forget?number=080-3333-4444"); !strings.Contains(string(body),
		`"recordings":[],"recordings_left":[],"earlier_recordings_deleted":["rec-a"],"earlier_recordings_left":[]`) {
		t.Fatalf("B, who has nothing: %s", body)
	}
}
