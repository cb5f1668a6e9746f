package relay

import (
	"errors"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// testMessages is a bucket standing for the store's messages in these
// tests: a message id there exists.
var testMessages = []byte("test_messages")

// messageGone is a Sweep predicate: e's message is not in testMessages.
func messageGone(tx *bolt.Tx, e Entry) bool {
	b := tx.Bucket(testMessages)
	return b == nil || b.Get([]byte(e.MessageID)) == nil
}

// writeMessages stores ids in testMessages.
func writeMessages(t *testing.T, db *bolt.DB, ids ...string) {
	t.Helper()
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(testMessages)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := b.Put([]byte(id), []byte("{}")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// strandedOutbox is an outbox in a real bbolt file with, for each of
// the messages "gone-*" (not in testMessages) and "kept-*" (there), an
// entry in every state: pending, delivered, dead, discarded, and one set
// aside unreadable.
func strandedOutbox(t *testing.T) (*bolt.DB, *Outbox, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	db := openDB(t, "")
	ob := newOutbox(t, db, clock, OutboxOptions{})
	now := clock.Now()
	for _, p := range []string{"gone", "kept"} {
		for _, st := range []State{StatePending, StateDelivered, StateDead, StateDiscarded, "unreadable"} {
			m := testMessage(p + "-" + string(st))
			e := Entry{ID: IdempotencyKey(m.ID, "mail"), MessageID: m.ID, Destination: "mail", State: st,
				EnqueuedAt: now, UpdatedAt: now, Message: m}
			err := db.Update(func(tx *bolt.Tx) error {
				switch st {
				case StatePending:
					e.NextAt = now.Add(time.Hour)
					return putEntry(tx, bucketOutbox, e)
				case StateDead:
					return putEntry(tx, bucketDead, e)
				case "unreadable":
					return tx.Bucket(bucketOutbox).Put([]byte(e.ID), []byte("X{damaged"))
				}
				return putEntry(tx, bucketOutbox, e)
			})
			if err != nil {
				t.Fatal(err)
			}
			if p == "kept" {
				writeMessages(t, db, m.ID)
			}
		}
	}
	ob = newOutbox(t, db, clock, OutboxOptions{}) // sets the damaged ones aside
	if st, err := ob.Stats(); err != nil || st.Unreadable != 2 || st.Pending != 2 || st.Dead != 2 {
		t.Fatalf("before the sweep: %+v, %v", st, err)
	}
	return db, ob, clock
}

// keys lists the keys of every relay bucket holding entries, as
// "bucket key".
func keys(t *testing.T, db *bolt.DB) []string {
	t.Helper()
	var out []string
	err := db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketOutbox, bucketDead, bucketUnreadable} {
			if err := tx.Bucket(name).ForEach(func(k, _ []byte) error {
				out = append(out, string(name)+" "+string(k))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestSweepDeletesStrandedEntriesInEveryState: Sweep deletes the entries
// the predicate calls stranded (their message gone) whatever their state,
// pending (and its due index: checkDB at the end), delivered, dead,
// discarded, and those set aside unreadable that its second predicate
// calls stranded, and keeps every other.
func TestSweepDeletesStrandedEntriesInEveryState(t *testing.T) {
	db, ob, _ := strandedOutbox(t)
	asideGone := func(tx *bolt.Tx, u Unreadable) bool {
		b := tx.Bucket(testMessages)
		return u.Destination == "mail" && u.Bucket == string(bucketOutbox) && b.Get([]byte(u.MessageID)) == nil
	}
	n, err := ob.Sweep(messageGone, asideGone)
	if err != nil || n != 5 {
		t.Fatalf("Sweep = %d, %v; want the 5 entries of the messages gone", n, err)
	}
	want := []string{
		"relay_dead kept-dead/mail",
		"relay_outbox kept-delivered/mail", "relay_outbox kept-discarded/mail", "relay_outbox kept-pending/mail",
		"relay_unreadable kept-unreadable/mail",
	}
	if got := keys(t, db); !slices.Equal(got, want) {
		t.Fatalf("left %q, want %q", got, want)
	}
	if st, err := ob.Stats(); err != nil || st.Unreadable != 1 || st.Pending != 1 || st.Dead != 1 {
		t.Fatalf("after the sweep: %+v, %v", st, err)
	}
	// Without a predicate for them, the records set aside are kept.
	// Every message gone now.
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(testMessages) }); err != nil {
		t.Fatal(err)
	}
	if n, err := ob.Sweep(messageGone, nil); err != nil || n != 4 {
		t.Fatalf("Sweep with no predicate for the unreadable = %d, %v; want the 4 others", n, err)
	}
	if got := keys(t, db); !slices.Equal(got, []string{"relay_unreadable kept-unreadable/mail"}) {
		t.Fatalf("left %q, want the one set aside", got)
	}
}

// TestSweepKeepsAnEntryWhoseMessageIsWrittenMeanwhile: an entry found
// stranded in the read transaction whose message is committed before the
// deleting one (a message taken and queued a moment ago, in the order
// the service writes them: the message, then its entries) is asked
// about again there, and kept; one whose message is still gone goes.
func TestSweepKeepsAnEntryWhoseMessageIsWrittenMeanwhile(t *testing.T) {
	clock := newFakeClock()
	db := openDB(t, "")
	ob := newOutbox(t, db, clock, OutboxOptions{})
	for _, id := range []string{"fresh", "gone"} {
		if _, err := ob.Enqueue(testMessage(id), []string{"mail"}); err != nil {
			t.Fatal(err)
		}
	}
	defer func(f func(int)) { sweepFound = f }(sweepFound)
	sweepFound = func(found int) {
		if found != 2 {
			t.Errorf("found %d stranded, want 2", found)
		}
		writeMessages(t, db, "fresh")
	}
	if n, err := ob.Sweep(messageGone, nil); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want the one whose message is still gone", n, err)
	}
	if got := keys(t, db); !slices.Equal(got, []string{"relay_outbox fresh/mail"}) {
		t.Fatalf("left %q, want the entry whose message was written meanwhile", got)
	}
	if ids := dueIDs(t, ob, clock.Now()); !slices.Equal(ids, []string{"fresh/mail"}) {
		t.Fatalf("due = %v, want the kept entry", ids)
	}
}

// TestUnreadableRead: a record set aside reads as its key split into
// message and destination, where it was, when, why and its value; one
// whose record does not decode either still lists, with that record.
func TestUnreadableRead(t *testing.T) {
	at := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, key string
		rec       string
		want      Unreadable
	}{
		{"entry", "in-1-v2/mail", `{"bucket":"relay_dead","set_aside_at":"2026-04-01T09:30:00Z","error":"decode entry: x","value":"WHs="}`,
			Unreadable{ID: "in-1-v2/mail", MessageID: "in-1-v2", Destination: "mail", Bucket: "relay_dead", SetAsideAt: at, Error: "decode entry: x", Value: []byte("X{")}},
		{"message id with a slash", "a/b/mail", `{"bucket":"relay_outbox","set_aside_at":"2026-04-01T09:30:00Z","error":"e","value":""}`,
			Unreadable{ID: "a/b/mail", MessageID: "a/b", Destination: "mail", Bucket: "relay_outbox", SetAsideAt: at, Error: "e", Value: []byte{}}},
		{"no slash", "damaged", `{"bucket":"relay_outbox","error":"e"}`,
			Unreadable{ID: "damaged", Bucket: "relay_outbox", Error: "e"}},
		{"record damaged too", "x/mail", `{"bu`,
			Unreadable{ID: "x/mail", MessageID: "x", Destination: "mail", Error: "the record of its setting aside does not decode either: unexpected end of JSON input", Value: []byte(`{"bu`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readUnreadable([]byte(tc.key), []byte(tc.rec))
			if got.ID != tc.want.ID || got.MessageID != tc.want.MessageID || got.Destination != tc.want.Destination ||
				got.Bucket != tc.want.Bucket || !got.SetAsideAt.Equal(tc.want.SetAsideAt) || got.Error != tc.want.Error ||
				string(got.Value) != string(tc.want.Value) {
				t.Fatalf("readUnreadable = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestSweepOfARecordSetAsideKeepsItsKeysPendingEntry: a record set aside
// shares its key with the entry queued again since (the start-up check
// queues a recent message left with no entry); sweeping the record
// leaves that entry, and its place in the due index, alone.
func TestSweepOfARecordSetAsideKeepsItsKeysPendingEntry(t *testing.T) {
	clock := newFakeClock()
	db := openDB(t, "")
	ob := newOutbox(t, db, clock, OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("again"), []string{"mail"}); err != nil {
		t.Fatal(err)
	}
	writeMessages(t, db, "again")
	err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUnreadable).Put([]byte("again/mail"), []byte(`{"bucket":"relay_outbox","error":"e","value":"WHs="}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	all := func(*bolt.Tx, Unreadable) bool { return true }
	if n, err := ob.Sweep(messageGone, all); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want the record set aside", n, err)
	}
	if ids := dueIDs(t, ob, clock.Now()); !slices.Equal(ids, []string{"again/mail"}) {
		t.Fatalf("due = %v, want the pending entry still", ids)
	}
}

// TestUnreadablePageAndDiscard: the entries set aside list in the order
// they were set aside, a page at a time; discarding one deletes its
// record for good (Stats stop counting it) and leaves an entry queued
// again under its key; an id not set aside is ErrNotFound.
func TestUnreadablePageAndDiscard(t *testing.T) {
	clock := newFakeClock()
	db := openDB(t, "")
	ob := newOutbox(t, db, clock, OutboxOptions{})
	// Set aside at three starts, an hour apart: c first, then b, then a.
	for _, id := range []string{"c-v1", "b-v1", "a-v1"} {
		if _, err := ob.Enqueue(testMessage(id), []string{"mail"}); err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOutbox).Put([]byte(id+"/mail"), []byte("X{"+id)) }); err != nil {
			t.Fatal(err)
		}
		ob = newOutbox(t, db, clock, OutboxOptions{})
		clock.After(time.Hour)
	}
	// b's message queued again since, under the same key.
	if _, err := ob.Enqueue(testMessage("b-v1"), []string{"mail"}); err != nil {
		t.Fatal(err)
	}
	page, more, err := ob.UnreadablePage(Position{}, 2)
	if err != nil || !more || len(page) != 2 || page[0].ID != "c-v1/mail" || page[1].ID != "b-v1/mail" {
		t.Fatalf("first page = %+v, %v, %v; want c then b, more", page, more, err)
	}
	if u := page[0]; u.MessageID != "c-v1" || u.Destination != "mail" || u.Bucket != "relay_outbox" ||
		!u.SetAsideAt.Equal(newFakeClock().Now()) || string(u.Value) != "X{c-v1" || u.Error == "" {
		t.Errorf("c's record = %+v", u)
	}
	next := Position{EnqueuedAt: page[1].SetAsideAt, ID: page[1].ID}
	if page, more, err = ob.UnreadablePage(next, 2); err != nil || more || len(page) != 1 || page[0].ID != "a-v1/mail" {
		t.Fatalf("second page = %+v, %v, %v; want a, no more", page, more, err)
	}

	if err := ob.DiscardUnreadable("b-v1/mail"); err != nil {
		t.Fatal(err)
	}
	if err := ob.DiscardUnreadable("b-v1/mail"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("discarding it again = %v, want ErrNotFound", err)
	}
	if err := ob.DiscardUnreadable("nothing/mail"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("discarding an id never set aside = %v, want ErrNotFound", err)
	}
	if st, err := ob.Stats(); err != nil || st.Unreadable != 2 || st.Pending != 1 {
		t.Fatalf("Stats = %+v, %v; want 2 unreadable, b's new entry pending", st, err)
	}
	if page, _, err = ob.UnreadablePage(Position{}, 10); err != nil || len(page) != 2 || page[0].ID != "c-v1/mail" || page[1].ID != "a-v1/mail" {
		t.Fatalf("after the discard = %+v, %v; want c and a", page, err)
	}
	if _, err := ob.Get("b-v1/mail"); err != nil {
		t.Fatalf("b's entry queued again: %v, want it kept", err)
	}
}
