package store_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// storedNotice is a purge notice as the file holds it.
type storedNotice struct {
	Seq      uint64
	ID       string    `json:"id"`
	ClientID string    `json:"client_id"`
	PurgedAt time.Time `json:"purged_at"`
}

// rawNotices reads the calls_purged bucket of the closed store file at
// path, in number order.
func rawNotices(t *testing.T, db *bolt.DB) []storedNotice {
	t.Helper()
	var out []storedNotice
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("calls_purged"))
		if b == nil {
			return errors.New("no calls_purged bucket")
		}
		return b.ForEach(func(k, v []byte) error {
			var n storedNotice
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			n.Seq = binary.BigEndian.Uint64(k)
			out = append(out, n)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPurgeLeavesNotices: a record the retention purges leaves a notice
// in its own bucket, naming it and its client, numbered after every number
// of the feed given before (a reader who had the record reads the notice);
// the file passes check-db, and its change feed, as an older binary reads
// it (calls_by_change alone), names only the records kept.
func TestPurgeLeavesNotices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	s := storetest.OpenPath(t, path)
	old := base.Add(-400 * 24 * time.Hour)
	mustPut(t, s, rec("old-1", "acme", old, store.ResultAnswered, true))
	mustPut(t, s, rec("old-2", "beta", old.Add(time.Minute), store.ResultAnswered, true))
	mustPut(t, s, rec("new", "acme", base, store.ResultAnswered, true))
	_, last := changeIDs(t, s, 0, "", 10)
	if n, err := s.PurgeCalls(base.Add(-90*24*time.Hour), nil, nil); err != nil || n != 2 {
		t.Fatalf("PurgeCalls = %d, %v; want 2", n, err)
	}
	notices := rawNotices(t, s.Bolt())
	var got []string
	for _, n := range notices {
		got = append(got, n.ID+"/"+n.ClientID)
		if n.Seq <= last || n.PurgedAt.IsZero() {
			t.Errorf("notice %+v: want a number after the feed's last given, %d, and a time", n, last)
		}
	}
	if want := []string{"old-1/acme", "old-2/beta"}; !slices.Equal(got, want) {
		t.Fatalf("purge notices %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if sum, err := store.CheckFile(path); err != nil || sum.Calls != 1 {
		t.Fatalf("check-db of a file with purge notices: %+v, %v", sum, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var feed []string
	err = db.View(func(tx *bolt.Tx) error {
		calls := tx.Bucket([]byte("calls"))
		return tx.Bucket([]byte("calls_by_change")).ForEach(func(_, id []byte) error {
			if calls.Get(id) == nil {
				return errors.New("the feed names missing call " + string(id))
			}
			feed = append(feed, string(id))
			return nil
		})
	})
	if err != nil || !slices.Equal(feed, []string{"new"}) {
		t.Fatalf("the feed as an older binary reads it: %v, %v; want new alone", feed, err)
	}
}

// TestCheckFileFindsPurgeNoticesBroken: check-db says a purge notice that
// cannot be read, names no call, or holds a number no counter gave is
// damage.
func TestCheckFileFindsPurgeNoticesBroken(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  []byte
		val  string
		want string
	}{
		{"unreadable", []byte{0, 0, 0, 0, 0, 0, 0, 1}, `{`, "purge notice"},
		{"no call", []byte{0, 0, 0, 0, 0, 0, 0, 1}, `{"id":"","client_id":"acme"}`, "names no call"},
		{"short key", []byte{1}, `{"id":"c9","client_id":"acme"}`, "purge notice key"},
		{"past the counter", []byte{0x7f, 0, 0, 0, 0, 0, 0, 0}, `{"id":"c9","client_id":"acme"}`, "past the change feed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "toritsugi.db")
			s := storetest.OpenPath(t, path)
			mustPut(t, s, rec("c1", "acme", base, store.ResultAnswered, true))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("calls_purged")).Put(tc.key, []byte(tc.val))
			})
			if cerr := db.Close(); err != nil || cerr != nil {
				t.Fatal(err, cerr)
			}
			if _, err := store.CheckFile(path); !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("check: %v, want ErrCorrupt saying %q", err, tc.want)
			}
		})
	}
}
