package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// IntakesUpdatedSince returns the current version of every intake updated
// at or after since (start-up checks that each was relayed). It reads the
// whole intakes bucket in one read transaction.
func (s *Store) IntakesUpdatedSince(since time.Time) ([]Intake, error) {
	out := []Intake{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIntakes)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			in, err := decodeIntake(v)
			if err != nil {
				return err
			}
			if !in.UpdatedAt.Before(since) {
				out = append(out, in)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: recent intakes: %w", err)
	}
	return out, nil
}

// purgeBatch bounds the intakes one purge transaction deletes, so that a
// first purge of years of messages does not hold the writer for long.
var purgeBatch = 500

// PurgeIntakes deletes every intake for which due (given its current
// version) is true: the current version, the earlier ones and its entry
// in the caller index, in transactions of at most purgeBatch intakes. It
// returns how many it deleted. The relay outbox keeps its own copy of
// what was sent (delivered entries go after 30 days).
func (s *Store) PurgeIntakes(due func(Intake) bool) (int, error) {
	total := 0
	var from []byte
	for {
		n, next, err := s.purgeIntakes(due, from)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: purge intakes: %w", err)
		}
		if next == nil {
			return total, nil
		}
		from = next
	}
}

// purgeIntakes deletes, in one transaction, at most purgeBatch due
// intakes from key from on; next is the key to go on from (nil: done).
func (s *Store) purgeIntakes(due func(Intake) bool, from []byte) (n int, next []byte, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		n, next = 0, nil
		cur := tx.Bucket(bucketIntakes)
		if cur == nil {
			return nil
		}
		var gone []Intake
		c := cur.Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		for ; k != nil; k, v = c.Next() {
			if len(gone) == purgeBatch {
				next = append([]byte(nil), k...)
				break
			}
			in, err := decodeIntake(v)
			if err != nil {
				return err
			}
			if due(in) {
				gone = append(gone, in)
			}
		}
		vers, byCaller := tx.Bucket(bucketIntakeVersions), tx.Bucket(bucketIntakesCaller)
		for _, in := range gone {
			if err := cur.Delete([]byte(in.ID)); err != nil {
				return err
			}
			if vers != nil {
				for v := 1; v < in.Version; v++ {
					if err := vers.Delete(versionKey(in.ID, v)); err != nil {
						return err
					}
				}
			}
			if byCaller != nil && in.CallerNumber != "" {
				if err := byCaller.Delete(callerKey(in.CallerNumber, in.CreatedAt, in.ID)); err != nil {
					return err
				}
			}
		}
		n = len(gone)
		return nil
	})
	return n, next, err
}
