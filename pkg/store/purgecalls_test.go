package store_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// TestPurgeCalls: the records of calls started before the cutoff go, in
// batches, with their index, change-feed and class entries; the monthly
// counts stay as they were (the billing of a month does not change); a
// record still naming its recording is kept until the recording
// retention has deleted it; the file stays consistent.
func TestPurgeCalls(t *testing.T) {
	defer store.SetPurgeBatch(2)()
	s := storetest.Open(t)
	old := base.Add(-400 * 24 * time.Hour)
	for i, id := range []string{"old-1", "old-2", "old-3", "old-4", "old-5"} {
		mustPut(t, s, rec(id, "acme", old.Add(time.Duration(i)*time.Minute), store.ResultAnswered, true))
	}
	withRecording := rec("old-recorded", "acme", old.Add(time.Hour), store.ResultAnswered, true)
	withRecording.Recording = "1796000000-1-abcd"
	mustPut(t, s, withRecording)
	if err := s.ClassifyCall("old-2", store.ClassSales, "op1001", old); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, rec("new", "acme", base, store.ResultAnswered, true))
	before, err := s.MonthlyCounts("acme", old)
	if err != nil || before.Total != 6 || before.Billable != 5 {
		t.Fatalf("the month's counts before the purge %+v (%v), want 6 calls, 5 billable (one a sales call)", before, err)
	}

	n, err := s.PurgeCalls(base.Add(-90*24*time.Hour), nil, nil)
	if err != nil || n != 5 {
		t.Fatalf("PurgeCalls = %d, %v; want 5", n, err)
	}
	for _, id := range []string{"old-1", "old-2", "old-3", "old-4", "old-5"} {
		if _, err := s.Call(id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Call(%s) after the purge: %v, want ErrNotFound", id, err)
		}
	}
	for _, id := range []string{"old-recorded", "new"} {
		if _, err := s.Call(id); err != nil {
			t.Errorf("Call(%s) after the purge: %v, want it kept", id, err)
		}
	}
	all, err := s.ListCalls(store.CallFilter{ClientID: "acme"})
	if err != nil || len(all) != 2 {
		t.Fatalf("the client's index lists %v (%v), want the two kept", ids(all), err)
	}
	feed, err := s.CallChanges(store.ChangeCursor{}, "", 100)
	if err != nil || len(feed.Calls) != 2 || len(feed.Purged) != 5 {
		t.Fatalf("the change feed lists %v and %v purged (%v), want the two kept and the five purged", ids(feed.Calls), feed.Purged, err)
	}
	// Nothing of them left in any index (each bucket holds the two kept).
	err = s.Bolt().View(func(tx *bolt.Tx) error {
		for _, name := range []string{"calls", "calls_by_time", "calls_by_client", "calls_by_change", "call_change"} {
			if n := tx.Bucket([]byte(name)).Stats().KeyN; n != 2 {
				t.Errorf("bucket %s holds %d keys after the purge, want 2", name, n)
			}
		}
		if n := tx.Bucket([]byte("call_classes")).Stats().KeyN; n != 0 {
			t.Errorf("bucket call_classes holds %d keys after the purge, want 0 (old-2's class purged with it)", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := s.MonthlyCounts("acme", old)
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Fatalf("the month's counts after the purge %+v (%v), want them as before %+v", after, err, before)
	}

	// The recording deleted (and noted) by its retention: the record goes
	// at the next purge.
	if err := s.RecordingDeleted("old-recorded", withRecording.Recording, store.CallEvent{At: base, What: "recording deleted"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeCalls(base.Add(-90*24*time.Hour), nil, nil); err != nil || n != 1 {
		t.Fatalf("PurgeCalls after the recording went = %d, %v; want 1", n, err)
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err := store.CheckFile(path)
	if err != nil || sum.Calls != 1 {
		t.Fatalf("CheckFile after the purges: %+v, %v; want a consistent file with one call", sum, err)
	}
	reopened := storetest.OpenPath(t, path)
	if got, err := reopened.MonthlyCounts("acme", old); err != nil || !reflect.DeepEqual(got, before) {
		t.Fatalf("the month's counts after a reopen %+v (%v), want %+v", got, err, before)
	}
	// A purged call offered again (a fallback line read again) is not
	// stored and counted anew, also after a reopen; a later one is.
	if added, err := reopened.PutCallIfAbsent(rec("old-1", "acme", old, store.ResultAbandoned, false)); err != nil || added {
		t.Fatalf("PutCallIfAbsent of a purged call = %v, %v; want not stored", added, err)
	}
	if added, err := reopened.PutCallIfAbsent(rec("later", "acme", base.Add(-89*24*time.Hour), store.ResultAbandoned, false)); err != nil || !added {
		t.Fatalf("PutCallIfAbsent of a call after the cutoff = %v, %v; want stored", added, err)
	}
	// One naming a recording (the purge keeps such a record a while) is
	// stored, first seen after a long stop: the next purge decides.
	recorded := rec("recorded-late", "acme", old, store.ResultAnswered, true)
	recorded.Recording = "1796000000-2-abcd"
	if added, err := reopened.PutCallIfAbsent(recorded); err != nil || !added {
		t.Fatalf("PutCallIfAbsent of a recorded call before the cutoff = %v, %v; want stored", added, err)
	}
}

// TestPurgeDropsOrphanClasses: a class given to a call whose record the
// purge had deleted (the console's page read before), or whose record was
// never stored, is deleted by a purge once it is older than the cutoff; a
// class of a call still going on (no record yet, given after the cutoff)
// and a class with its record stay.
func TestPurgeDropsOrphanClasses(t *testing.T) {
	s := storetest.Open(t)
	old := base.Add(-400 * 24 * time.Hour)
	mustPut(t, s, rec("kept", "acme", base, store.ResultAnswered, true))
	for _, c := range []struct {
		id string
		at time.Time
	}{{"kept", old}, {"purged-before", old}, {"in-progress", base}} {
		if err := s.ClassifyCall(c.id, store.ClassSales, "op1001", c.at); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PurgeCalls(base.Add(-90*24*time.Hour), nil, nil); err != nil {
		t.Fatal(err)
	}
	var left []string
	err := s.Bolt().View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("call_classes")).ForEach(func(k, _ []byte) error {
			left = append(left, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"in-progress", "kept"}; !reflect.DeepEqual(left, want) {
		t.Fatalf("classes after the purge %v, want %v", left, want)
	}
	if r, err := s.Call("kept"); err != nil || r.Class != store.ClassSales {
		t.Fatalf("kept: class %q, %v", r.Class, err)
	}
}

// TestPurgeCallsFirst: first is called with each record due, once, in
// the transaction that deletes it, the record still there; a record kept
// for its recording, or newer than the cutoff, is not handed to it. An
// error from first rolls its batch back (the records stay, with what it
// wrote in the transaction), the batches before it stay purged, and the
// error comes back wrapped.
func TestPurgeCallsFirst(t *testing.T) {
	defer store.SetPurgeBatch(2)()
	old := base.Add(-400 * 24 * time.Hour)
	put := func(t *testing.T, s *store.Store) {
		t.Helper()
		for i, id := range []string{"old-1", "old-2", "old-3", "old-4"} {
			mustPut(t, s, rec(id, "acme", old.Add(time.Duration(i)*time.Minute), store.ResultAnswered, true))
		}
		recorded := rec("old-recorded", "acme", old.Add(time.Hour), store.ResultAnswered, true)
		recorded.Recording = "1796000000-1-abcd"
		mustPut(t, s, recorded)
		mustPut(t, s, rec("new", "acme", base, store.ResultAnswered, true))
	}
	// note writes the id it is given to a bucket of its own, in the
	// transaction: a rolled back batch leaves nothing there.
	note := func(tx *bolt.Tx, id string) error {
		b, err := tx.CreateBucketIfNotExists([]byte("test_first"))
		if err != nil {
			return err
		}
		return b.Put([]byte(id), nil)
	}
	noted := func(t *testing.T, s *store.Store) []string {
		t.Helper()
		var out []string
		err := s.Bolt().View(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("test_first"))
			if b == nil {
				return nil
			}
			return b.ForEach(func(k, _ []byte) error { out = append(out, string(k)); return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	failed := errors.New("the relay copies could not be deleted")
	for _, tc := range []struct {
		name      string
		failOn    string
		wantN     int
		wantNoted []string
		wantKept  []string
	}{
		{"every record due handed to it", "", 4, []string{"old-1", "old-2", "old-3", "old-4"}, []string{"new", "old-recorded"}},
		{"its failure keeps its batch", "old-3", 2, []string{"old-1", "old-2"}, []string{"new", "old-3", "old-4", "old-recorded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.Open(t)
			put(t, s)
			n, err := s.PurgeCalls(base.Add(-90*24*time.Hour), func(store.CallRecord) bool { return true }, func(tx *bolt.Tx, r store.CallRecord) error {
				if tx.Bucket([]byte("calls")).Get([]byte(r.ID)) == nil {
					t.Errorf("first(%s): the record is gone already", r.ID)
				}
				if err := note(tx, r.ID); err != nil {
					return err
				}
				if r.ID == tc.failOn {
					return failed
				}
				return nil
			})
			if n != tc.wantN || (tc.failOn == "") != (err == nil) || tc.failOn != "" && !errors.Is(err, failed) {
				t.Fatalf("PurgeCalls = %d, %v; want %d, failing: %v", n, err, tc.wantN, tc.failOn != "")
			}
			if got := noted(t, s); !reflect.DeepEqual(got, tc.wantNoted) {
				t.Errorf("first's writes committed for %q, want %q", got, tc.wantNoted)
			}
			kept, err := s.ListCalls(store.CallFilter{})
			if err != nil {
				t.Fatal(err)
			}
			got := ids(kept)
			slices.Sort(got)
			if !reflect.DeepEqual(got, tc.wantKept) {
				t.Errorf("records kept %q, want %q", got, tc.wantKept)
			}
		})
	}
}
