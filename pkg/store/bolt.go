package store

import bolt "go.etcd.io/bbolt"

// Bolt is the underlying database, for packages that keep their own
// buckets in the same file (the relay outbox). They must not touch the
// store's buckets.
func (s *Store) Bolt() *bolt.DB { return s.db }
