package desk_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/desk"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestCallRecordRetentionDeletesNoticeCopies: the records are kept 62
// days; acme is told of its missed calls (不在着信: the caller's number).
// The hourly run deletes a record past the retention with its notice's
// relay copy (even one queued late, younger than the retention), the
// copy first, in the record's
// transaction: when that deletion fails, both are kept, and the next run
// deletes both. It also deletes the copies an earlier version left, that
// purged the records alone (one of them set aside unreadable since, the
// file damaged), and keeps: a recent call's record and copy, an old
// call's kept for its recording, and a copy queued now whose record is
// not stored.
func TestCallRecordRetentionDeletesNoticeCopies(t *testing.T) {
	d, _ := newDesk(t)
	cfg, err := config.Parse("test.yaml", []byte(strings.Replace(cfgYAML, "data_dir: /nonexistent\n", "data_dir: /nonexistent\ncall_record_retention_days: 62\n", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Config = func() *config.Config { return cfg }
	now := time.Now()
	days := func(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }
	clock := &setClock{now: days(70)}
	open := func() *relay.Outbox {
		t.Helper()
		ob, err := relay.OpenOutbox(d.Store.Bolt(), relay.OutboxOptions{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		d.Outbox = ob
		return ob
	}
	ob := open()
	// queuedAt stores an abandoned call's record, of a call started at,
	// and relays its notice at queued; missed at its end, as the service
	// does.
	queuedAt := func(id string, at, queued time.Time, recording string) {
		t.Helper()
		clock.set(queued)
		rec := store.CallRecord{ID: id, ClientID: "acme", CallerID: "09011112222", Result: store.ResultAbandoned, WaitMS: 30000,
			StartedAt: at, EndedAt: at.Add(time.Minute), Recording: recording}
		if err := d.Store.PutCall(rec); err != nil {
			t.Fatal(err)
		}
		d.Finished(rec)
		if es, err := ob.List(relay.Filter{MessageID: relay.NoticeMessageID(id, relay.KindMissedCall)}); err != nil || len(es) != 1 {
			t.Fatalf("call %s's notice: %v, %v; want one copy queued", id, es, err)
		}
	}
	missed := func(id string, at time.Time, recording string) {
		t.Helper()
		queuedAt(id, at, at, recording)
	}
	missed("stranded", days(70), "")
	missed("stranded-damaged", days(70), "")
	// The copy is damaged in the file, and set aside at the next start.
	err = d.Store.Bolt().Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("relay_outbox")).Put([]byte("stranded-damaged-missed-call/acme-hook"), []byte("X{damaged"))
	})
	if err != nil {
		t.Fatal(err)
	}
	ob = open()
	// The old order: the records deleted alone.
	if n, err := d.Store.PurgeCalls(days(65), nil, nil); err != nil || n != 2 {
		t.Fatalf("deleting the records alone: %d, %v", n, err)
	}
	missed("old", days(63), "")
	// Its notice queued late (at a restart): the copy is young, the
	// record due.
	queuedAt("old-late", days(63), days(1), "")
	missed("recorded", days(80), "rec-recorded") // within its recording's 90 days
	missed("recent", days(61), "")
	clock.set(now)
	queued := relay.Message{ID: relay.NoticeMessageID("unstored", relay.KindMissedCall), ClientID: "acme", Kind: relay.KindMissedCall,
		CallID: "unstored", Subject: "不在着信（090-1111-2222）", Text: "不在着信", CreatedAt: now}
	if _, err := ob.Enqueue(queued, []string{"acme-hook"}); err != nil {
		t.Fatal(err)
	}
	if st, err := ob.Stats(); err != nil || st.Unreadable != 1 {
		t.Fatalf("before the run: %+v, %v; want the damaged copy set aside", st, err)
	}

	var fail atomic.Bool
	fail.Store(true)
	desk.FailNoticeForgets(d, &fail)
	if n, err := d.PurgeCallRecords(now); err == nil || n != 0 {
		t.Fatalf("PurgeCallRecords, the copies' deletion failing = %d, %v; want 0 and the error", n, err)
	}
	for _, id := range []string{"old", "old-late"} {
		if _, err := d.Store.Call(id); err != nil {
			t.Errorf("record %s after a failed run: %v; want it kept, to be deleted with its copy", id, err)
		}
		if got := copies(t, ob); !slices.Contains(got, id+"-missed-call/acme-hook") {
			t.Errorf("copies after a failed run: %q; want %s's kept", got, id)
		}
	}

	fail.Store(false)
	if n, err := d.PurgeCallRecords(now); err != nil || n != 2 {
		t.Fatalf("PurgeCallRecords = %d, %v; want 2 (old, old-late)", n, err)
	}
	want := []string{"recent-missed-call/acme-hook", "recorded-missed-call/acme-hook", "unstored-missed-call/acme-hook"}
	if got := copies(t, ob); !slices.Equal(got, want) {
		t.Fatalf("outbox after the run: %q, want %q", got, want)
	}
	if st, err := ob.Stats(); err != nil || st.Unreadable != 0 {
		t.Fatalf("after the run: %+v, %v; want the stranded copy set aside gone too", st, err)
	}
	for _, id := range []string{"recent", "recorded"} {
		if _, err := d.Store.Call(id); err != nil {
			t.Errorf("record %s: %v; want it kept", id, err)
		}
	}
}

// copies lists the ids of ob's entries (pending, delivered, dead or
// discarded), sorted.
func copies(t *testing.T, ob *relay.Outbox) []string {
	t.Helper()
	es, err := ob.List(relay.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	return ids
}

// TestPurgeNoticesExpireWithTheRetentionOff: call_record_retention_days
// set back to 0 stops the purge, and the notices of the purges before it
// still leave the change feed after PurgeNoticeKeep (they stayed for
// ever: nothing else expired them).
func TestPurgeNoticesExpireWithTheRetentionOff(t *testing.T) {
	d, _ := newDesk(t)
	with := func(days string) *config.Config {
		cfg, err := config.Parse("test.yaml", []byte(strings.Replace(cfgYAML, "data_dir: /nonexistent\n", "data_dir: /nonexistent\ncall_record_retention_days: "+days+"\n", 1)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	now := time.Now()
	old := now.Add(-100 * 24 * time.Hour)
	if err := d.Store.PutCall(store.CallRecord{ID: "old", ClientID: "acme", CallerID: "09011112222", Result: store.ResultAbandoned,
		StartedAt: old, EndedAt: old.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	notices := func() int {
		t.Helper()
		p, err := d.Store.CallChanges(store.ChangeCursor{}, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Purged)
	}
	on := with("62")
	d.Config = func() *config.Config { return on }
	if n, err := d.PurgeCallRecords(now); err != nil || n != 1 || notices() != 1 {
		t.Fatalf("purge: %d, %v, %d notices; want the record purged and its notice", n, err, notices())
	}
	off := with("0")
	d.Config = func() *config.Config { return off }
	if _, err := d.PurgeCallRecords(now.Add(store.PurgeNoticeKeep - time.Hour)); err != nil || notices() != 1 {
		t.Fatalf("before PurgeNoticeKeep, the retention off: %v, %d notices; want it kept", err, notices())
	}
	if _, err := d.PurgeCallRecords(now.Add(store.PurgeNoticeKeep + time.Hour)); err != nil || notices() != 0 {
		t.Fatalf("after PurgeNoticeKeep, the retention off: %v, %d notices; want none", err, notices())
	}
}
