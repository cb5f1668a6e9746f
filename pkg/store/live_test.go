package store_test

import (
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// TestLiveCallsOutliveTheProcess: states saved just before Close, and the
// time the calls were watched until, are in the file when it is opened
// again; a call saved twice keeps its newest state; a recorded call's
// state is gone, also one saved after the record (a late write-behind must
// not bring a finished call back); nothing is saved after Close.
func TestLiveCallsOutliveTheProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	s := storetest.OpenPath(t, path)
	s.SaveLive("waiting", "s=greeting")
	s.SaveLive("waiting", "s=queued")
	s.SaveLive("ringing", "s=queued&q=1")
	s.SaveLive("recorded", "s=queued")
	s.SaveLive("absent", "s=greeting")
	waitLive(t, s, 4)
	at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	mustPut(t, s, rec("recorded", "acme", at, store.ResultAbandoned, false))
	s.SaveLive("recorded", "s=hangup") // after its record: not written
	if _, err := s.PutCallIfAbsent(rec("absent", "acme", at, store.ResultAbandoned, false)); err != nil {
		t.Fatal(err)
	}
	s.SaveLive("late", "s=greeting") // pending at Close: written by Close
	seen := time.Date(2026, 11, 29, 9, 30, 0, 123456789, time.FixedZone("JST", 9*3600))
	s.SaveLiveSeen(seen)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.SaveLive("after", "s=greeting") // after Close: dropped
	s = storetest.OpenPath(t, path)
	got, gotSeen, err := s.LiveCalls()
	want := map[string]string{"waiting": "s=queued", "ringing": "s=queued&q=1", "late": "s=greeting"}
	if err != nil || !maps.Equal(got, want) || !gotSeen.Equal(seen) {
		t.Fatalf("live calls after reopening: %v, seen %v, %v; want %v, seen %v", got, gotSeen, err, want, seen)
	}
}

// TestPutCallIfAbsentDropsLiveStateOfRecordedCall: a record pieced together
// for a call recorded already is not stored, and the call's live state
// goes all the same.
func TestPutCallIfAbsentDropsLiveStateOfRecordedCall(t *testing.T) {
	s := storetest.Open(t)
	c1 := rec("c1", "acme", time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC), store.ResultAbandoned, false)
	mustPut(t, s, c1)
	if err := s.Bolt().Update(func(tx *bolt.Tx) error { // as left by a controller that failed between the two
		return tx.Bucket([]byte("live_calls")).Put([]byte("c1"), []byte("s=queued"))
	}); err != nil {
		t.Fatal(err)
	}
	if stored, err := s.PutCallIfAbsent(c1); stored || err != nil {
		t.Fatalf("PutCallIfAbsent of a recorded call: %v, %v", stored, err)
	}
	if got, seen, err := s.LiveCalls(); err != nil || len(got) != 0 || !seen.IsZero() {
		t.Fatalf("live calls: %v, %v; want none", got, err)
	}
}

// waitLive waits until n live states are written.
func waitLive(t *testing.T, s *store.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _, err := s.LiveCalls()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("live calls %v; want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
