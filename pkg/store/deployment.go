package store

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Deployment returns the store's deployment id: 8 lower-case hex digits,
// made at random with the file (or at the first open by a version that
// makes them) and kept by its backups. Names that must say which
// deployment made them carry it: the calls' recordings, so that the
// retention deletes only its own among those other toritsugi processes
// (a staging instance, an end-to-end test) made on the same Asterisk.
func (s *Store) Deployment() (string, error) {
	var id string
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyDeployment)
		if !validDeploymentID(string(v)) {
			return fmt.Errorf("%w: deployment id %q", ErrCorrupt, v)
		}
		id = string(v)
		return nil
	})
	return id, err
}

func newDeploymentID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validDeploymentID reports whether id is 8 lower-case hex digits.
func validDeploymentID(id string) bool {
	if len(id) != 8 {
		return false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
