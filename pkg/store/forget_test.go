package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestForgetCaller: a caller erased on request leaves nothing of theirs:
// their messages taken under either spelling of their number, every
// version; their callback requests, pending and done; their number, their
// recording and the timeline lines naming them in their calls' records,
// which stay (blanked) with the month's counts unchanged and come again
// in the change feed. Another caller's data stays as it was.
func TestForgetCaller(t *testing.T) {
	s := storetest.Open(t)
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	for i, c := range []struct{ id, number string }{{"a", "09011112222"}, {"b", "+819011112222"}, {"other", "0312345678"}} {
		in := store.Intake{ID: c.id, ClientID: "acme", OperatorID: "op1001", CallerNumber: c.number,
			Values: map[string]string{"name": "山田花子", "purpose": "相談 " + c.id}, CreatedAt: at.Add(time.Duration(i) * time.Minute), UpdatedAt: at}
		if _, _, err := s.SaveIntake(in, true); err != nil {
			t.Fatal(err)
		}
		in.Values["purpose"] = "訂正 " + c.id
		if _, _, err := s.SaveIntake(in, false); err != nil {
			t.Fatal(err)
		}
		rec := store.CallRecord{ID: "call-" + c.id, ClientID: "acme", CallerID: c.number, CallerKind: "number", Result: store.ResultAnswered, Billable: true,
			StartedAt: at.Add(time.Duration(i) * time.Minute), EndedAt: at.Add(time.Hour), Recording: "rec-" + c.id,
			Events: []store.CallEvent{{At: at, What: "call from " + c.number}, {At: at, What: "known caller: 山田"}, {At: at, What: "connecting op1001"}}}
		if err := s.PutCall(rec); err != nil {
			t.Fatal(err)
		}
		if err := s.PutCallback(store.Callback{ID: "cb-" + c.id, ClientID: "acme", Number: "+81" + strings.TrimPrefix(strings.TrimPrefix(c.number, "+81"), "0"), RequestedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CompleteCallback("cb-a", "op1001", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	countsBefore, err := s.MonthlyCounts("acme", at)
	if err != nil {
		t.Fatal(err)
	}
	_, feedBefore, _, err := s.CallChanges(0, "", 1000)
	if err != nil {
		t.Fatal(err)
	}

	f, err := s.ForgetCaller([]string{"09011112222", "+819011112222", "819011112222"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Intakes) != 2 || f.Intakes["a"] != 2 || f.Intakes["b"] != 2 || f.Callbacks != 2 ||
		!slices.Equal(f.Calls, []string{"call-a", "call-b"}) || !slices.Equal(f.Recordings, []string{"rec-a", "rec-b"}) {
		t.Fatalf("forgotten %+v", f)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := s.Intake(id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("intake %s: %v, want not found", id, err)
		}
		if vs, err := s.IntakeVersions(id); !errors.Is(err, store.ErrNotFound) || len(vs) != 0 {
			t.Errorf("intake %s versions: %d (%v), want none", id, len(vs), err)
		}
		rec, err := s.Call("call-" + id)
		if err != nil || rec.CallerID != "" || rec.Recording != "" || fmt.Sprint(rec.Events) != fmt.Sprint([]store.CallEvent{{At: at, What: "connecting op1001"}}) || rec.Result != store.ResultAnswered {
			t.Errorf("call %s: %+v (%v)", id, rec, err)
		}
	}
	for _, n := range []string{"09011112222", "+819011112222"} {
		if ins, err := s.IntakesForCaller(n, 0); err != nil || len(ins) != 0 {
			t.Errorf("intakes for %s: %d (%v)", n, len(ins), err)
		}
	}
	if cbs, err := s.Callbacks(""); err != nil || len(cbs) != 1 || cbs[0].ID != "cb-other" {
		t.Errorf("callbacks %+v (%v)", cbs, err)
	}
	if p, err := s.Callbacks(store.CallbackPending); err != nil || len(p) != 1 {
		t.Errorf("pending callbacks %+v (%v)", p, err)
	}
	if counts, err := s.MonthlyCounts("acme", at); err != nil || fmt.Sprint(counts) != fmt.Sprint(countsBefore) {
		t.Errorf("counts %+v (%v), were %+v", counts, err, countsBefore)
	}
	changed, _, _, err := s.CallChanges(feedBefore, "", 1000)
	if err != nil || len(changed) != 2 {
		t.Errorf("change feed after the erasure: %d records (%v), want the 2 blanked", len(changed), err)
	}
	// The other caller's data is untouched.
	if in, err := s.Intake("other"); err != nil || in.Version != 2 {
		t.Errorf("other intake: %+v (%v)", in, err)
	}
	if rec, err := s.Call("call-other"); err != nil || rec.CallerID != "0312345678" || rec.Recording != "rec-other" || len(rec.Events) != 3 {
		t.Errorf("other call: %+v (%v)", rec, err)
	}
}
