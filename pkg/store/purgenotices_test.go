package store_test

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
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

// feedEntries are the entries of a page as a test compares them: "-id"
// for a purge notice, "id" for a record, in a page's order (a reader
// applies the records, then the notices), pages in turn.
func feedEntries(p store.ChangesPage) []string {
	var out []string
	for _, r := range p.Calls {
		out = append(out, r.ID)
	}
	for _, pc := range p.Purged {
		out = append(out, "-"+pc.ID)
	}
	return out
}

// readFeed reads the change feed from cur, pages of limit, to its end.
func readFeed(t *testing.T, s *store.Store, cur store.ChangeCursor, client string, limit int) ([]string, store.ChangeCursor) {
	t.Helper()
	var out []string
	for {
		p, err := s.CallChanges(cur, client, limit)
		if err != nil {
			t.Fatalf("CallChanges(%v, %q): %v", cur, client, err)
		}
		if len(p.Calls)+len(p.Purged) > limit {
			t.Fatalf("a page of %d entries, limit %d", len(p.Calls)+len(p.Purged), limit)
		}
		out = append(out, feedEntries(p)...)
		cur = p.Next
		if !p.More {
			return out, cur
		}
	}
}

// TestChangeFeedGivesPurgeNotices: a reader reads the notices of the
// records purged since its number, merged in number order with the
// records written, under the page limit (both counted); a client's reader
// reads its own alone; a notice of a record stored again since (a
// fallback line read again) is left out, the record given.
func TestChangeFeedGivesPurgeNotices(t *testing.T) {
	s := storetest.Open(t)
	old := base.Add(-400 * 24 * time.Hour)
	mustPut(t, s, rec("old-a", "acme", old, store.ResultAnswered, true))
	mustPut(t, s, rec("old-b", "beta", old.Add(time.Minute), store.ResultAnswered, true))
	recorded := rec("old-r", "acme", old.Add(2*time.Minute), store.ResultAnswered, true)
	recorded.Recording = "1796000000-1-abcd"
	mustPut(t, s, recorded)
	mustPut(t, s, rec("kept", "acme", base, store.ResultAnswered, true))
	_, reader := readFeed(t, s, store.ChangeCursor{}, "", 10)
	_, acmeReader := readFeed(t, s, store.ChangeCursor{}, "acme", 10)

	if n, err := s.PurgeCalls(base.Add(-90*24*time.Hour), func(store.CallRecord) bool { return false }, nil); err != nil || n != 3 {
		t.Fatalf("PurgeCalls = %d, %v; want 3", n, err)
	}
	mustPut(t, s, rec("new", "acme", base.Add(time.Hour), store.ResultAnswered, true))
	for _, tc := range []struct {
		name   string
		cur    store.ChangeCursor
		client string
		limit  int
		want   []string
	}{
		// Purged client by client: acme's, then beta's.
		{"every client's", reader, "", 1, []string{"-old-a", "-old-r", "-old-b", "new"}},
		{"every client's, 2 a page", reader, "", 2, []string{"-old-a", "-old-r", "new", "-old-b"}},
		{"every client's, one page", reader, "", 10, []string{"new", "-old-a", "-old-r", "-old-b"}},
		{"acme's", acmeReader, "acme", 1, []string{"-old-a", "-old-r", "new"}},
		{"acme's, one page", acmeReader, "acme", 10, []string{"new", "-old-a", "-old-r"}},
		{"beta's", store.ChangeCursor{}, "beta", 1, []string{"-old-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := readFeed(t, s, tc.cur, tc.client, tc.limit); !slices.Equal(got, tc.want) {
				t.Errorf("%v, want %v", got, tc.want)
			}
		})
	}
	p, err := s.CallChanges(reader, "", 3)
	if err != nil || len(p.Purged) != 3 || !p.More || p.Next.After != p.Purged[2].Seq ||
		!slices.IsSortedFunc(p.Purged, func(a, b store.PurgedCall) int { return cmp.Compare(a.Seq, b.Seq) }) || p.Purged[0].Seq <= reader.After {
		t.Fatalf("page %+v, %v: want the notices numbered in order after the reader's, the cursor the last one's", p, err)
	}

	// old-r's call read again from the fallback file: stored again,
	// after its notice.
	mustPut(t, s, recorded)
	if got, _ := readFeed(t, s, reader, "", 10); !slices.Equal(got, []string{"new", "old-r", "-old-a", "-old-b"}) {
		t.Errorf("after old-r is stored again: %v, want its notice left out, the record given", got)
	}
}

// TestChangeScanCountsPurgeNotices: the scan cap of a client's page counts
// other clients' purge notices as it counts their records: the page stops
// there, says more, and the cursor moves past them.
func TestChangeScanCountsPurgeNotices(t *testing.T) {
	defer store.SetMaxChangeScan(3)()
	s := storetest.Open(t)
	old := base.Add(-400 * 24 * time.Hour)
	for i, id := range []string{"b1", "b2", "b3", "b4"} {
		mustPut(t, s, rec(id, "beta", old.Add(time.Duration(i)*time.Minute), store.ResultAnswered, true))
	}
	mustPut(t, s, rec("a1", "acme", base, store.ResultAnswered, true))
	_, reader := readFeed(t, s, store.ChangeCursor{}, "", 10)
	if _, err := s.PurgeCalls(base.Add(-90*24*time.Hour), nil, nil); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, rec("a2", "acme", base.Add(time.Minute), store.ResultAnswered, true))
	p, err := s.CallChanges(reader, "acme", 10)
	if err != nil || len(p.Calls)+len(p.Purged) != 0 || !p.More || p.Next.After <= reader.After {
		t.Fatalf("acme's page after 4 notices of beta's: %v more %v next %v (%v); want none, more, the cursor moved", feedEntries(p), p.More, p.Next, err)
	}
	if got, _ := readFeed(t, s, p.Next, "acme", 10); !slices.Equal(got, []string{"a2"}) {
		t.Fatalf("acme's feed on: %v, want a2", got)
	}
}

// TestPurgeNoticesExpire: purge notices are kept PurgeNoticeKeep, then
// deleted by the purge; a reader whose number is below an expired
// notice's is refused (ErrChangesGone: it would miss the deletion), per
// client: a client's reader idle for longer, none of whose records were
// purged, is not (nor told of other clients' notices); a full read from 0
// reads on through pages below the horizon and ends with a cursor not
// refused, unless the horizon moves during it.
func TestPurgeNoticesExpire(t *testing.T) {
	defer store.SetPurgeBatch(1)()
	s := storetest.Open(t)
	now := base
	s.SetNow(func() time.Time { return now })
	old := base.Add(-400 * 24 * time.Hour)
	mustPut(t, s, rec("gamma-1", "gamma", base.Add(-time.Hour), store.ResultAnswered, true))
	mustPut(t, s, rec("old-a", "acme", old, store.ResultAnswered, true))
	mustPut(t, s, rec("old-b", "beta", old.Add(time.Minute), store.ResultAnswered, true))
	mustPut(t, s, rec("kept-a", "acme", base.Add(-2*time.Hour), store.ResultAnswered, true))
	mustPut(t, s, rec("kept-b", "beta", base.Add(-2*time.Hour), store.ResultAnswered, true))
	_, reader := readFeed(t, s, store.ChangeCursor{}, "", 10)
	_, acme := readFeed(t, s, store.ChangeCursor{}, "acme", 10)
	_, gamma := readFeed(t, s, store.ChangeCursor{}, "gamma", 10)
	cutoff := base.Add(-90 * 24 * time.Hour)
	if _, err := s.PurgeCalls(cutoff, nil, nil); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, rec("new-a", "acme", base, store.ResultAnswered, true))

	now = base.Add(store.PurgeNoticeKeep - time.Minute)
	if _, err := s.PurgeCalls(cutoff, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := readFeed(t, s, reader, "", 10); !slices.Equal(got, []string{"new-a", "-old-a", "-old-b"}) {
		t.Fatalf("before PurgeNoticeKeep: %v, want the notices kept", got)
	}
	// The next full read starts before the notices expire.
	p, err := s.CallChanges(store.ChangeCursor{}, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	before := p.Next
	// A full read's cursor as handed out before this version: "N-H", H
	// the horizon the read began under, going on while it is H.
	p, err = s.CallChanges(reader, "", 10)
	if err != nil || len(p.Purged) != 2 {
		t.Fatalf("the notices: %+v, %v", p, err)
	}
	legacy := func(h uint64) store.ChangeCursor {
		c, err := store.ParseChangeCursor(fmt.Sprintf("1-%d", h))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	underOldB := legacy(p.Purged[1].Seq) // the horizon once both expire

	now = base.Add(store.PurgeNoticeKeep + time.Minute)
	if _, err := s.PurgeCalls(cutoff, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(rawNotices(t, s.Bolt())); n != 0 {
		t.Fatalf("%d notices left, want none", n)
	}
	for _, tc := range []struct {
		name   string
		cur    store.ChangeCursor
		client string
		gone   bool
	}{
		{"every client's reader from before", reader, "", true},
		{"acme's reader from before", acme, "acme", true},
		{"gamma's idle reader", gamma, "gamma", false},
		// Notices written before it began cannot matter to it.
		{"a full read begun before the notices expired", before, "", false},
		{"a full read", store.ChangeCursor{}, "", false},
		{"an older full read's cursor, under the horizon it began under", underOldB, "", false},
		{"an older full read's cursor, the horizon moved since", legacy(p.Purged[0].Seq), "", true},
		{"acme's full read", store.ChangeCursor{}, "acme", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CallChanges(tc.cur, tc.client, 1)
			if gone := errors.Is(err, store.ErrChangesGone); gone != tc.gone || err != nil && !gone {
				t.Fatalf("CallChanges(%v, %q): %v, want gone %v", tc.cur, tc.client, err, tc.gone)
			}
		})
	}
	// A full read, a page at a time, below the horizon and past it; its
	// last cursor is not refused.
	for _, client := range []string{"", "acme", "beta", "gamma"} {
		got, last := readFeed(t, s, store.ChangeCursor{}, client, 1)
		if p, err := s.CallChanges(last, client, 1); err != nil || len(p.Calls) != 0 || p.More {
			t.Fatalf("%q: after a full read (%v), at %v: %+v, %v; want nothing more", client, got, last, p, err)
		}
		if last.MaxHorizon != 0 {
			t.Errorf("%q: a full read ended with %v, want a plain number", client, last)
		}
	}
	if got, _ := readFeed(t, s, store.ChangeCursor{}, "", 1); !slices.Equal(got, []string{"gamma-1", "kept-a", "kept-b", "new-a"}) {
		t.Fatalf("full read %v", got)
	}
	// A full read whose horizon moves on the way is refused.
	p, err = s.CallChanges(store.ChangeCursor{}, "", 1)
	if err != nil || p.Next.MaxHorizon == 0 {
		t.Fatalf("a full read's first page: %+v, %v; want a full read's cursor", p, err)
	}
	if _, err := s.PurgeCalls(base.Add(-time.Minute), nil, nil); err != nil { // kept-a, kept-b, gamma-1 go
		t.Fatal(err)
	}
	now = now.Add(store.PurgeNoticeKeep + time.Minute)
	if _, err := s.PurgeCalls(base.Add(-time.Minute), nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CallChanges(p.Next, "", 1); !errors.Is(err, store.ErrChangesGone) {
		t.Fatalf("a full read after the horizon moved: %v, want ErrChangesGone", err)
	}
	if _, err := s.CallChanges(underOldB, "", 1); !errors.Is(err, store.ErrChangesGone) {
		t.Fatalf("an older full read's cursor after the horizon moved: %v, want ErrChangesGone", err)
	}
}

// TestFullReadOutlivesExpiringNotices: a full read goes on when a notice
// written before it began expires during it (the hourly purge on a busy
// system): its record was gone before the read and never given, and the
// read replaces the reader's copy; begun while the horizon was 0 too.
func TestFullReadOutlivesExpiringNotices(t *testing.T) {
	for _, client := range []string{"acme", ""} {
		t.Run("client "+client, func(t *testing.T) {
			s := storetest.Open(t)
			now := base
			s.SetNow(func() time.Time { return now })
			mustPut(t, s, rec("old-a", "acme", base.Add(-400*24*time.Hour), store.ResultAnswered, true))
			mustPut(t, s, rec("k1", "acme", base.Add(-2*time.Hour), store.ResultAnswered, true))
			mustPut(t, s, rec("k2", "acme", base.Add(-time.Hour), store.ResultAnswered, true))
			if n, err := s.PurgeCalls(base.Add(-90*24*time.Hour), nil, nil); err != nil || n != 1 {
				t.Fatalf("PurgeCalls = %d, %v; want old-a", n, err)
			}
			now = base.Add(store.PurgeNoticeKeep - time.Minute)
			p, err := s.CallChanges(store.ChangeCursor{}, client, 1)
			if err != nil || !slices.Equal(feedEntries(p), []string{"k1"}) || !p.More {
				t.Fatalf("first page: %v more %v, %v; want k1, more", feedEntries(p), p.More, err)
			}
			now = base.Add(store.PurgeNoticeKeep + time.Minute)
			if _, err := s.PurgeCalls(base.Add(-90*24*time.Hour), nil, nil); err != nil { // old-a's notice expires
				t.Fatal(err)
			}
			got, last := readFeed(t, s, p.Next, client, 1)
			if !slices.Equal(got, []string{"k2"}) || last.MaxHorizon != 0 {
				t.Fatalf("the read on: %v to %v; want k2, a plain number", got, last)
			}
			if p, err := s.CallChanges(last, client, 1); err != nil || p.More || len(p.Calls)+len(p.Purged) != 0 {
				t.Fatalf("after the read: %+v, %v; want nothing more", p, err)
			}
		})
	}
}

// FuzzParseChangeCursor: a cursor parses or is refused, never panics; a
// cursor read back from its String is itself.
func FuzzParseChangeCursor(f *testing.F) {
	for _, s := range []string{"0", "1796000000000000", "1796000000000000-1797000000000000", "-", "1-", "-1", "1-0", "18446744073709551615", "1-2-3", "+1", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := store.ParseChangeCursor(s)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidRecord) {
				t.Fatalf("%q: %v, want ErrInvalidRecord", s, err)
			}
			return
		}
		back, err := store.ParseChangeCursor(c.String())
		if err != nil || back != c {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, c, c.String(), back, err)
		}
	})
}

// setPurgedBefore sets calls_purged_before in the closed store file at
// path, as an older binary's purge (writing no notices) does, and deletes
// calls_noticed_before with del (a file from before notices).
func setPurgedBefore(t *testing.T, path string, at time.Time, del bool) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if del {
			if err := meta.Delete([]byte("calls_noticed_before")); err != nil {
				return err
			}
		}
		b, err := at.UTC().MarshalText()
		if err != nil {
			return err
		}
		return meta.Put([]byte("calls_purged_before"), b)
	})
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
}

// TestUnnoticedPurgeRaisesTheHorizon: after a rollback, an older binary
// purges without notices; opened again by this one (calls_purged_before
// past how far notices were written), every reader, every client's, is
// refused once and reads in full again; the next opens do not refuse
// them again, nor does a purge of this binary's. A file upgraded from a binary without notices (purged
// before, no mark of notices) refuses no one.
func TestUnnoticedPurgeRaisesTheHorizon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	s := storetest.OpenPath(t, path)
	mustPut(t, s, rec("a1", "acme", base, store.ResultAnswered, true))
	mustPut(t, s, rec("b1", "beta", base, store.ResultAnswered, true))
	if _, err := s.PurgeCalls(base.Add(-90*24*time.Hour), nil, nil); err != nil {
		t.Fatal(err)
	}
	_, reader := readFeed(t, s, store.ChangeCursor{}, "", 10)
	_, acme := readFeed(t, s, store.ChangeCursor{}, "acme", 10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// An upgrade: no refusal.
	setPurgedBefore(t, path, base.Add(-80*24*time.Hour), true)
	s = storetest.OpenPath(t, path)
	if _, err := s.CallChanges(reader, "", 10); err != nil {
		t.Fatalf("after an upgrade: %v, want the reader served", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A rollback's purge.
	setPurgedBefore(t, path, base.Add(-70*24*time.Hour), false)
	s = storetest.OpenPath(t, path)
	for _, tc := range []struct {
		cur    store.ChangeCursor
		client string
	}{{reader, ""}, {acme, "acme"}} {
		if _, err := s.CallChanges(tc.cur, tc.client, 10); !errors.Is(err, store.ErrChangesGone) {
			t.Fatalf("%q after an older binary's purge: %v, want ErrChangesGone", tc.client, err)
		}
	}
	got, again := readFeed(t, s, store.ChangeCursor{}, "", 1)
	_, acmeAgain := readFeed(t, s, store.ChangeCursor{}, "acme", 1)
	if !slices.Equal(got, []string{"a1", "b1"}) {
		t.Fatalf("full read %v", got)
	}
	// This binary's purge, with notices, further: no refusal.
	if _, err := s.PurgeCalls(base.Add(-60*24*time.Hour), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = storetest.OpenPath(t, path)
	if _, err := s.CallChanges(again, "", 10); err != nil {
		t.Fatalf("read in full, then opened again: %v", err)
	}
	if _, err := s.CallChanges(acmeAgain, "acme", 10); err != nil {
		t.Fatalf("acme's read in full, then opened again: %v", err)
	}
}

// TestPurgeNoticeNumbersTellNothingOfOtherClients: a client's purge
// notices are numbered one after another, so that the gap between two of
// its numbers (purged[].seq, next) does not show how many of another
// client's records were purged between its own: 50 of beta's records
// between acme's two, 500 (a batch boundary in start order), and every
// record a batch of its own.
func TestPurgeNoticeNumbersTellNothingOfOtherClients(t *testing.T) {
	for _, tc := range []struct {
		name  string
		betas int
		batch int // 0: as it is
	}{
		{"50 between", 50, 0},
		{"500 between", 500, 0},
		{"a batch a record", 50, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.batch != 0 {
				defer store.SetPurgeBatch(tc.batch)()
			}
			s := storetest.Open(t)
			t0 := base.Add(-400 * 24 * time.Hour)
			mustPut(t, s, rec("a1", "acme", t0, store.ResultAnswered, true))
			for i := range tc.betas {
				mustPut(t, s, rec(fmt.Sprintf("b%d", i), "beta", t0.Add(time.Duration(i+1)*time.Second), store.ResultAnswered, true))
			}
			mustPut(t, s, rec("a2", "acme", t0.Add(time.Hour), store.ResultAnswered, true))
			mustPut(t, s, rec("a3", "acme", t0.Add(2*time.Hour), store.ResultAnswered, true))
			if n, err := s.PurgeCalls(base.Add(-90*24*time.Hour), nil, nil); err != nil || n != tc.betas+3 {
				t.Fatalf("PurgeCalls = %d, %v; want %d", n, err, tc.betas+3)
			}
			p, err := s.CallChanges(store.ChangeCursor{}, "acme", 10)
			if err != nil || len(p.Purged) != 3 {
				t.Fatalf("acme's feed: %+v, %v; want 3 notices", p, err)
			}
			for i := 1; i < len(p.Purged); i++ {
				// A bound of a few: one after another, whatever
				// beta's count.
				if d := p.Purged[i].Seq - p.Purged[i-1].Seq; d >= 4 {
					t.Errorf("acme's notices %s and %s numbered %d apart, want less than 4", p.Purged[i-1].ID, p.Purged[i].ID, d)
				}
			}
		})
	}
}
