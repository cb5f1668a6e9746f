package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
	bolt "go.etcd.io/bbolt"
)

func TestSessions(t *testing.T) {
	st := storetest.Open(t)
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	if _, err := st.Session("k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty store: %v, want ErrNotFound", err)
	}
	if err := st.DeleteSession("k1"); err != nil {
		t.Fatalf("deleting from an empty store: %v", err)
	}
	if n, err := st.SweepSessions(func(store.Session) bool { return true }); n != 0 || err != nil {
		t.Fatalf("sweeping an empty store: %d, %v", n, err)
	}
	want := store.Session{OperatorID: "op1", CSRF: "tok", Created: t0, LastSeen: t0.Add(time.Minute)}
	for _, k := range []string{"k1", "k2", "k3"} {
		if err := st.PutSession(k, want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Session("k1")
	if err != nil || got.OperatorID != want.OperatorID || got.CSRF != want.CSRF || !got.Created.Equal(t0) || !got.LastSeen.Equal(want.LastSeen) {
		t.Fatalf("Session = %+v, %v; want %+v", got, err, want)
	}
	if err := st.DeleteSession("k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session("k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
	late := want
	late.LastSeen = t0.Add(time.Hour)
	if err := st.PutSession("k3", late); err != nil {
		t.Fatal(err)
	}
	n, err := st.SweepSessions(func(s store.Session) bool { return s.LastSeen.Before(t0.Add(time.Hour)) })
	if n != 1 || err != nil {
		t.Fatalf("sweep = %d, %v; want 1", n, err)
	}
	if _, err := st.Session("k2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("swept session still there: %v", err)
	}
	if _, err := st.Session("k3"); err != nil {
		t.Fatalf("kept session gone: %v", err)
	}
	for _, tc := range []struct {
		key string
		s   store.Session
	}{{"", want}, {"k", store.Session{}}} {
		if err := st.PutSession(tc.key, tc.s); !errors.Is(err, store.ErrInvalidRecord) {
			t.Errorf("PutSession(%q, %+v) = %v, want ErrInvalidRecord", tc.key, tc.s, err)
		}
	}
}

func TestSessionsCorruptValue(t *testing.T) {
	st := storetest.Open(t)
	if err := st.PutSession("good", store.Session{OperatorID: "op1", LastSeen: time.Now()}); err != nil {
		t.Fatal(err)
	}
	err := st.Bolt().Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("console_sessions")).Put([]byte("bad"), []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session("bad"); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("corrupt session = %v, want ErrCorrupt", err)
	}
	if n, err := st.SweepSessions(func(store.Session) bool { return false }); n != 1 || err != nil {
		t.Fatalf("sweep = %d, %v; want the corrupt row deleted", n, err)
	}
	if _, err := st.Session("good"); err != nil {
		t.Fatalf("good session gone: %v", err)
	}
}

// TestKnownLogins: a recorded login reads back; entries older than the
// cut go with the next write.
func TestKnownLogins(t *testing.T) {
	s := storetest.Open(t)
	old, now := base.Add(-40*24*time.Hour), base
	if err := s.PutKnownLogin("198.51.100.7\x00op-a", old, old.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutKnownLogin("203.0.113.9\x00op-b", now, now.Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.KnownLogins()
	if err != nil || len(got) != 1 || !got["203.0.113.9\x00op-b"].Equal(now.Truncate(time.Millisecond)) {
		t.Fatalf("known logins %v (%v): want op-b's only, the older one forgotten", got, err)
	}
	if err := s.PutKnownLogin("", now, now); err == nil {
		t.Error("an empty key was stored")
	}
}

// TestTouchSessionDoesNotBringBackADeletedOne: a use of a session written
// after its logout deleted it (the use was counted just before) leaves it
// deleted; a use of a stored session moves its last use forward only.
func TestTouchSessionDoesNotBringBackADeletedOne(t *testing.T) {
	st := storetest.Open(t)
	at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	if err := st.PutSession("k", store.Session{OperatorID: "op1", Created: at, LastSeen: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchSession("k", at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchSession("k", at.Add(time.Minute)); err != nil { // an older use, written late
		t.Fatal(err)
	}
	if ss, err := st.Session("k"); err != nil || !ss.LastSeen.Equal(at.Add(2*time.Minute)) || ss.OperatorID != "op1" {
		t.Fatalf("after two uses: %+v, %v; want the later use kept", ss, err)
	}
	if err := st.DeleteSession("k"); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchSession("k", at.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session("k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a use written after the logout: %v; want the session still gone", err)
	}
}
