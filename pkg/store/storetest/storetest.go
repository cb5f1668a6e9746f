// Package storetest opens throw-away stores for tests and checks their
// consistency when the test ends.
package storetest

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// Open opens a new store in t.TempDir(). When the test ends it closes the
// store, reopens the file read-only and fails the test if bbolt's
// consistency check reports anything.
func Open(t testing.TB) *store.Store {
	t.Helper()
	return OpenPath(t, filepath.Join(t.TempDir(), "toritsugi.db"))
}

// OpenPath is Open on a chosen file, for tests that reopen a store. The
// cleanup is the same; closing the store earlier in the test is fine.
func OpenPath(t testing.TB, path string) *store.Store {
	t.Helper()
	s, err := store.Open(path, store.Options{Logger: Logger(t)})
	if err != nil {
		t.Fatalf("storetest: open %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storetest: close %s: %v", path, err)
		}
		Check(t, path)
	})
	return s
}

// Check opens the closed store file at path read-only and fails the test
// with every problem bbolt's consistency check reports.
func Check(t testing.TB, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: store.DefaultTimeout})
	if err != nil {
		t.Errorf("storetest: reopen %s read-only: %v", path, err)
		return
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Errorf("storetest: close %s: %v", path, err)
		}
	}()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("storetest: consistency check of %s: %v", path, err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("storetest: check %s: %v", path, err)
	}
}

// Logger returns a logger that writes into the test's output.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
