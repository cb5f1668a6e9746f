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
