package relay

import (
	"bytes"
	"encoding/json"
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
// cutoff, and the unreadable entries set aside before it, and returns how
// many it removed. Pending and dead entries are kept. A purged
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
	aside, err := o.purgeUnreadable(cutoff)
	n += aside
	if err != nil {
		return n, fmt.Errorf("relay: purge before %v: %w", cutoff, err)
	}
	return n, nil
}

// purgeUnreadable deletes the unreadable entries set aside before cutoff
// (OpenOutbox), and returns how many went: kept for an admin to look at,
// not for ever (they may hold a caller's words, which no retention can
// find by their message when the key is damaged too). One whose record
// of being set aside does not decode either is kept (check-db names it).
func (o *Outbox) purgeUnreadable(cutoff time.Time) (int, error) {
	var old [][]byte
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUnreadable).ForEach(func(k, v []byte) error {
			var u unreadable
			if json.Unmarshal(v, &u) == nil && u.SetAside.Before(cutoff) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
	})
	if err != nil || len(old) == 0 {
		return 0, err
	}
	err = o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUnreadable)
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(old), nil
}

// Forget deletes every entry of the messages named, whatever its state
// (pending, delivered, dead or discarded, or set aside unreadable), and
// returns how many went: a
// message deleted with what it was made from (an intake past its
// retention) is not kept, with the caller's words in it, in the outbox's
// copies. In batches of purgeBatch messages, a write transaction each.
func (o *Outbox) Forget(messageIDs []string) (int, error) {
	n := 0
	for len(messageIDs) > 0 {
		batch := messageIDs[:min(purgeBatch, len(messageIDs))]
		messageIDs = messageIDs[len(batch):]
		err := o.db.Update(func(tx *bolt.Tx) error {
			k, err := forgetIn(tx, batch)
			n += k
			return err
		})
		if err != nil {
			return n, fmt.Errorf("relay: forget messages: %w", err)
		}
	}
	return n, nil
}

// ForgetIn is Forget in tx, a write transaction of the outbox's file
// that the caller commits: the store's, as it deletes what the messages
// were made from (a call record past its retention and its notices), so
// that both go, or neither. It returns how many entries went (counted
// only if tx commits). A transaction of another file is ErrInvalid.
func (o *Outbox) ForgetIn(tx *bolt.Tx, messageIDs []string) (int, error) {
	if tx.DB() != o.db || !tx.Writable() {
		return 0, fmt.Errorf("relay: forget messages: not a write transaction of the outbox's file: %w", ErrInvalid)
	}
	n, err := forgetIn(tx, messageIDs)
	if err != nil {
		return n, fmt.Errorf("relay: forget messages: %w", err)
	}
	return n, nil
}

// forgetIn deletes, in tx, every entry of the messages named (and their
// due index keys), and returns how many went.
func forgetIn(tx *bolt.Tx, messageIDs []string) (int, error) {
	n := 0
	due := tx.Bucket(bucketDue)
	for _, name := range [][]byte{bucketOutbox, bucketDead, bucketUnreadable} {
		b := tx.Bucket(name)
		for _, id := range messageIDs {
			prefix := []byte(id + "/")
			var keys [][]byte
			c := b.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				keys = append(keys, append([]byte(nil), k...))
			}
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return n, err
				}
				if due != nil {
					if err := due.Delete(k); err != nil {
						return n, err
					}
				}
				n++
			}
		}
	}
	return n, nil
}
