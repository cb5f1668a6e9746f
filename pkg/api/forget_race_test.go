package api_test

import (
	"errors"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/desk"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// hookedStore runs after once the store's own erasure is done: what the
// console does meanwhile (its saves take no lock the erasure takes).
type hookedStore struct {
	*store.Store
	after func()
}

func (h hookedStore) ForgetCaller(e164 string, deleted []string) (store.CallerData, error) {
	f, err := h.Store.ForgetCaller(e164, deleted)
	if h.after != nil {
		h.after()
	}
	return f, err
}

// TestForgetRacesConsoleSave: an operator saves a message of the caller
// while the erasure runs. The console stores it (SaveIntake), then queues
// its copies (Desk.Submit → Outbox.Enqueue). A message stored during the
// erasure survived it, and one stored before it and queued after was
// delivered to the client after the erasure answered 200 (a review of
// people acting at once found both): saves of the number are refused
// while it is being erased, and a message is queued only while its
// intake exists and its caller is not being erased.
func TestForgetRacesConsoleSave(t *testing.T) {
	world := func(t *testing.T) (*store.Store, *relay.Outbox, time.Time) {
		st := storetest.Open(t)
		at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
		ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Clock: &steppedClock{now: at}, Admit: desk.AdmitIntakes(st)})
		if err != nil {
			t.Fatal(err)
		}
		return st, ob, at
	}
	intake := func(id string, at time.Time) store.Intake {
		return store.Intake{ID: id, ClientID: "acme", OperatorID: "op1001", CallerNumber: "09011112222",
			Values: map[string]string{"name": "山田花子", "purpose": "見積"}, CreatedAt: at, UpdatedAt: at}
	}
	message := func(id string) relay.Message {
		return relay.Message{ID: relay.IntakeMessageID(id, 1), ClientID: "acme", Kind: relay.KindIntake, IntakeID: id, Version: 1, Text: "山田花子 090-1111-2222"}
	}
	t.Run("saved while it runs", func(t *testing.T) {
		st, ob, at := world(t)
		hs := hookedStore{Store: st, after: func() {
			if _, _, err := st.SaveIntake(intake("i2", at), true); !errors.Is(err, store.ErrErasing) {
				t.Errorf("a save of the caller's message during the erasure: %v, want ErrErasing", err)
			}
			if _, err := ob.Enqueue(message("i2"), []string{"acme-mail"}); !errors.Is(err, relay.ErrNotAdmitted) {
				t.Errorf("its copy queued during the erasure: %v, want ErrNotAdmitted", err)
			}
		}}
		h := api.NewHandler(api.Deps{Calls: hs, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob})
		if resp, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222"); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if left, _ := st.IntakesForCaller("09011112222", 0); len(left) > 0 {
			t.Errorf("after the erasure the store holds %d message(s) of the caller", len(left))
		}
		if es, _ := ob.List(relay.Filter{State: relay.StatePending}); len(es) > 0 {
			t.Errorf("after the erasure the outbox holds %s, to be delivered", es[0].ID)
		}
		// Once it is done, the number is the operators' again.
		if _, _, err := st.SaveIntake(intake("i3", at), true); err != nil {
			t.Errorf("a save after the erasure: %v", err)
		}
	})
	t.Run("stored before, queued after", func(t *testing.T) {
		st, ob, at := world(t)
		if _, _, err := st.SaveIntake(intake("i2", at), true); err != nil {
			t.Fatal(err)
		}
		var queued error
		h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob,
			OnForget: func(string) { _, queued = ob.Enqueue(message("i2"), []string{"acme-mail"}) }})
		if resp, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222"); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if !errors.Is(queued, relay.ErrNotAdmitted) {
			t.Errorf("the erased message's copy queued after the erasure: %v, want ErrNotAdmitted", queued)
		}
		if es, _ := ob.List(relay.Filter{State: relay.StatePending}); len(es) > 0 {
			t.Errorf("%s is pending, to be delivered after the erasure said done", es[0].ID)
		}
	})
}

// TestForgetRacesCallNotice: a call ends (its record stored), the
// erasure runs, then the call's notice, built from the record in memory,
// comes to be queued: it is not admitted (a review found the voicemail
// notice, with the caller's number and recording, delivered after the
// erasure answered 200).
func TestForgetRacesCallNotice(t *testing.T) {
	st := storetest.Open(t)
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Clock: &steppedClock{now: at}, Admit: desk.AdmitIntakes(st)})
	if err != nil {
		t.Fatal(err)
	}
	rec := store.CallRecord{ID: "call-vm", ClientID: "acme", CallerID: "09011112222", Result: store.ResultVoicemail,
		StartedAt: at, EndedAt: at.Add(time.Minute), Recording: "vm-1"}
	if err := st.PutCall(rec); err != nil {
		t.Fatal(err)
	}
	notice := relay.Message{ID: relay.NoticeMessageID(rec.ID, relay.KindVoicemail), ClientID: "acme", Kind: relay.KindVoicemail,
		CallID: rec.ID, Recording: rec.Recording, Subject: "留守番電話（090-1111-2222）", Text: "090-1111-2222"}
	var queued error
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob,
		OnForget: func(string) { _, queued = ob.Enqueue(notice, []string{"acme-mail"}) }})
	if resp, body := do(t, h, "POST", "/api/v1/callers/forget?number=090-1111-2222"); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if !errors.Is(queued, relay.ErrNotAdmitted) {
		t.Errorf("the voicemail notice of the erased caller queued after the erasure: %v, want ErrNotAdmitted", queued)
	}
	// Another caller's notice is admitted.
	other := store.CallRecord{ID: "call-2", ClientID: "acme", CallerID: "09033334444", Result: store.ResultAbandoned, StartedAt: at, EndedAt: at.Add(time.Minute)}
	if err := st.PutCall(other); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Enqueue(relay.Message{ID: relay.NoticeMessageID(other.ID, relay.KindMissedCall), ClientID: "acme", Kind: relay.KindMissedCall, CallID: other.ID}, []string{"acme-mail"}); err != nil {
		t.Errorf("another caller's notice: %v", err)
	}
}
