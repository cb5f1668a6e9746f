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
	bolt "go.etcd.io/bbolt"
)

// TestForgetCaller: a caller erased on request leaves nothing of theirs:
// their messages taken under any spelling of their number (0…, +81…,
// 0081…), every version; their callback requests, pending and done; their number, their
// recording and the timeline lines naming them in their calls' records,
// which stay (blanked) with the month's counts unchanged and come again
// in the change feed. Another caller's data stays as it was.
func TestForgetCaller(t *testing.T) {
	s := storetest.Open(t)
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	// The number as a home gateway, a trunk and another carrier send it.
	for i, c := range []struct{ id, number string }{{"a", "09011112222"}, {"b", "+819011112222"}, {"c", "00819011112222"}, {"other", "0312345678"}} {
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
			Reason:    "talked with op1001; caller " + strings.TrimPrefix(c.number, "00"),
			StartedAt: at.Add(time.Duration(i) * time.Minute), EndedAt: at.Add(time.Hour), Recording: "rec-" + c.id, CallbackNumber: "+81355556666",
			Events: []store.CallEvent{{At: at, What: "call from " + c.number}, {At: at, What: "known caller: 山田"}, {At: at, What: "connecting op1001"}}}
		if err := s.PutCall(rec); err != nil {
			t.Fatal(err)
		}
		number := "+819011112222"
		if c.id == "other" {
			number = "+81312345678"
		}
		if err := s.PutCallback(store.Callback{ID: "cb-" + c.id, ClientID: "acme", Number: number, RequestedAt: at}); err != nil {
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
	pageBefore, err := s.CallChanges(store.ChangeCursor{}, "", 1000)
	feedBefore := pageBefore.Next
	if err != nil {
		t.Fatal(err)
	}

	found, err := s.CallerData("+819011112222")
	if err != nil || len(found.Intakes) != 3 || len(found.Calls) != 3 || len(found.Callbacks) != 3 || len(found.Recordings) != 3 {
		t.Fatalf("caller data %+v (%v)", found, err)
	}
	// Asterisk deleted rec-a and rec-b, not rec-c: its record keeps
	// naming it.
	f, err := s.ForgetCaller("+819011112222", []string{"rec-a", "rec-b"})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(f.Calls)
	slices.Sort(f.Callbacks)
	if len(f.Intakes) != 3 || f.Intakes["a"] != 2 || f.Intakes["c"] != 2 || !slices.Equal(f.Callbacks, []string{"cb-a", "cb-b", "cb-c"}) ||
		!slices.Equal(f.Calls, []string{"call-a", "call-b", "call-c"}) || len(f.Recordings) != 2 || !slices.Equal(f.RecordingsKept, []string{"rec-c"}) {
		t.Fatalf("forgotten %+v", f)
	}
	if again, err := s.ForgetCaller("+819011112222", nil); err != nil || len(again.Intakes)+len(again.Calls)+len(again.Callbacks) != 0 {
		t.Fatalf("asked again: %+v (%v), want nothing left", again, err)
	}
	if rec, err := s.Call("call-c"); err != nil || rec.Recording != "rec-c" {
		t.Fatalf("call-c: recording %q (%v), want the one Asterisk kept", rec.Recording, err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := s.Intake(id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("intake %s: %v, want not found", id, err)
		}
		if vs, err := s.IntakeVersions(id); !errors.Is(err, store.ErrNotFound) || len(vs) != 0 {
			t.Errorf("intake %s versions: %d (%v), want none", id, len(vs), err)
		}
		rec, err := s.Call("call-" + id)
		if err != nil || rec.CallerID != "" || rec.Recording != "" || rec.CallbackNumber != "" || fmt.Sprint(rec.Events) != fmt.Sprint([]store.CallEvent{{At: at, What: "connecting op1001"}}) ||
			rec.Result != store.ResultAnswered || !store.CallerErased(rec) || strings.Contains(rec.Reason, "9011112222") {
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
	changed, err := s.CallChanges(feedBefore, "", 1000)
	if err != nil || len(changed.Calls) != 3 {
		t.Errorf("change feed after the erasure: %d records (%v), want the 3 blanked", len(changed.Calls), err)
	}
	// The other caller's data is untouched.
	if in, err := s.Intake("other"); err != nil || in.Version != 2 {
		t.Errorf("other intake: %+v (%v)", in, err)
	}
	if rec, err := s.Call("call-other"); err != nil || rec.CallerID != "0312345678" || rec.Recording != "rec-other" || len(rec.Events) != 3 {
		t.Errorf("other call: %+v (%v)", rec, err)
	}
}

// TestRecordingDeletedKeepsTheErasure: the recording retention, which read
// a record before its caller was erased, clears the recording on the
// record as stored then: the caller stays erased.
func TestRecordingDeletedKeepsTheErasure(t *testing.T) {
	s := storetest.Open(t)
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	if err := s.PutCall(store.CallRecord{ID: "c1", ClientID: "acme", CallerID: "09011112222", Result: store.ResultAnswered, StartedAt: at, Recording: "rec-1"}); err != nil {
		t.Fatal(err)
	}
	read, err := s.Call("c1") // the retention's copy
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ForgetCaller("+819011112222", nil); err != nil { // rec-1 not deleted yet
		t.Fatal(err)
	}
	if err := s.RecordingDeleted(read.ID, read.Recording, store.CallEvent{At: at, What: "recording rec-1 deleted after 90 days"}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Call("c1")
	if err != nil || rec.CallerID != "" || !store.CallerErased(rec) || rec.Recording != "" || len(rec.Events) != 1 {
		t.Fatalf("record %+v (%v): want erased, its recording cleared and noted", rec, err)
	}
}

// TestBackfillErasedRecordingsLeft: an erasure made by a version before
// erased_recordings_left left its caller's recording named by the erased
// record, where asking again for the number cannot find it: the backfill
// lists it, once.
func TestBackfillErasedRecordingsLeft(t *testing.T) {
	s := storetest.Open(t)
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	for _, r := range []store.CallRecord{
		{ID: "erased", ClientID: "acme", CallerID: "09011112222", Result: store.ResultAnswered, StartedAt: at, EndedAt: at.Add(time.Minute), Recording: "rec-erased"},
		{ID: "other", ClientID: "acme", CallerID: "0312345678", Result: store.ResultAnswered, StartedAt: at, EndedAt: at.Add(time.Minute), Recording: "rec-other"},
	} {
		if err := s.PutCall(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ForgetCaller("+819011112222", nil); err != nil {
		t.Fatal(err)
	}
	// As an earlier version left it: no list of what erasures left.
	if err := s.Bolt().Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("erased_recordings_left")) }); err != nil {
		t.Fatal(err)
	}
	if left, err := s.ErasedRecordingsLeft(); err != nil || len(left) != 0 {
		t.Fatalf("before the backfill: %v (%v)", left, err)
	}
	if n, err := s.BackfillErasedRecordingsLeft(); err != nil || n != 1 {
		t.Fatalf("backfill found %d (%v), want 1", n, err)
	}
	if left, err := s.ErasedRecordingsLeft(); err != nil || len(left) != 1 || left["rec-erased"] != "erased" {
		t.Fatalf("after the backfill: %v (%v), want rec-erased of call erased only", left, err)
	}
	if n, err := s.BackfillErasedRecordingsLeft(); err != nil || n != 0 {
		t.Fatalf("a second backfill found %d (%v), want none: it runs once", n, err)
	}
}

// TestForgetKeyedCallbackNumber: a withheld caller keyed their mobile for
// a callback. Erasing that number deleted the request and left the same
// number on the call's record (a review): the call is theirs, erased as
// any of theirs, its month's counts unchanged.
func TestForgetKeyedCallbackNumber(t *testing.T) {
	s := storetest.Open(t)
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	rec := store.CallRecord{ID: "c1", ClientID: "acme", CallerID: "anonymous", CallerKind: "anonymous", Result: store.ResultOverflow,
		Reason: store.ReasonCallbackRequested, StartedAt: at, EndedAt: at.Add(time.Minute), CallbackNumber: "+819011112222",
		Events: []store.CallEvent{{At: at, What: "callback requested to +819011112222"}, {At: at, What: "queued"}}}
	if err := s.PutCall(rec); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCallback(store.Callback{ID: "c1", ClientID: "acme", Number: "+819011112222", RequestedAt: at}); err != nil {
		t.Fatal(err)
	}
	out, err := s.ForgetCaller("+819011112222", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Call("c1")
	if len(out.Callbacks) != 1 || len(out.Calls) != 1 || got.CallbackNumber != "" || !store.CallerErased(got) ||
		len(got.Events) != 1 || got.Result != store.ResultOverflow {
		t.Fatalf("erased callbacks %v, calls %v; record %+v", out.Callbacks, out.Calls, got)
	}
}
