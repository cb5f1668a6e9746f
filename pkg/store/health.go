package store

import (
	"errors"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrWriteFailed: a commit failed lately (Ping): the disk is full, the
// file cannot grow, or the device fails. Calls' records and states are
// tried again, but none is durable meanwhile.
var ErrWriteFailed = errors.New("store: writes are failing")

// failingFor is how long after a failed commit Ping still reports it,
// whatever commits succeed meanwhile: on a full disk a small commit can
// find room in the file where a call record cannot, and a health check
// must not say ok between the two.
const failingFor = time.Minute

// writeHealth remembers the last commit that failed.
type writeHealth struct {
	mu       sync.Mutex
	failedAt time.Time
	err      error
	lastOK   time.Time // the last commit that succeeded
}

// note records how a commit ended: err is what Update or Batch returned,
// fnErr what the transaction's function returned. A function's own error
// (a record refused, one not found) says nothing of the disk; only a
// commit's does.
func (h *writeHealth) note(now time.Time, err, fnErr error) {
	if err != nil && (errors.Is(err, fnErr) || errors.Is(err, bolterrors.ErrDatabaseNotOpen)) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.failedAt, h.err = now, err
		return
	}
	h.lastOK = now
}

// failing returns the last commit's error while writes are failing, nil
// otherwise.
func (h *writeHealth) failing(now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if writesFailing(h.failedAt, h.lastOK, now) {
		return h.err
	}
	return nil
}

// writesFailing decides from the last failed and the last good commit
// whether writes are failing at now: the last commit failed, or one
// failed less than failingFor ago.
func writesFailing(failedAt, lastOK, now time.Time) bool {
	if failedAt.IsZero() {
		return false
	}
	return !lastOK.After(failedAt) || now.Sub(failedAt) < failingFor
}

// update runs fn in a read-write transaction, as bolt's Update, and
// notes whether its commit failed.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	var fnErr error
	err := s.db.Update(func(tx *bolt.Tx) error { fnErr = fn(tx); return fnErr })
	s.health.note(s.now(), err, fnErr)
	return err
}

// batch runs fn as part of a batch, as bolt's Batch, and notes whether
// its commit failed. (A function that fails in a batch is run again
// alone, and its own error returned.)
func (s *Store) batch(fn func(*bolt.Tx) error) error {
	var fnErr error
	err := s.db.Batch(func(tx *bolt.Tx) error { fnErr = fn(tx); return fnErr })
	s.health.note(s.now(), err, fnErr)
	return err
}
