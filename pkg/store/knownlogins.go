package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketKnownLogins holds, per (client address, operator) key the console
// chooses, when that key last logged in: key → Unix milliseconds
// (decimal). The console spares such addresses the per-operator cap on
// failed logins, across restarts. Created by the first write; a file
// without it reads as empty.
var bucketKnownLogins = []byte("console_known_logins")

// PutKnownLogin records that key logged in at at, and forgets the entries
// older than before.
func (s *Store) PutKnownLogin(key string, at, before time.Time) error {
	if key == "" {
		return fmt.Errorf("%w: known login needs a key", ErrInvalidRecord)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketKnownLogins)
		if err != nil {
			return err
		}
		var old [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			if t, ok := parseMillis(v); !ok || t.Before(before) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return b.Put([]byte(key), fmt.Appendf(nil, "%d", at.UnixMilli()))
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
			if t, ok := parseMillis(v); ok {
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

func parseMillis(v []byte) (time.Time, bool) {
	var ms int64
	if _, err := fmt.Sscanf(string(v), "%d", &ms); err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}
