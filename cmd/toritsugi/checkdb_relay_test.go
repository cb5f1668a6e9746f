package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"

	bolt "go.etcd.io/bbolt"
)

// TestCheckDBReadsTheRelayOutbox: a file whose relay outbox holds an
// entry that does not decode is refused by check-db, naming its bucket
// and key (bbolt's check reads pages, not values; such a file used to
// pass, and then fail every start). Once a start has set the entry aside,
// check-db passes it and says so.
func TestCheckDBReadsTheRelayOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "copy.db")
	open := func() (*store.Store, *relay.Outbox) {
		t.Helper()
		st, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{})
		if err != nil {
			_ = st.Close()
			t.Fatalf("open the outbox: %v", err)
		}
		return st, ob
	}
	st, ob := open()
	for _, id := range []string{"m1", "m2"} {
		if _, err := ob.Enqueue(relay.Message{ID: id, ClientID: "acme", Text: "x"}, []string{"hook"}); err != nil {
			t.Fatal(err)
		}
	}
	err := st.Bolt().Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("relay_outbox")).Put([]byte("m1/hook"), []byte("X{damaged"))
	})
	if cerr := st.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}

	var out bytes.Buffer
	err = run(context.Background(), []string{"check-db", path}, &out, &out)
	if !errors.Is(err, store.ErrCorrupt) || !errors.Is(err, relay.ErrUnreadable) || !strings.Contains(err.Error(), `relay_outbox "m1/hook"`) {
		t.Fatalf("check-db of a damaged outbox = %v (%q), want ErrCorrupt naming relay_outbox \"m1/hook\"", err, out.String())
	}

	st, _ = open() // a start: sets it aside
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"check-db", path}, &out, &out); err != nil ||
		!strings.HasPrefix(out.String(), path+": ok (schema 2, 0 call records, 0 messages)\n") ||
		!strings.Contains(out.String(), "set aside in bucket relay_unreadable (never sent, kept 30 days; GET /api/v1/relay?state=unreadable lists them): 1\n") {
		t.Fatalf("check-db after a start = %v, %q; want ok, saying one entry is set aside", err, out.String())
	}
}
