package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// corruptKeyOrder writes a store whose calls bucket holds a leaf page with
// keys out of order: bbolt opens it fine, only tx.Check notices. It renames
// the last key on disk ("zzzz-…", stored right before its JSON value) to a
// name that sorts first.
func corruptKeyOrder(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "calls.db")
	s, err := store.Open(path, store.Options{Logger: storetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		r := rec(fmt.Sprintf("m%02d-%s", i, strings.Repeat("p", 40)), "acme", base, store.ResultAnswered, true)
		mustPut(t, s, r)
	}
	mustPut(t, s, rec("zzzz-last", "acme", base, store.ResultAnswered, true))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old := []byte(`zzzz-last{"id"`)
	if !bytes.Contains(raw, old) {
		t.Fatal("test setup: key not found on any leaf page")
	}
	raw = bytes.ReplaceAll(raw, old, []byte(`aaaa-last{"id"`))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenRunsConsistencyCheck(t *testing.T) {
	path := corruptKeyOrder(t)
	s, err := store.Open(path, store.Options{Logger: storetest.Logger(t)})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of a store with unordered keys succeeded")
	}
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

// recorder is a testing.TB that keeps Errorf calls instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestStoretestCheckReports(t *testing.T) {
	good := &recorder{TB: t}
	s := storetest.Open(t)
	mustPut(t, s, rec("c1", "acme", base, store.ResultAnswered, true))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	storetest.Check(good, s.Path())
	if len(good.errs) != 0 {
		t.Fatalf("Check of a sound file reported %v", good.errs)
	}

	bad := &recorder{TB: t}
	storetest.Check(bad, corruptKeyOrder(t))
	if len(bad.errs) == 0 {
		t.Fatal("Check of a corrupt file reported nothing")
	}
}

// TestCheckFile: a good copy is summed up and left byte for byte as it
// was; a damaged one, a file that is no toritsugi database, and garbage
// are ErrCorrupt.
func TestCheckFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "good.db")
	s := storetest.OpenPath(t, path)
	mustPut(t, s, rec("c1", "acme", base, store.ResultAnswered, true))
	mustPut(t, s, rec("c2", "acme", base, store.ResultAbandoned, false))
	if _, err := s.PutIntake(store.Intake{ID: "i1", ClientID: "acme", UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := store.CheckFile(path)
	if err != nil || sum != (store.FileSummary{Schema: store.SchemaVersion, Calls: 2, Intakes: 1}) {
		t.Fatalf("CheckFile(good) = %+v, %v", sum, err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("CheckFile changed the file")
	}
	// The file of a running service: the lock says so (after the wait).
	running := storetest.OpenPath(t, path)
	if _, err := store.CheckFile(path); !errors.Is(err, store.ErrLocked) {
		t.Errorf("a database in use: %v, want ErrLocked", err)
	}
	if err := running.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := store.CheckFile(corruptKeyOrder(t)); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("unordered keys: %v, want ErrCorrupt", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CheckFile(empty); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("an empty file: %v, want ErrCorrupt", err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CheckFile(garbage); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("garbage: %v, want ErrCorrupt", err)
	}
	other := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err }); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if _, err := store.CheckFile(other); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "not a toritsugi database") {
		t.Errorf("another program's bbolt file: %v", err)
	}
}
