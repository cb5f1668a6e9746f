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
)

// TestForgetCallerWindow: what is stored for the caller while the erasure
// runs (between the API's first look and the store's erasure: the outbox
// look-ups and Asterisk's deletes), a call with its recording, is erased,
// and the recording not deleted is said left, still named by its record
// for the retention; a correction of their message meanwhile is refused.
func TestForgetCallerWindow(t *testing.T) {
	st, ob, stored, at := forgetWorld(t)
	if _, err := ob.Enqueue(relay.Message{ID: "i1-v1", ClientID: "acme", Text: "山田花子 090-1111-2222"}, []string{"acme-mail"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCall(store.CallRecord{ID: "call-1", ClientID: "acme", CallerID: "09011112222", Result: store.ResultAnswered, StartedAt: at, EndedAt: at.Add(time.Minute), Recording: "rec-1"}); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob,
		DeleteRecording: func(name string) error {
			deleted = append(deleted, name)
			// Meanwhile: the operator's correction of the message is
			// refused (the caller's data is being erased), and another
			// call of theirs, recorded, is stored (it began and ended
			// since the look).
			stored.Values = map[string]string{"name": "山田花子", "purpose": "訂正"}
			if _, _, err := st.SaveCorrection(stored, 1); !errors.Is(err, store.ErrErasing) {
				t.Errorf("a correction during the erasure: %v, want ErrErasing", err)
			}
			if err := st.PutCall(store.CallRecord{ID: "call-2", ClientID: "acme", CallerID: "+819011112222", Result: store.ResultAnswered, StartedAt: at.Add(time.Hour), EndedAt: at.Add(2 * time.Hour), Recording: "rec-2"}); err != nil {
				t.Error(err)
			}
			return nil
		}})
	resp, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222")
	var got struct {
		Messages, Calls int
		Recordings      []string
		RecordingsLeft  []string `json:"recordings_left"`
	}
	if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s (%v)", resp.StatusCode, body, err)
	}
	left, _ := ob.List(relay.Filter{})
	for _, e := range left {
		t.Errorf("outbox still holds %s (%s) of the erased caller: %q", e.ID, e.State, e.Message.Text)
	}
	rec2, _ := st.Call("call-2")
	if !slices.Contains(got.RecordingsLeft, "rec-2") || rec2.Recording != "rec-2" || rec2.CallerID != "" {
		t.Errorf("rec-2: left %v; call-2's record %+v: want it said left and still named", got.RecordingsLeft, rec2)
	}
	if got.Messages != 1 || got.Calls != 2 {
		t.Errorf("answer %s", body)
	}
}
