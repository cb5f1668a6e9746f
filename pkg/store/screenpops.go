package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// bucketScreenPops holds each operator's recent screen pops: operator id →
// the console's JSON of them (opaque here). They let an operator save the
// intake of a call that popped before a restart. The bucket is created by
// the first write; a file without it reads as empty.
var bucketScreenPops = []byte("screen_pops")

// PutScreenPops replaces an operator's kept screen pops. Concurrent
// writers share a commit.
func (s *Store) PutScreenPops(operatorID string, pops []byte) error {
	if operatorID == "" {
		return fmt.Errorf("%w: screen pops need an operator", ErrInvalidRecord)
	}
	v := append([]byte(nil), pops...)
	return s.batch(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketScreenPops)
		if err != nil {
			return fmt.Errorf("store: screen pops bucket: %w", err)
		}
		return b.Put([]byte(operatorID), v)
	})
}

// ScreenPops returns every operator's kept screen pops.
func (s *Store) ScreenPops() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketScreenPops)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: screen pops: %w", err)
	}
	return out, nil
}
