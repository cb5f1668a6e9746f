package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// TestLiveWriteRetriedOncePerSecond: states that fail to be written are
// tried again after liveRetry, once, however many are saved meanwhile (a
// full disk must not become a loop of failing writes and log lines); a
// state that could never be written is refused alone.
func TestLiveWriteRetriedOncePerSecond(t *testing.T) {
	var failures atomic.Int32
	log := slog.New(countingHandler{msg: "saving the state of live calls failed; trying again", n: &failures})
	s, err := store.Open(filepath.Join(t.TempDir(), "toritsugi.db"), store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s.SaveLive("", "s=greeting") // refused: would fail every write
	s.SaveLive(strings.Repeat("x", bolt.MaxKeySize+1), "s=greeting")
	s.SaveLive("ok", "s=greeting")
	waitLive(t, s, 1)
	if err := s.Bolt().Close(); err != nil { // every write fails from now on
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 50 {
		s.SaveLive(fmt.Sprint("c", i), "s=queued")
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	// The first write, then one retry a second (and one more that may be
	// on its way as we count).
	elapsed := time.Since(start)
	if n, most := int(failures.Load()), 2+int(elapsed/time.Second); n < 2 || n > most {
		t.Fatalf("%d failed writes in %v, want one, then one a second (2 to %d)", n, elapsed.Round(time.Millisecond), most)
	}
	_ = s.Close() // the file is closed already
}

// countingHandler counts the records with message msg.
type countingHandler struct {
	msg string
	n   *atomic.Int32
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// TestCloseSaysLiveStatesWereLost: live calls' states that cannot be
// written at close (a full disk) are what the next start needs; Close
// returns the loss, so that the process's exit says it was no clean stop.
func TestCloseSaysLiveStatesWereLost(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "toritsugi.db"), store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	s.SaveLive("saved", "s=queued")
	waitLive(t, s, 1)
	if err := s.Bolt().Close(); err != nil { // every write fails from now on
		t.Fatal(err)
	}
	s.SaveLive("c1", "s=queued")
	s.SaveLive("c2", "s=connected")
	err = s.Close()
	if err == nil || !strings.Contains(err.Error(), "live calls not saved at close") {
		t.Fatalf("Close = %v; want the live states it could not save", err)
	}
}
