package relay

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// purgeBatch bounds the entries one purge transaction deletes: the
// writers waiting meanwhile (a saved message, a call record, a delivery)
// wait for one batch, not for the whole outbox.
var purgeBatch = 500

// purgeWrote is told of each write transaction Purge commits (a test
// counts them).
var purgeWrote = func(deleted int) {}

// Purge deletes delivered (and discarded) entries last updated before
// cutoff and returns how many it removed. Pending and dead entries are kept. A purged
// (message, destination) pair can be enqueued again, so choose a cutoff
// well past any chance of a re-enqueue (e.g. 30 days). The worker scans
// the whole outbox bucket, so purging keeps that scan short. The entries
// are found in a read transaction and deleted in batches, each checked
// again in its own write transaction.
func (o *Outbox) Purge(cutoff time.Time) (int, error) {
	due := func(v []byte) (bool, error) {
		e, err := decodeEntry(v)
		if err != nil {
			return false, err
		}
		return (e.State == StateDelivered || e.State == StateDiscarded) && e.UpdatedAt.Before(cutoff), nil
	}
	var old [][]byte
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			ok, err := due(v)
			if ok {
				old = append(old, append([]byte(nil), k...))
			}
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("relay: purge before %v: %w", cutoff, err)
	}
	n := 0
	for len(old) > 0 {
		batch := old[:min(purgeBatch, len(old))]
		old = old[len(batch):]
		err := o.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketOutbox)
			for _, k := range batch {
				v := b.Get(k)
				if v == nil {
					continue
				}
				if ok, err := due(v); err != nil || !ok {
					continue // changed since it was read
				}
				if err := b.Delete(k); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("relay: purge before %v: %w", cutoff, err)
		}
		purgeWrote(len(batch))
	}
	return n, nil
}
