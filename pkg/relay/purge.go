package relay

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Purge deletes delivered entries last updated before cutoff and returns
// how many it removed. Pending and dead entries are kept. A purged
// (message, destination) pair can be enqueued again, so choose a cutoff
// well past any chance of a re-enqueue (e.g. 30 days). The worker scans
// the whole outbox bucket, so purging keeps that scan short.
func (o *Outbox) Purge(cutoff time.Time) (int, error) {
	n := 0
	err := o.db.Update(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketOutbox)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			if e.State == StateDelivered && e.UpdatedAt.Before(cutoff) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("relay: purge before %v: %w", cutoff, err)
	}
	return n, nil
}
