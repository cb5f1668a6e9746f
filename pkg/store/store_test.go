package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
	bolt "go.etcd.io/bbolt"
)

func TestReopenKeepsRecordsAndCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.db")
	s := storetest.OpenPath(t, path)
	want := rec("c1", "acme", base, store.ResultAnswered, true)
	mustPut(t, s, want)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(); err == nil {
		t.Fatal("Ping after Close succeeded")
	}

	s = storetest.OpenPath(t, path)
	got, err := s.Call("c1")
	if err != nil || got.ID != "c1" || !got.StartedAt.Equal(base) || got.Result != store.ResultAnswered {
		t.Fatalf("Call after reopen = %+v, %v", got, err)
	}
	c, err := s.MonthlyCounts("acme", base)
	if err != nil || c.Total != 1 || c.Billable != 1 {
		t.Fatalf("MonthlyCounts after reopen = %+v, %v", c, err)
	}
	if err := s.Ping(); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestOpenTimesOutWhenLocked(t *testing.T) {
	s := storetest.Open(t)
	timeout := 100 * time.Millisecond
	start := time.Now()
	s2, err := store.Open(s.Path(), store.Options{Timeout: timeout, Logger: storetest.Logger(t)})
	elapsed := time.Since(start)
	if err == nil {
		_ = s2.Close()
		t.Fatal("second Open of a held file succeeded")
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	// bbolt gives up one 50 ms retry early, so only the upper bound is
	// checked, generously: the machine is shared, but a lost timeout hangs.
	if elapsed > timeout+5*time.Second {
		t.Fatalf("Open returned after %v, want about %v", elapsed, timeout)
	}
}

// writeRaw creates a bbolt file whose meta bucket holds schema v.
func writeRaw(t *testing.T, path string, v string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("schema"), []byte(v))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsBadSchema(t *testing.T) {
	tests := []struct {
		schema string
		want   error
	}{
		{"3", store.ErrSchemaTooNew},
		{"99", store.ErrSchemaTooNew},
		{"0", store.ErrCorrupt},
		{"one", store.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "calls.db")
			writeRaw(t, path, tt.schema)
			s, err := store.Open(path, store.Options{Logger: storetest.Logger(t)})
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open with schema %q succeeded", tt.schema)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			// The refused file is left untouched: no buckets were added.
			db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_ = db.View(func(tx *bolt.Tx) error {
				if tx.Bucket([]byte("calls")) != nil {
					t.Error("refused Open created the calls bucket")
				}
				return nil
			})
		})
	}
}

func TestOpenKeepsCurrentSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.db")
	writeRaw(t, path, "1")
	s := storetest.OpenPath(t, path)
	mustPut(t, s, rec("c1", "acme", base, store.ResultCompleted, true))
}

func TestOpenRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calls.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(path, store.Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of a garbage file succeeded")
	}
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestBackupOpens(t *testing.T) {
	s := storetest.Open(t)
	for i, r := range []store.Result{store.ResultAnswered, store.ResultBlocked, store.ResultVoicemail} {
		mustPut(t, s, rec(string(rune('a'+i)), "acme", base.Add(time.Duration(i)*time.Minute), r, r != store.ResultBlocked))
	}
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup = %d, %v (buffer %d bytes)", n, err, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b := storetest.OpenPath(t, path)
	got, err := b.ListCalls(store.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c"}; !equalStrings(ids(got), want) {
		t.Fatalf("backup lists %v, want %v", ids(got), want)
	}
	c, err := b.MonthlyCounts("acme", base)
	if err != nil || c.Total != 3 || c.Billable != 2 || c.NonBillable != 1 {
		t.Fatalf("backup counts = %+v, %v", c, err)
	}
}

func TestCloseTwice(t *testing.T) {
	s := storetest.Open(t)
	if err := s.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOpenRefusesATruncatedCopy: a backup cut short in transfer is refused
// as corrupt (ErrCorrupt naming the missing length) instead of crashing the
// process when bbolt reads past its end.
func TestOpenRefusesATruncatedCopy(t *testing.T) {
	s := storetest.Open(t)
	for i := range 50 {
		mustPut(t, s, rec(fmt.Sprintf("c%02d", i), "acme", base.Add(time.Duration(i)*time.Minute), store.ResultAnswered, true))
	}
	var buf bytes.Buffer
	if _, err := s.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	for _, pct := range []int{10, 50, 99} {
		path := filepath.Join(t.TempDir(), "backup.db")
		if err := os.WriteFile(path, buf.Bytes()[:buf.Len()*pct/100], 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := store.Open(path, store.Options{})
		if err == nil {
			_ = c.Close()
			t.Fatalf("a copy cut at %d %% opened", pct)
		}
		if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "cut short") {
			t.Fatalf("a copy cut at %d %%: %v, want ErrCorrupt", pct, err)
		}
	}
}

// TestOpenRefusesAnEmptyFile: an empty file (a restore that failed half
// way) is refused, not made a new store that looks like any other, and
// stays as it was.
func TestOpenRefusesAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(path, store.Options{Timeout: time.Second})
	if err == nil {
		s.Close()
		t.Fatal("an empty file opened as a store")
	}
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "empty") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want ErrCorrupt naming the file and saying it is empty", err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != 0 {
		t.Errorf("the empty file was changed: %v, %v", st, err)
	}
}
