package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketSessions holds console login sessions: key → Session JSON. The key
// is chosen by the caller and must not be the session secret itself (the
// console uses the hex SHA-256 of the cookie value), so a copy of the file
// does not let anyone log in. The bucket is created by the first write; a
// file without it reads as empty.
var bucketSessions = []byte("console_sessions")

// Session is a persisted console login.
type Session struct {
	OperatorID string `json:"operator_id"`
	// CSRF is the session's anti-forgery token.
	CSRF     string    `json:"csrf"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	// Credential fingerprints the password hash the operator logged in
	// with: a session ends when the password changes.
	Credential string `json:"credential,omitempty"`
}

// PutSession stores (or replaces) the session under key.
func (s *Store) PutSession(key string, ss Session) error {
	if key == "" || ss.OperatorID == "" {
		return fmt.Errorf("%w: session needs a key and an operator", ErrInvalidRecord)
	}
	v, err := json.Marshal(ss)
	if err != nil {
		return fmt.Errorf("store: encode session: %w", err)
	}
	return s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSessions)
		if err != nil {
			return fmt.Errorf("store: sessions bucket: %w", err)
		}
		return b.Put([]byte(key), v)
	})
}

// TouchSession records that the session under key was used at lastSeen;
// a session no longer stored (logged out meanwhile) stays gone: a use
// racing a logout must not bring it back.
func (s *Store) TouchSession(key string, lastSeen time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(key))
		if v == nil {
			return nil
		}
		var ss Session
		if err := json.Unmarshal(v, &ss); err != nil {
			return fmt.Errorf("%w: session: %w", ErrCorrupt, err)
		}
		if !lastSeen.After(ss.LastSeen) {
			return nil
		}
		ss.LastSeen = lastSeen
		nv, err := json.Marshal(ss)
		if err != nil {
			return fmt.Errorf("store: encode session: %w", err)
		}
		return b.Put([]byte(key), nv)
	})
}

// Session returns the session stored under key (ErrNotFound if none,
// ErrCorrupt if its value does not decode).
func (s *Store) Session(key string) (Session, error) {
	var ss Session
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var v []byte
		if b != nil {
			v = b.Get([]byte(key))
		}
		if v == nil {
			return fmt.Errorf("store: session: %w", ErrNotFound)
		}
		if err := json.Unmarshal(v, &ss); err != nil {
			return fmt.Errorf("%w: session: %w", ErrCorrupt, err)
		}
		return nil
	})
	return ss, err
}

// DeleteSession removes the session under key; a missing one is no error.
func (s *Store) DeleteSession(key string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		if b == nil {
			return nil
		}
		if err := b.Delete([]byte(key)); err != nil {
			return fmt.Errorf("store: delete session: %w", err)
		}
		return nil
	})
}

// SweepSessions deletes, in one transaction, every session for which
// expired returns true, and every session whose value does not decode (it
// could never be used). It returns how many it deleted.
func (s *Store) SweepSessions(expired func(Session) bool) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		if b == nil {
			return nil
		}
		var err error
		n, err = deleteWhere(b, func(_, v []byte) (bool, error) {
			var ss Session
			return json.Unmarshal(v, &ss) != nil || expired(ss), nil
		})
		if err != nil {
			return fmt.Errorf("store: sweep sessions: %w", err)
		}
		return nil
	})
	return n, err
}
