package store_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// changeIDs reads the change feed after `after`, pages of limit, to its
// end, and returns the ids in feed order and the last number.
func changeIDs(t *testing.T, st *store.Store, after uint64, client string, limit int) ([]string, uint64) {
	t.Helper()
	var ids []string
	for {
		page, err := st.CallChanges(store.ChangeCursor{After: after}, client, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Calls {
			ids = append(ids, r.ID)
		}
		after = page.Next.After
		if !page.More {
			return ids, after
		}
	}
}

// TestCallChanges: every write of a record (stored, replaced by a
// different one, classified) puts it at the end of the change feed, once;
// an identical write does not; pages follow one another from the number
// the last one gave; a client's feed skips the others'.
func TestCallChanges(t *testing.T) {
	st := storetest.Open(t)
	put := func(id, client string, started time.Time, result store.Result) {
		t.Helper()
		if err := st.PutCall(rec(id, client, started, result, true)); err != nil {
			t.Fatal(err)
		}
	}
	// A long call started first and stored last: by start time, read
	// before it was stored, it would be missed.
	put("short", "acme", base.Add(time.Minute), store.ResultAnswered)
	put("other", "beta", base.Add(2*time.Minute), store.ResultAnswered)
	put("long", "acme", base, store.ResultAnswered)
	ids, last := changeIDs(t, st, 0, "", 2)
	if want := []string{"short", "other", "long"}; !slices.Equal(ids, want) {
		t.Fatalf("feed %v, want %v", ids, want)
	}
	if ids, _ := changeIDs(t, st, last, "", 2); len(ids) != 0 {
		t.Fatalf("after the last number: %v", ids)
	}
	put("long", "acme", base, store.ResultAnswered) // the same record again: no change
	if ids, _ := changeIDs(t, st, last, "", 2); len(ids) != 0 {
		t.Fatalf("an identical write changed %v", ids)
	}
	if err := st.ClassifyCall("short", store.ClassSales, "op1", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	put("other", "beta", base.Add(2*time.Minute), store.ResultAbandoned)
	ids, _ = changeIDs(t, st, last, "", 1)
	if want := []string{"short", "other"}; !slices.Equal(ids, want) {
		t.Fatalf("changed since %d: %v, want %v", last, ids, want)
	}
	if ids, _ := changeIDs(t, st, 0, "acme", 1); !slices.Equal(ids, []string{"long", "short"}) {
		t.Fatalf("acme's feed %v, want long, short", ids)
	}
	page, err := st.CallChanges(store.ChangeCursor{After: last}, "", 10)
	if recs := page.Calls; err != nil || len(recs) != 2 || recs[0].Billable || recs[1].Result != store.ResultAbandoned {
		t.Fatalf("the changed records as they are now: %+v (%v)", recs, err)
	}
}

// TestMigrationFromSchema1: a store file of schema 1 (no change feed) is
// copied, then migrated: every record in the feed, in start order; the
// copy is a schema-1 file an earlier toritsugi opens, with everything
// stored but the states of the calls in progress, which the migrated
// store keeps: the copy is the way back, and run on, each would be taken
// for a call that ended unseen (a missed call relayed days late, an
// answered call billed for the days between).
func TestMigrationFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	st := storetest.OpenPath(t, path)
	for i, id := range []string{"c2", "c3", "c1"} {
		started := base.Add(map[string]time.Duration{"c1": 0, "c2": time.Minute, "c3": 2 * time.Minute}[id])
		if err := st.PutCall(rec(id, "acme", started, store.ResultAnswered, i%2 == 0)); err != nil {
			t.Fatal(err)
		}
	}
	st.SaveLive("c9", `{"state":"queued"}`)
	st.SaveLiveSeen(base)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	asSchema1(t, path)

	st = storetest.OpenPath(t, path)
	if ids, _ := changeIDs(t, st, 0, "", 10); !slices.Equal(ids, []string{"c1", "c2", "c3"}) {
		t.Fatalf("feed after the migration %v, want every call in start order", ids)
	}
	if live, seen, err := st.LiveCalls(); err != nil || len(live) != 1 || !seen.Equal(base) {
		t.Fatalf("live calls after the migration: %v, %v, %v; want c9's state, seen at %v", live, seen, err, base)
	}
	copies, _ := filepath.Glob(path + ".schema1.*.bak")
	if len(copies) != 1 {
		t.Fatalf("copies from before the migration: %v, want one", copies)
	}
	copyPath := copies[0]
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the copy from before the migration: %v %v", fi, err)
	}
	old, err := bolt.Open(copyPath, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	err = old.View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket([]byte("meta")).Get([]byte("schema"))); v != "1" || tx.Bucket([]byte("calls")).Stats().KeyN != 3 {
			t.Errorf("the copy: schema %q, %d calls; want the file as it was", v, tx.Bucket([]byte("calls")).Stats().KeyN)
		}
		for _, b := range []string{"calls_by_time", "calls_by_client", "counts"} {
			if tx.Bucket([]byte(b)).Stats().KeyN == 0 {
				t.Errorf("the copy's %s is empty", b)
			}
		}
		if live := tx.Bucket([]byte("live_calls")); live == nil || live.Stats().KeyN != 0 {
			t.Errorf("the copy's live_calls: %v; want the bucket, empty", live)
		}
		if v := tx.Bucket([]byte("meta")).Get([]byte("live_seen")); v != nil {
			t.Errorf("the copy's live_seen %q, want none", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCallChangesAfterARestore: a reader's number is above every number a
// store restored from an older backup has given; the records written
// after the restore still come after it (numbered from the clock), and a
// number past every other lists nothing, without wrapping.
func TestCallChangesAfterARestore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "toritsugi.db")
	st := storetest.OpenPath(t, path)
	put := func(st *store.Store, id string) {
		t.Helper()
		if err := st.PutCall(rec(id, "acme", base, store.ResultAnswered, true)); err != nil {
			t.Fatal(err)
		}
	}
	put(st, "c1")
	backup, err := os.Create(filepath.Join(dir, "backup.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Backup(backup); err != nil {
		t.Fatal(err)
	}
	if err := backup.Close(); err != nil {
		t.Fatal(err)
	}
	put(st, "c2")
	put(st, "c3")
	_, reader := changeIDs(t, st, 0, "", 10) // read up to c3
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "backup.db"), path); err != nil { // the restore
		t.Fatal(err)
	}
	st = storetest.OpenPath(t, path)
	put(st, "c4")
	if ids, _ := changeIDs(t, st, reader, "", 10); !slices.Equal(ids, []string{"c4"}) {
		t.Fatalf("a reader at %d after the restore read %v, want c4", reader, ids)
	}
	if page, err := st.CallChanges(store.ChangeCursor{After: math.MaxUint64}, "", 10); err != nil || len(page.Calls) != 0 || page.Next.After != math.MaxUint64 || page.More {
		t.Fatalf("after the last number: %d records, next %v, more %v, %v", len(page.Calls), page.Next, page.More, err)
	}
}

// TestCheckFileFindsTheChangeFeedBroken: check-db says a change feed
// entry that names no record (every reader would fail there) is damage.
func TestCheckFileFindsTheChangeFeedBroken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	st := storetest.OpenPath(t, path)
	if err := st.PutCall(rec("c1", "acme", base, store.ResultAnswered, true)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CheckFile(path); err != nil {
		t.Fatalf("a sound file: %v", err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("calls_by_change")).Put([]byte{0, 0, 0, 0, 0, 0, 0, 1}, []byte("gone"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CheckFile(path); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), `"gone"`) {
		t.Fatalf("check of a feed naming a missing call: %v, want ErrCorrupt naming it", err)
	}
}

// asSchema1 makes the closed store file at path as schema 1 left it: no
// change feed, no index of pending callback requests.
func asSchema1(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"calls_by_change", "call_change", "callbacks_pending"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
