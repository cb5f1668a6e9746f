package store

import (
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketRetention holds the recording retention's progress: "c:" + a
// sweep's key (a client id, or "" for the calls of clients no longer
// configured) → the cutoff of its last complete sweep (RFC 3339, to the
// nanosecond). Without it the first sweep after every start read every
// call record older than the retention (a year of calls). Created by the
// first write.
var bucketRetention = []byte("retention_swept")

// RetentionSwept returns the cutoffs SetRetentionSwept stored last (empty
// when none).
func (s *Store) RetentionSwept() (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRetention)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			key, ok := strings.CutPrefix(string(k), "c:")
			if !ok {
				return fmt.Errorf("%w: retention key %q", ErrCorrupt, k)
			}
			at, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return fmt.Errorf("%w: retention cutoff of %q: %w", ErrCorrupt, key, err)
			}
			out[key] = at
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: retention cutoffs: %w", err)
	}
	return out, nil
}

// SetRetentionSwept replaces the stored cutoffs with swept.
func (s *Store) SetRetentionSwept(swept map[string]time.Time) error {
	err := s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRetention) != nil {
			if err := tx.DeleteBucket(bucketRetention); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucket(bucketRetention)
		if err != nil {
			return err
		}
		for key, at := range swept {
			if err := b.Put([]byte("c:"+key), []byte(at.UTC().Format(time.RFC3339Nano))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set retention cutoffs: %w", err)
	}
	return nil
}
