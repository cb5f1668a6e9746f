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

// IntakesWhere returns the current version of every intake for which
// match is true. It reads the whole intakes bucket in one read
// transaction: the retention finds the messages due this way, to delete
// their relay copies before them (desk.PurgeIntakes).
func (s *Store) IntakesWhere(match func(Intake) bool) ([]Intake, error) {
	var out []Intake
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
			if match(in) {
				out = append(out, in)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: intakes: %w", err)
	}
	return out, nil
}

// purgeBatch bounds the intakes one purge transaction deletes: the
// writer (call records, messages, relay commits) waits for it.
var purgeBatch = 500

// PurgeIntakes deletes every intake for which due (given its current
// version) is true: the current version, the earlier ones and its entry
// in the caller index. It finds them in a read transaction (no writer
// waits while every message is read) and deletes them in transactions of
// at most purgeBatch, each checking again that the intake is still due
// (it may have been corrected meanwhile). It returns how many it deleted.
// The relay outbox keeps its own copies of what was sent: the caller
// deletes them first (a failure then leaves the intake, found again by
// the next run), desk.PurgeIntakes.
func (s *Store) PurgeIntakes(due func(Intake) bool) (int, error) {
	found, err := s.IntakesWhere(due)
	if err != nil {
		return 0, fmt.Errorf("store: purge intakes: %w", err)
	}
	ids := make([]string, len(found))
	for i, in := range found {
		ids[i] = in.ID // the key of its current version
	}
	total := 0
	for len(ids) > 0 {
		batch := ids[:min(len(ids), purgeBatch)]
		ids = ids[len(batch):]
		n, err := s.purgeIntakes(batch, due)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: purge intakes: %w", err)
		}
	}
	return total, nil
}

// purgeIntakes deletes, in one transaction, those of ids that are still
// due.
func (s *Store) purgeIntakes(ids []string, due func(Intake) bool) (n int, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		n = 0
		cur := tx.Bucket(bucketIntakes)
		vers, byCaller := tx.Bucket(bucketIntakeVersions), tx.Bucket(bucketIntakesCaller)
		for _, id := range ids {
			v := cur.Get([]byte(id))
			if v == nil {
				continue
			}
			in, err := decodeIntake(v)
			if err != nil {
				return err
			}
			if !due(in) {
				continue // corrected since it was found
			}
			if err := cur.Delete([]byte(id)); err != nil {
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
			n++
		}
		return nil
	})
	return n, err
}
