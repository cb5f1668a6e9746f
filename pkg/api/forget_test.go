package api_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestForgetCallerErasesEverywhere: POST /api/v1/callers/forget erases a
// caller on request: their messages and the outbox's copies of every
// version (delivered or not), their missed-call notices, their callback
// requests, their number in their calls' records, and their calls'
// recordings in Asterisk; it says where copies were delivered (the
// clients' to erase) and which recordings it could not delete. Another
// caller's entries stay; a number that is none is a 400.
func TestForgetCallerErasesEverywhere(t *testing.T) {
	st := storetest.Open(t)
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	clock := &steppedClock{now: at}
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	in := store.Intake{ID: "i1", ClientID: "acme", OperatorID: "op1001", CallerNumber: "09011112222",
		Values: map[string]string{"name": "山田花子"}, CreatedAt: at, UpdatedAt: at}
	if _, _, err := st.SaveIntake(in, true); err != nil {
		t.Fatal(err)
	}
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
	var deleted []string
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob,
		DeleteRecording: func(name string) error {
			if name == "rec-2" {
				return errors.New("ARI: 500")
			}
			deleted = append(deleted, name)
			return nil
		}})
	resp, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222")
	var got struct {
		Number                     string
		Messages, Calls, Callbacks int
		RelayEntries               int      `json:"relay_entries"`
		SentTo                     []string `json:"sent_to"`
		Recordings                 []string
		RecordingsLeft             []string `json:"recordings_left"`
	}
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s (%v)", resp.StatusCode, body, err)
	}
	if got.Number != "090-1111-2222" || len(got.SentTo) != 0 || got.Messages != 1 || got.Calls != 2 || got.RelayEntries != 4 ||
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
	if !slices.Equal(deleted, []string{"rec-1"}) {
		t.Fatalf("recordings deleted: %v", deleted)
	}
	for _, q := range []string{"number=anonymous", "number=", "numbr=0312345678"} {
		if resp, body := do(t, h, "POST", "/api/v1/callers/forget?"+q); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", q, resp.StatusCode, body)
		}
	}
}
