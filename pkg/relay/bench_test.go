package relay

import (
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkListByMessage: the delivery entries of one message (what the
// console shows for an intake and what start-up checks for each recent
// intake and call notice) in an outbox of 30,000 entries, about a month of
// a busy answering service (500 messages a day to two destinations, kept
// 30 days once delivered).
func BenchmarkListByMessage(b *testing.B) {
	ob := newOutbox(b, openDB(b, ""), newFakeClock(), OutboxOptions{})
	const messages = 15000
	fillDelivered(b, ob, messages)
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("i%05d-v1", (i*7919)%messages)
		e, err := ob.List(Filter{MessageID: id})
		if err != nil || len(e) != 2 {
			b.Fatalf("List(%s) = %d entries, %v", id, len(e), err)
		}
	}
}

// BenchmarkDueScan: the worker's look for due entries, done after every
// attempt, in an outbox of 30,000 delivered entries and 20 pending ones.
func BenchmarkDueScan(b *testing.B) {
	clock := newFakeClock()
	ob := newOutbox(b, openDB(b, ""), clock, OutboxOptions{})
	fillDelivered(b, ob, 15000)
	for i := range 20 {
		if _, err := ob.Enqueue(testMessage(fmt.Sprintf("p%02d", i)), []string{"mail"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		ready, _, err := ob.due(clock.Now(), nil, nil, 4)
		if err != nil || len(ready) != 4 {
			b.Fatalf("due = %d, %v", len(ready), err)
		}
	}
}

// BenchmarkDueScanBackedOff: one scan of the due index with 5,000 entries
// waiting for their retry (a destination down) and none due, as the
// worker makes after every attempt.
func BenchmarkDueScanBackedOff(b *testing.B) {
	clock := newFakeClock()
	ob := backedOff(b, clock)
	b.ResetTimer()
	for range b.N {
		ready, _, err := ob.due(clock.Now(), nil, nil, 4)
		if err != nil || len(ready) != 0 {
			b.Fatalf("due = %d, %v", len(ready), err)
		}
	}
}

// BenchmarkStatsBacklog: the outbox's figures for /healthz (which answers
// anyone) with 5,000 entries waiting for their retry.
func BenchmarkStatsBacklog(b *testing.B) {
	ob := backedOff(b, newFakeClock())
	b.ResetTimer()
	for range b.N {
		if st, err := ob.Stats(); err != nil || st.Pending != 5000 {
			b.Fatalf("Stats = %+v, %v", st, err)
		}
	}
}

// backedOff is an outbox with 5,000 entries waiting an hour for their
// retry.
func backedOff(b *testing.B, clock *fakeClock) *Outbox {
	b.Helper()
	ob := newOutbox(b, openDB(b, ""), clock, OutboxOptions{})
	for i := 0; i < 5000; i += 500 {
		err := ob.db.Update(func(tx *bolt.Tx) error {
			for j := i; j < i+500; j++ {
				m := testMessage(fmt.Sprintf("w%05d-v1", j))
				e := Entry{ID: IdempotencyKey(m.ID, "slack"), MessageID: m.ID, Destination: "slack", State: StatePending,
					Attempts: 3, NextAt: clock.Now().Add(time.Hour), EnqueuedAt: clock.Now(), UpdatedAt: clock.Now(), Message: m}
				if err := putEntry(tx, bucketOutbox, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return ob
}

// fillDelivered stores n messages delivered to two destinations each.
func fillDelivered(b *testing.B, ob *Outbox, n int) {
	b.Helper()
	for i := 0; i < n; i += 500 {
		err := ob.db.Update(func(tx *bolt.Tx) error {
			for j := i; j < min(i+500, n); j++ {
				m := testMessage(fmt.Sprintf("i%05d-v1", j))
				for _, d := range []string{"mail", "slack"} {
					e := Entry{ID: IdempotencyKey(m.ID, d), MessageID: m.ID, Destination: d, State: StateDelivered, Message: m}
					if err := putEntry(tx, bucketOutbox, e); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDueScanPausedBacklog: a scan with 1,000 entries due to one
// destination that asked to be left alone (a 429): the worker's pick takes
// none of them, after every attempt anywhere.
func BenchmarkDueScanPausedBacklog(b *testing.B) {
	clock := newFakeClock()
	ob := newOutbox(b, openDB(b, ""), clock, OutboxOptions{})
	for i := range 1000 {
		if _, err := ob.Enqueue(testMessage(fmt.Sprintf("m%05d", i)), []string{"paused"}); err != nil {
			b.Fatal(err)
		}
	}
	none := func(Entry) bool { return false }
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ready, _, err := ob.due(clock.Now(), nil, none, 1)
		if err != nil || len(ready) != 0 {
			b.Fatalf("due = %d, %v", len(ready), err)
		}
	}
}
