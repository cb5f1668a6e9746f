package relay

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fakeClock jumps forward whenever someone waits on it, so backoff runs
// instantly while Now stays consistent.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	t := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- t
	return ch
}

// openDB opens a bbolt file in a temp dir and checks its consistency and
// closes it at cleanup.
func openDB(t testing.TB, path string) *bolt.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "toritsugi.db")
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open bbolt: %v", err)
	}
	t.Cleanup(func() {
		checkDB(t, db)
		_ = db.Close()
	})
	return db
}

func checkDB(t testing.TB, db *bolt.DB) {
	t.Helper()
	if db.Path() == "" { // closed
		return
	}
	err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return checkDueIndex(tx)
	})
	if err != nil {
		t.Errorf("bbolt consistency: %v", err)
	}
}

// checkDueIndex: bucketDue indexes exactly the pending entries of
// bucketOutbox, each at its NextAt.
func checkDueIndex(tx *bolt.Tx) error {
	ob, due := tx.Bucket(bucketOutbox), tx.Bucket(bucketDue)
	if ob == nil || due == nil {
		return nil // no outbox in this file
	}
	want := map[string]string{}
	err := ob.ForEach(func(k, v []byte) error {
		e, err := decodeEntry(v)
		if err != nil {
			return err
		}
		if e.State == StatePending {
			want[string(k)] = string(dueValue(e))
		}
		return nil
	})
	if err != nil {
		return err
	}
	got := map[string]string{}
	_ = due.ForEach(func(k, v []byte) error { got[string(k)] = string(v); return nil })
	if !maps.Equal(got, want) {
		return fmt.Errorf("due index %q, want %q", got, want)
	}
	return nil
}

func newOutbox(t testing.TB, db *bolt.DB, clock Clock, opts OutboxOptions) *Outbox {
	t.Helper()
	opts.Clock = clock
	ob, err := OpenOutbox(db, opts)
	if err != nil {
		t.Fatalf("OpenOutbox: %v", err)
	}
	return ob
}

// runWorker starts w and returns a stop function that cancels it and
// waits for Run to return.
func runWorker(t *testing.T, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("worker did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// attempts collects OnAttempt callbacks.
type attempts chan Entry

func (a attempts) on(e Entry) { a <- e }

// waitFor returns the first entry satisfying ok, failing after a deadline.
func (a attempts) waitFor(t *testing.T, what string, ok func(Entry) bool) Entry {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-a:
			if ok(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
			return Entry{}
		}
	}
}

func testMessage(id string) Message {
	return Message{
		ID: id, ClientID: "c-001", Kind: KindIntake, Subject: "【お電話】山田様より",
		Text:      "株式会社サンプルの山田様よりお電話がありました。\n折返しをお願いします。",
		Fields:    map[string]string{"caller": "0312345678", "company": "株式会社サンプル", "name": "山田太郎", "addressee": "佐藤"},
		CreatedAt: time.Date(2026, 4, 1, 0, 15, 0, 0, time.UTC),
		Link:      "https://console.example/intakes/" + id,
	}
}

func destMap(ds ...Destination) func(string) (Destination, bool) {
	m := map[string]Destination{}
	for _, d := range ds {
		m[d.Name] = d
	}
	return func(n string) (Destination, bool) { d, ok := m[n]; return d, ok }
}
