package relay

import (
	"errors"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestForgetIn: the entries of the messages named go with the caller's
// transaction, in every state, the due index in step: all of them when
// it commits, none when it rolls back (the store's purge failed after).
// A transaction of another file, or a read-only one, is refused.
func TestForgetIn(t *testing.T) {
	clock := newFakeClock()
	db := openDB(t, "")
	ob := newOutbox(t, db, clock, OutboxOptions{MaxAttempts: 1})
	for _, id := range []string{"c1-missed-call", "c2-voicemail"} {
		if _, err := ob.Enqueue(testMessage(id), []string{"ok", "bad", "later"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ob.record("c1-missed-call/ok", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.record("c1-missed-call/bad", errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	all := keys(t, db)

	failed := errors.New("the record's deletion failed")
	err := db.Update(func(tx *bolt.Tx) error {
		if n, err := ob.ForgetIn(tx, []string{"c1-missed-call"}); err != nil || n != 3 {
			t.Errorf("ForgetIn = %d, %v; want 3", n, err)
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if got := keys(t, db); !slices.Equal(got, all) {
		t.Fatalf("after a rolled back ForgetIn: %q, want every entry kept %q", got, all)
	}

	err = db.Update(func(tx *bolt.Tx) error {
		_, err := ob.ForgetIn(tx, []string{"c1-missed-call"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"relay_outbox c2-voicemail/bad", "relay_outbox c2-voicemail/later", "relay_outbox c2-voicemail/ok"}
	if got := keys(t, db); !slices.Equal(got, want) {
		t.Fatalf("after ForgetIn: %q, want %q", got, want)
	}
	if err := db.View(checkDueIndex); err != nil {
		t.Fatal(err)
	}

	other := openDB(t, "")
	err = other.Update(func(tx *bolt.Tx) error {
		_, err := ob.ForgetIn(tx, []string{"c2-voicemail"})
		return err
	})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("ForgetIn in another file's transaction: %v, want ErrInvalid", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		_, err := ob.ForgetIn(tx, []string{"c2-voicemail"})
		return err
	})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("ForgetIn in a read transaction: %v, want ErrInvalid", err)
	}
}

func TestNoticeMessageID(t *testing.T) {
	for _, tc := range []struct {
		id, call, kind string
		ok             bool
	}{
		{NoticeMessageID("1700000000.12", KindMissedCall), "1700000000.12", KindMissedCall, true},
		{NoticeMessageID("c-voicemail", KindVoicemail), "c-voicemail", KindVoicemail, true},
		{NoticeMessageID("c-missed-call", KindMissedCall), "c-missed-call", KindMissedCall, true},
		{"-missed-call", "", "", false},
		{"-voicemail", "", "", false},
		{"i1-v1", "", "", false},
		{"c1-intake", "", "", false},
		{"c1-missed-call/hook", "", "", false},
	} {
		call, kind, ok := ParseNoticeMessageID(tc.id)
		if call != tc.call || kind != tc.kind || ok != tc.ok {
			t.Errorf("ParseNoticeMessageID(%q) = %q, %q, %v; want %q, %q, %v", tc.id, call, kind, ok, tc.call, tc.kind, tc.ok)
		}
	}
	for _, id := range NoticeMessageIDs("c1") {
		if call, _, ok := ParseNoticeMessageID(id); !ok || call != "c1" {
			t.Errorf("NoticeMessageIDs(c1) gives %q, which parses as %q, %v", id, call, ok)
		}
	}
	if ids := NoticeMessageIDs("c1"); len(ids) != 2 {
		t.Errorf("NoticeMessageIDs(c1) = %q, want one id a kind (missed call, voicemail)", ids)
	}
}
