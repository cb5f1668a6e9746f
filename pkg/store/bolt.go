package store

import bolt "go.etcd.io/bbolt"

// Bolt is the underlying database, for packages that keep their own
// buckets in the same file (the relay outbox). They must not touch the
// store's buckets.
func (s *Store) Bolt() *bolt.DB { return s.db }

// deleteWhere deletes every entry of b that match reports, and returns how
// many: the keys are gathered first (a bucket must not change while its
// ForEach runs), then deleted. An error from match stops it, deleting
// nothing.
func deleteWhere(b *bolt.Bucket, match func(k, v []byte) (bool, error)) (int, error) {
	var doomed [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		ok, err := match(k, v)
		if ok {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		return err
	}); err != nil {
		return 0, err
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}
