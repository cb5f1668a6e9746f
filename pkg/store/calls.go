package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PutCall inserts or replaces the record with r.ID, and forgets the call's
// live state (live.go). Indexes and the monthly counters are updated in
// the same transaction: replacing a record first takes the old version out
// of its month's counts, so counts stay exact whatever the sequence of
// upserts.
//
// Concurrent calls share one commit (bbolt's Batch): PutCall returns once
// its record is durable, after at most batchDelay (10 ms) of waiting for
// company. Batch may run the update twice (alone, after a
// batch-mate failed); that is safe because it reads the old record inside
// its own transaction.
func (s *Store) PutCall(r CallRecord) error {
	if err := r.validate(); err != nil {
		return err
	}
	err := s.write(func(tx *bolt.Tx) error {
		if err := dropLive(tx, r.ID); err != nil {
			return err
		}
		r, val, err := encodeStored(tx, r)
		if err != nil {
			return err
		}
		calls := tx.Bucket(bucketCalls)
		if old := calls.Get([]byte(r.ID)); old != nil {
			if bytes.Equal(old, val) {
				return nil
			}
			prev, err := decodeCall(old)
			if err != nil {
				return err
			}
			if err := unindex(tx, prev); err != nil {
				return err
			}
		}
		if err := calls.Put([]byte(r.ID), val); err != nil {
			return err
		}
		return index(tx, r)
	})
	if err != nil {
		return fmt.Errorf("store: put call %q: %w", r.ID, err)
	}
	return nil
}

// PutCallIfAbsent stores r unless a record with its id exists, and
// reports whether it stored it; either way the call's live state goes. A record pieced together later (a call
// that ended while no controller watched) must not replace the full one
// its own controller may have stored.
func (s *Store) PutCallIfAbsent(r CallRecord) (bool, error) {
	return s.putCallIfNew(r, true)
}

// PutCallIfUnknown stores r only if the store knows nothing of the call:
// no record and no live state (a controller saw the call, and its own
// record, or the one pieced together from that state, is the call's).
// It reports whether it stored r; a live state is kept.
func (s *Store) PutCallIfUnknown(r CallRecord) (bool, error) {
	return s.putCallIfNew(r, false)
}

// putCallIfNew stores r unless a record with its id exists, or its call,
// naming no recording, started before the call record retention's last
// cutoff (its record would have been purged: PurgeCalls). With
// dropState the call's live state goes either way; without it, a live
// state is kept and, like a record, keeps r from being stored.
func (s *Store) putCallIfNew(r CallRecord, dropState bool) (bool, error) {
	if err := r.validate(); err != nil {
		return false, err
	}
	if !dropState && s.livePending(r.ID) {
		// A state saved and not written yet (the disk failed for it and
		// for the call's record, retried meanwhile) keeps r out as one
		// written would.
		return false, nil
	}
	var stored bool
	err := s.write(func(tx *bolt.Tx) error {
		stored = false // Batch may run this again after a batch-mate failed
		if dropState {
			if err := dropLive(tx, r.ID); err != nil {
				return err
			}
		} else if tx.Bucket(bucketLive).Get([]byte(r.ID)) != nil {
			return nil
		}
		calls := tx.Bucket(bucketCalls)
		if calls.Get([]byte(r.ID)) != nil {
			return nil
		}
		if r.Recording == "" && r.StartedAt.Before(purgedBefore(tx)) {
			// Its record was stored, and purged by the retention (a
			// fallback line read again): not stored, counted and
			// relayed a second time. (One naming a recording is kept
			// by the purge a while: stored, the next purge decides.)
			return nil
		}
		r, val, err := encodeStored(tx, r)
		if err != nil {
			return err
		}
		if err := calls.Put([]byte(r.ID), val); err != nil {
			return err
		}
		stored = true
		return index(tx, r)
	})
	if err != nil {
		return false, fmt.Errorf("store: put call %q: %w", r.ID, err)
	}
	return stored, nil
}

// encodeStored is r as it is stored, with the class an operator gave the
// call (applyClass), and its encoding.
func encodeStored(tx *bolt.Tx, r CallRecord) (CallRecord, []byte, error) {
	r, err := applyClass(tx, r)
	if err != nil {
		return r, nil, err
	}
	val, err := json.Marshal(r)
	if err != nil {
		return r, nil, fmt.Errorf("store: encode call %q: %w", r.ID, err)
	}
	return r, val, nil
}

// index adds r to both indexes and to its month's counters.
func index(tx *bolt.Tx, r CallRecord) error {
	if err := sequenceChange(tx, r.ID); err != nil {
		return err
	}
	if err := tx.Bucket(bucketCallsByTime).Put(timeKey(r.StartedAt, r.ID), nil); err != nil {
		return err
	}
	if err := tx.Bucket(bucketCallsByClnt).Put(clientKey(r.ClientID, r.StartedAt, r.ID), nil); err != nil {
		return err
	}
	return addCount(tx, r, +1)
}

// unindex removes r from both indexes and from its month's counters.
func unindex(tx *bolt.Tx, r CallRecord) error {
	if err := dropIndexKeys(tx, r); err != nil {
		return err
	}
	return addCount(tx, r, -1)
}

// dropIndexKeys removes r from both indexes (the counters are left).
func dropIndexKeys(tx *bolt.Tx, r CallRecord) error {
	if err := tx.Bucket(bucketCallsByTime).Delete(timeKey(r.StartedAt, r.ID)); err != nil {
		return err
	}
	return tx.Bucket(bucketCallsByClnt).Delete(clientKey(r.ClientID, r.StartedAt, r.ID))
}

// decodeCall decodes a stored record. json.Unmarshal copies what it keeps,
// so the result outlives the transaction that owns b.
func decodeCall(b []byte) (CallRecord, error) {
	var r CallRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return CallRecord{}, fmt.Errorf("%w: decode call: %w", ErrCorrupt, err)
	}
	return r, nil
}

// Call returns the record with the given id, or an error wrapping
// ErrNotFound.
func (s *Store) Call(id string) (CallRecord, error) {
	var r CallRecord
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		r, err = s.CallIn(tx, id)
		return err
	})
	return r, err
}

// CallIn returns, in tx (a transaction of the store's file: the relay
// outbox's, as it sweeps the notices of calls no longer stored), the
// record with the given id, or an error wrapping ErrNotFound.
func (s *Store) CallIn(tx *bolt.Tx, id string) (CallRecord, error) {
	b := tx.Bucket(bucketCalls).Get([]byte(id))
	if b == nil {
		return CallRecord{}, fmt.Errorf("store: call %q: %w", id, ErrNotFound)
	}
	r, err := decodeCall(b)
	if err != nil {
		return CallRecord{}, fmt.Errorf("store: call %q: %w", id, err)
	}
	return r, nil
}

// write runs a read-write transaction: batched with concurrent writers
// unless the store commits each call alone.
func (s *Store) write(fn func(*bolt.Tx) error) error {
	if s.commitEach {
		return s.update(fn)
	}
	return s.batch(fn)
}
