package desk_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/desk"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestRetentionAlsoDeletesRelayedCopies: a client keeps messages 7 days
// (intake_retention_days: 7). Eight days on, the hourly job runs as
// serve.go's does: desk.PurgeIntakes(now), then outbox.Purge(now - 30
// days). Nothing of what the caller said is left in the outbox either
// (its copy here undelivered, the destination down, as a dead letter
// would be: Purge keeps those), while a recent message's entries stay.
func TestRetentionAlsoDeletesRelayedCopies(t *testing.T) {
	d, ob := newDesk(t)
	y := strings.Replace(cfgYAML, "    script: standard\n", "    script: standard\n    intake_retention_days: 7\n", 1)
	cfg, err := config.Parse("test.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Config = func() *config.Config { return cfg }
	now := time.Now()
	taken := now.Add(-8 * 24 * time.Hour)
	in := store.Intake{ID: "old", ClientID: "acme", OperatorID: "op1001", CallerNumber: "09011112222",
		Values: map[string]string{"name": "山田花子", "detail": "借金の返済について相談したい"}, CreatedAt: taken, UpdatedAt: taken}
	if _, err := d.Store.PutIntake(in); err != nil {
		t.Fatal(err)
	}
	in.Version = 1
	if err := d.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	recent := store.Intake{ID: "new", ClientID: "acme", OperatorID: "op1001", CallerNumber: "09033334444",
		Values: map[string]string{"name": "佐藤", "detail": "見積もり"}, CreatedAt: now, UpdatedAt: now}
	if _, err := d.Store.PutIntake(recent); err != nil {
		t.Fatal(err)
	}
	recent.Version = 1
	if err := d.Submit(context.Background(), recent); err != nil {
		t.Fatal(err)
	}
	kept, err := ob.List(relay.Filter{MessageID: "new-v1"})
	if err != nil || len(kept) == 0 {
		t.Fatalf("the recent message's entries: %d (%v)", len(kept), err)
	}
	if n, _, err := d.PurgeIntakes(now); err != nil || n != 1 {
		t.Fatalf("purged %d (%v), want the 8-day-old message", n, err)
	}
	if _, err := ob.Purge(now.Add(-30 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	left, err := ob.List(relay.Filter{ClientID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if strings.Contains(e.Message.Text, "山田花子") || strings.Contains(e.Message.Text, "借金") {
			t.Errorf("the message is deleted by intake_retention_days, but outbox entry %s (%s) still holds it: %q", e.ID, e.State, e.Message.Text)
		}
	}
	if len(left) != len(kept) || left[0].Message.ID != "new-v1" {
		t.Fatalf("left %d entries (%v), want the recent message's %d", len(left), left, len(kept))
	}
	// The due index forgot them too (it counts the pending).
	if st, err := ob.Stats(); err != nil || st.Pending != len(kept) || st.Dead != 0 {
		t.Fatalf("outbox after the purge: %+v (%v), want %d pending", st, err, len(kept))
	}
}

// TestRetentionDeletesTheCopiesFirst: the relay copies of a message past
// its retention are deleted before the message. When their deletion
// fails (a full disk), the message is kept, with its copies, and the
// next run deletes both: deleted first, the message was gone and no
// later run found its copies (dead letters holding the caller's words
// for ever).
func TestRetentionDeletesTheCopiesFirst(t *testing.T) {
	for _, tc := range []struct {
		name     string
		versions int
	}{
		{"taken", 1},
		{"corrected", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ob := newDesk(t)
			y := strings.Replace(cfgYAML, "    script: standard\n", "    script: standard\n    intake_retention_days: 7\n", 1)
			cfg, err := config.Parse("test.yaml", []byte(y), nil)
			if err != nil {
				t.Fatal(err)
			}
			d.Config = func() *config.Config { return cfg }
			var fail atomic.Bool
			desk.FailOutboxForgets(d, &fail)
			now := time.Now()
			taken := now.Add(-8 * 24 * time.Hour)
			for range tc.versions {
				in, err := d.Store.PutIntake(store.Intake{ID: "old", ClientID: "acme", OperatorID: "op1001", CallerNumber: "09011112222",
					Values: map[string]string{"name": "山田花子"}, CreatedAt: taken, UpdatedAt: taken})
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Submit(context.Background(), in); err != nil {
					t.Fatal(err)
				}
			}
			copies := func() int {
				t.Helper()
				n := 0
				for v := 1; v <= tc.versions; v++ {
					es, err := ob.List(relay.Filter{MessageID: relay.IntakeMessageID("old", v)})
					if err != nil {
						t.Fatal(err)
					}
					n += len(es)
				}
				return n
			}
			before := copies()
			if before < tc.versions {
				t.Fatalf("%d relay copies, want one a version at least", before)
			}

			fail.Store(true)
			if n, _, err := d.PurgeIntakes(now); err == nil || n != 0 {
				t.Errorf("purge with the outbox failing = %d, %v; want an error, nothing deleted", n, err)
			}
			if _, err := d.Store.Intake("old"); err != nil {
				t.Errorf("the message after a failed purge: %v; want it kept, for the next run", err)
			}
			if n := copies(); n != before {
				t.Errorf("%d relay copies after a failed purge, want %d", n, before)
			}

			fail.Store(false)
			if n, _, err := d.PurgeIntakes(now); err != nil || n != 1 {
				t.Errorf("the next purge = %d, %v; want the message", n, err)
			}
			if _, err := d.Store.Intake("old"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the message after the next purge: %v, want it gone", err)
			}
			if n := copies(); n != 0 {
				t.Fatalf("%d relay copies left past the retention, want none", n)
			}
		})
	}
}
