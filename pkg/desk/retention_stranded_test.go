package desk_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// setClock is a relay.Clock a test sets.
type setClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *setClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *setClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *setClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestRetentionSweepsCopiesStrandedByTheOldOrder: acme keeps messages 7
// days. Eight days ago a message was taken and corrected; a retention
// run of the old order deleted the message, then died before its relay
// copies (one of them set aside unreadable since, the file damaged). The
// hourly run now deletes those copies, and keeps: a copy as old whose
// message is still stored (corrected yesterday; its caller being erased
// just now, so the erasure still finds it), a copy queued now whose
// message is not (yet) in the store, a fresh message's copies, and an
// old stranded copy of beta's, a client keeping its messages (no
// retention). An old copy of acme's whose message id is now delta's
// message goes too.
func TestRetentionSweepsCopiesStrandedByTheOldOrder(t *testing.T) {
	d, _ := newDesk(t)
	y := strings.Replace(cfgYAML, "    script: standard\n", "    script: standard\n    intake_retention_days: 7\n", 1)
	cfg, err := config.Parse("test.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Config = func() *config.Config { return cfg }
	now := time.Now()
	t0 := now.Add(-8 * 24 * time.Hour)
	clock := &setClock{now: t0}
	ob, err := relay.OpenOutbox(d.Store.Bolt(), relay.OutboxOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	d.Outbox = ob
	take := func(id, caller string, at time.Time) {
		t.Helper()
		clock.set(at)
		in, err := d.Store.PutIntake(store.Intake{ID: id, ClientID: "acme", OperatorID: "op1001", CallerNumber: caller,
			Values: map[string]string{"name": "山田花子", "detail": "借金の返済について"}, CreatedAt: at, UpdatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Submit(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	queue := func(client, messageID string) {
		t.Helper()
		intake, v, _ := relay.ParseIntakeMessageID(messageID)
		m := relay.Message{ID: messageID, ClientID: client, Kind: relay.KindIntake, IntakeID: intake, Version: v,
			Text: "山田花子様より", CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
		if _, err := ob.Enqueue(m, []string{"acme-hook"}); err != nil {
			t.Fatal(err)
		}
	}
	take("old", "09011112222", t0)
	take("kept", "09055556666", t0)
	queue("beta", "b-v1")
	queue("acme", "dup-v1")                       // its message deleted since; its id taken by delta's below
	take("old", "09011112222", t0.Add(time.Hour)) // corrected
	// The correction's copy is damaged in the file, and set aside at the
	// next start.
	err = d.Store.Bolt().Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("relay_outbox")).Put([]byte("old-v2/acme-hook"), []byte("X{damaged"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if ob, err = relay.OpenOutbox(d.Store.Bolt(), relay.OutboxOptions{Clock: clock}); err != nil {
		t.Fatal(err)
	}
	d.Outbox = ob
	// The old order: the message deleted first, then the run died.
	if n, err := d.Store.PurgeIntakes(func(in store.Intake) bool { return in.ID == "old" }); err != nil || n != 1 {
		t.Fatalf("deleting the message alone: %d, %v", n, err)
	}
	take("kept", "09055556666", now.Add(-24*time.Hour)) // corrected yesterday
	take("new", "09033334444", now)
	queue("acme", "taking-v1") // its message not in the store
	if _, err := d.Store.PutIntake(store.Intake{ID: "dup", ClientID: "delta", OperatorID: "op1001", CallerNumber: "09077778888",
		Values: map[string]string{"name": "鈴木"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if st, err := ob.Stats(); err != nil || st.Unreadable != 1 {
		t.Fatalf("before the run: %+v, %v; want the damaged copy set aside", st, err)
	}

	end := d.Store.BeginErasure("+819055556666")
	defer end()
	if n, _, err := d.PurgeIntakes(now); err != nil || n != 0 {
		t.Fatalf("PurgeIntakes = %d, %v; want no message due (the stranded one is gone already)", n, err)
	}
	want := []string{"b-v1/acme-hook", "kept-v1/acme-hook", "kept-v2/acme-hook", "new-v1/acme-hook", "taking-v1/acme-hook"}
	if ids := copies(t, ob); !slices.Equal(ids, want) {
		t.Fatalf("outbox after the run: %q, want %q (the stranded copies of old gone, nothing else)", ids, want)
	}
	if st, err := ob.Stats(); err != nil || st.Unreadable != 0 {
		t.Fatalf("after the run: %+v, %v; want the stranded copy set aside gone too", st, err)
	}
}
