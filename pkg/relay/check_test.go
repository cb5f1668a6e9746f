package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestUnreadableEntrySetAside: an entry whose value does not decode (a
// damaged file, a restored backup) no longer stops OpenOutbox, and with
// it the service: check-db's CheckEntries names it; the open sets it
// aside in relay_unreadable, logged at Error with its key and counted in
// Stats; the other entries are indexed and sent as before; it goes with
// its message (Forget) or 30 days after it was set aside (Purge).
func TestUnreadableEntrySetAside(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bucket []byte
		gone   func(ob *Outbox, now time.Time) (int, error)
	}{
		{"pending, forgotten with its message", bucketOutbox, func(ob *Outbox, _ time.Time) (int, error) { return ob.Forget([]string{"bad"}) }},
		{"dead letter, purged", bucketDead, func(ob *Outbox, now time.Time) (int, error) { return ob.Purge(now.Add(30 * 24 * time.Hour)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			db := openDB(t, filepath.Join(t.TempDir(), "toritsugi.db"))
			ob := newOutbox(t, db, clock, OutboxOptions{})
			for _, id := range []string{"bad", "good"} {
				if _, err := ob.Enqueue(testMessage(id), []string{"mail"}); err != nil {
					t.Fatal(err)
				}
			}
			if bytes.Equal(tc.bucket, bucketDead) {
				if _, err := ob.record("bad/mail", ErrPermanent); err != nil {
					t.Fatal(err)
				}
			}
			damaged := []byte("X{not json")
			if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(tc.bucket).Put([]byte("bad/mail"), damaged) }); err != nil {
				t.Fatal(err)
			}
			var checkErr error
			_ = db.View(func(tx *bolt.Tx) error { _, checkErr = CheckEntries(tx); return nil })
			if !errors.Is(checkErr, ErrUnreadable) || !strings.Contains(checkErr.Error(), string(tc.bucket)+` "bad/mail"`) {
				t.Fatalf("CheckEntries of the damaged file = %v, want ErrUnreadable naming %s \"bad/mail\"", checkErr, tc.bucket)
			}

			var logs bytes.Buffer
			ob, err := OpenOutbox(db, OutboxOptions{Clock: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatalf("OpenOutbox with an unreadable entry: %v", err)
			}
			if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, `key=bad/mail`) || !strings.Contains(l, "bucket="+string(tc.bucket)) {
				t.Errorf("log %q: want an Error naming the bucket and key", l)
			}
			if ids := dueIDs(t, ob, clock.Now()); !slices.Equal(ids, []string{"good/mail"}) {
				t.Errorf("due = %v, want the readable pending entry", ids)
			}
			if es, err := ob.List(Filter{}); err != nil || len(es) != 1 || es[0].ID != "good/mail" {
				t.Errorf("List = %+v, %v; want the readable entry", es, err)
			}
			if st, err := ob.Stats(); err != nil || st.Unreadable != 1 || st.Pending != 1 || st.Dead != 0 {
				t.Errorf("Stats = %+v, %v; want 1 unreadable, 1 pending", st, err)
			}
			var u unreadable
			err = db.View(func(tx *bolt.Tx) error {
				return json.Unmarshal(tx.Bucket(bucketUnreadable).Get([]byte("bad/mail")), &u)
			})
			if err != nil || u.Bucket != string(tc.bucket) || !bytes.Equal(u.Value, damaged) || !u.SetAside.Equal(clock.Now()) || u.Error == "" {
				t.Errorf("set aside %+v, %v; want its bucket, value, time and error", u, err)
			}
			_ = db.View(func(tx *bolt.Tx) error {
				if n, err := CheckEntries(tx); n != 1 || err != nil {
					t.Errorf("CheckEntries after the open = %d, %v; want 1 set aside, no error", n, err)
				}
				return nil
			})
			// A second open finds nothing more to set aside.
			logs.Reset()
			ob = newOutbox(t, db, clock, OutboxOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if logs.Len() != 0 {
				t.Errorf("second open logged %q", logs.String())
			}

			if n, err := ob.Purge(clock.Now()); err != nil || n != 0 {
				t.Errorf("Purge(now) = %d, %v: set aside now, kept", n, err)
			}
			if n, err := tc.gone(ob, clock.Now()); err != nil || n != 1 {
				t.Errorf("removing it = %d, %v; want 1", n, err)
			}
			if st, err := ob.Stats(); err != nil || st.Unreadable != 0 || st.Pending != 1 {
				t.Errorf("Stats after = %+v, %v; want none unreadable", st, err)
			}
		})
	}
}

// TestCheckEntries: a file without an outbox, and one whose entries all
// decode, pass; each value that does not decode is named, the count
// capped.
func TestCheckEntries(t *testing.T) {
	bad := func(n int) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketOutbox, bucketDead, bucketUnreadable} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			for i := range n {
				k := []byte(strings.Repeat("k", i+1) + "/mail")
				if err := tx.Bucket([][]byte{bucketOutbox, bucketDead, bucketUnreadable}[i%3]).Put(k, []byte("{")); err != nil {
					return err
				}
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name     string
		setup    func(tx *bolt.Tx) error
		want     []string // in the error; none: no error
		setAside int
	}{
		{"no outbox", func(*bolt.Tx) error { return nil }, nil, 0},
		{"readable", bad(0), nil, 0},
		{"three buckets", bad(3), []string{`relay_outbox "k/mail"`, `relay_dead "kk/mail"`, `relay_unreadable "kkk/mail"`, "3 value(s)"}, 1},
		{"capped", bad(checkNamed + 5), []string{"25 value(s)", "; and 5 more"}, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, "")
			if err := db.Update(tc.setup); err != nil {
				t.Fatal(err)
			}
			var n int
			var err error
			_ = db.View(func(tx *bolt.Tx) error { n, err = CheckEntries(tx); return nil })
			if n != tc.setAside {
				t.Errorf("set aside = %d, want %d", n, tc.setAside)
			}
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
				return
			}
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("err = %v, want ErrUnreadable", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err %q lacks %q", err, w)
				}
			}
		})
	}
}
