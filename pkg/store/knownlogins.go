package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketKnownLogins holds, per (client address, operator) key the console
// chooses, when that key last logged in: key → the time as text (RFC
// 3339, as the store's other times). The console spares such addresses the per-operator cap on
// failed logins, across restarts. Created by the first write; a file
// without it reads as empty.
var bucketKnownLogins = []byte("console_known_logins")

// PutKnownLogin records that key logged in at at, and forgets the entries
// older than before.
func (s *Store) PutKnownLogin(key string, at, before time.Time) error {
	if key == "" {
		return fmt.Errorf("%w: known login needs a key", ErrInvalidRecord)
	}
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketKnownLogins)
		if err != nil {
			return err
		}
		if _, err := deleteWhere(b, func(_, v []byte) (bool, error) {
			var t time.Time
			return t.UnmarshalText(v) != nil || t.Before(before), nil
		}); err != nil {
			return err
		}
		v, err := at.MarshalText()
		if err != nil {
			return err
		}
		return b.Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("store: known login: %w", err)
	}
	return nil
}

// KnownLogins returns every recorded key with its last login.
func (s *Store) KnownLogins() (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKnownLogins)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var t time.Time
			if t.UnmarshalText(v) == nil {
				out[string(k)] = t
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: known logins: %w", err)
	}
	return out, nil
}
