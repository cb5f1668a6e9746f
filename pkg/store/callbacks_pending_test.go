package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

func pendingIDs(t *testing.T, st *store.Store) []string {
	t.Helper()
	cbs, err := st.Callbacks(store.CallbackPending)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cbs {
		if c.State != store.CallbackPending {
			t.Fatalf("listed as pending: %+v", c)
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// TestPendingCallbacksIndexed: the pending requests are listed, oldest
// first, through an index kept by every write (put, claim, done); a file
// of schema 1 (no index; a request an earlier version wrote) gets it in
// the migration, and lists every pending request all the same.
func TestPendingCallbacksIndexed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	st := storetest.OpenPath(t, path)
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"c3", "c1", "c2", "c4"} {
		if err := st.PutCallback(store.Callback{ID: id, Number: "+81312345678", RequestedAt: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.ClaimCallback("c1", "op1", t0); err != nil {
		t.Fatal(err)
	}
	if err := st.CompleteCallback("c2", "op1", t0); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCallback(store.Callback{ID: "c4", Number: "+81312345678", State: store.CallbackDone, RequestedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingIDs(t, st), []string{"c3", "c1"}; !slices.Equal(got, want) {
		t.Fatalf("pending %v, want %v", got, want)
	}
	if done, _ := st.Callbacks(store.CallbackDone); len(done) != 2 {
		t.Fatalf("done %v, want c2 and c4", done)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A request an earlier version wrote, which knew no index.
	putRawCallback(t, path, "c5", fmt.Sprintf(`{"id":"c5","number":"+81312345678","requested_at":%q,"state":"pending"}`, t0.Add(time.Hour).Format(time.RFC3339)))
	asSchema1(t, path)
	st = storetest.OpenPath(t, path)
	if got, want := pendingIDs(t, st), []string{"c3", "c1", "c5"}; !slices.Equal(got, want) {
		t.Fatalf("pending after the migration %v, want %v", got, want)
	}
	// Written after it, through the index the migration made.
	if err := st.PutCallback(store.Callback{ID: "c6", Number: "+81312345678", RequestedAt: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingIDs(t, st), []string{"c3", "c1", "c5", "c6"}; !slices.Equal(got, want) {
		t.Fatalf("pending after a request written since %v, want %v", got, want)
	}
}

// BenchmarkPendingCallbacksAmongDone: the list every open console reads
// every 15 s, with 10,000 requests done and kept (the default keeps them)
// and 5 pending.
func BenchmarkPendingCallbacksAmongDone(b *testing.B) {
	st := storetest.Open(b)
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i := range 10005 {
		c := store.Callback{ID: fmt.Sprintf("c%05d", i), Number: "+81312345678", RequestedAt: t0.Add(time.Duration(i) * time.Second)}
		if i >= 5 {
			c.State, c.DoneAt, c.OperatorID = store.CallbackDone, c.RequestedAt, "op1"
		}
		if err := st.PutCallback(c); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		cbs, err := st.Callbacks(store.CallbackPending)
		if err != nil || len(cbs) != 5 {
			b.Fatalf("%d pending, %v", len(cbs), err)
		}
	}
}

// TestOneUnreadableCallbackDoesNotStopTheStore: a callback request that
// cannot be read, in a file the migration indexes, makes the pending list
// fail (as it did before the index), not the store's opening, which would
// keep toritsugi from starting.
func TestOneUnreadableCallbackDoesNotStopTheStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	st := storetest.OpenPath(t, path)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	putRawCallback(t, path, "c1", `{"id":"c1","requested_at":"yesterday"}`)
	asSchema1(t, path)
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("open with an unreadable callback request: %v", err)
	}
	defer st.Close()
	if _, err := st.Callbacks(store.CallbackPending); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("pending list: %v, want ErrCorrupt", err)
	}
}

// putRawCallback writes value as callback request id straight into the
// closed store file at path, as no store method would (without its index
// entry, or unreadable).
func putRawCallback(t *testing.T, path, id, value string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("callbacks"))
		if err != nil {
			return err
		}
		return b.Put([]byte(id), []byte(value))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
