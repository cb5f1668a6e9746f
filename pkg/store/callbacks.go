package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"

	bolt "go.etcd.io/bbolt"
)

// bucketCallbacks holds callback requests: call id → Callback JSON. It is
// created by the first write; a file without it reads as empty.
var bucketCallbacks = []byte("callbacks")

// bucketCallbacksPending indexes the pending requests (call id → empty):
// every open console lists them every 15 s, and the done ones, kept for
// as long as the retention says (for ever by default), would be read
// each time. Every write of a request keeps it (putCallback); a file of
// schema 1, which had none, gets it in the migration to schema 2
// (indexPendingCallbacks), and no earlier toritsugi writes to a file of
// schema 2 (it refuses it), so it cannot go stale.
var bucketCallbacksPending = []byte("callbacks_pending")

// indexPendingCallbacks makes bucketCallbacksPending again from the
// requests in tx.
func indexPendingCallbacks(tx *bolt.Tx) error {
	if tx.Bucket(bucketCallbacksPending) != nil {
		if err := tx.DeleteBucket(bucketCallbacksPending); err != nil {
			return fmt.Errorf("store: pending callbacks index: %w", err)
		}
	}
	idx, err := tx.CreateBucket(bucketCallbacksPending)
	if err != nil {
		return fmt.Errorf("store: pending callbacks index: %w", err)
	}
	b := tx.Bucket(bucketCallbacks)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		// One that cannot be read is indexed as pending: the list of
		// pending requests fails on it, as it did before the index,
		// rather than the store failing to open (toritsugi not starting).
		var c Callback
		if err := json.Unmarshal(v, &c); err == nil && c.State == CallbackDone {
			return nil
		}
		return idx.Put(k, nil)
	})
}

// putCallback writes c in tx, and its place in the pending index.
func putCallback(tx *bolt.Tx, c Callback) error {
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("store: encode callback: %w", err)
	}
	b, err := tx.CreateBucketIfNotExists(bucketCallbacks)
	if err != nil {
		return fmt.Errorf("store: callbacks bucket: %w", err)
	}
	if err := b.Put([]byte(c.ID), v); err != nil {
		return err
	}
	idx, err := tx.CreateBucketIfNotExists(bucketCallbacksPending)
	if err != nil {
		return fmt.Errorf("store: pending callbacks index: %w", err)
	}
	if c.State == CallbackDone {
		return idx.Delete([]byte(c.ID))
	}
	return idx.Put([]byte(c.ID), nil)
}

// Callback states.
const (
	CallbackPending = "pending"
	CallbackDone    = "done"
)

// Callback is a caller's request to be called back instead of waiting
// (confirmed by DTMF on the number they called from).
type Callback struct {
	// ID is the call's id: one request per call.
	ID          string    `json:"id"`
	ClientID    string    `json:"client_id"`
	Number      string    `json:"number"` // E.164
	RequestedAt time.Time `json:"requested_at"`
	State       string    `json:"state"`
	DoneAt      time.Time `json:"done_at,omitzero"`
	OperatorID  string    `json:"operator_id,omitempty"`
	// ClaimedBy is the operator calling the caller back now
	// (ClaimCallback), since ClaimedAt; a claim older than ClaimFor is
	// anybody's to take.
	ClaimedBy string    `json:"claimed_by,omitempty"`
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
}

// ClaimFor is how long an operator's claim on a callback request keeps
// it from the others: a call back and its note take minutes; one
// forgotten does not block the request for good.
const ClaimFor = 10 * time.Minute

// InJapan is c with its times in Japan time, whatever the machine's zone.
func (c Callback) InJapan() Callback {
	c.RequestedAt, c.DoneAt, c.ClaimedAt = japan.In(c.RequestedAt), japan.In(c.DoneAt), japan.In(c.ClaimedAt)
	return c
}

// Claimed reports whether the request is claimed by someone at now.
func (c Callback) Claimed(now time.Time) bool {
	return c.ClaimedBy != "" && now.Sub(c.ClaimedAt) < ClaimFor
}

// TakenError: another operator claimed the request (By, at At); it is
// ErrTaken.
type TakenError struct {
	ID, By string
	At     time.Time
}

func (e *TakenError) Error() string {
	return fmt.Sprintf("store: callback %s claimed by %s at %s", e.ID, e.By, e.At.Format(time.RFC3339))
}

func (e *TakenError) Unwrap() error { return ErrTaken }

// ClaimCallback records that an operator calls a pending request's
// caller back now, so that the others do not too. A request another
// operator claimed within ClaimFor is ErrTaken; one done, ErrAlreadyDone.
// Claiming one's own again renews it.
func (s *Store) ClaimCallback(id, operatorID string, at time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
		c, err := getCallback(tx, id)
		if err != nil {
			return err
		}
		switch {
		case c.State == CallbackDone:
			return fmt.Errorf("store: callback %s done by %s: %w", id, c.OperatorID, ErrAlreadyDone)
		case c.Claimed(at) && c.ClaimedBy != operatorID:
			return &TakenError{ID: id, By: c.ClaimedBy, At: c.ClaimedAt}
		}
		c.ClaimedBy, c.ClaimedAt = operatorID, at
		return putCallback(tx, c)
	})
}

// PutCallback stores (or replaces) a callback request.
func (s *Store) PutCallback(c Callback) error {
	if c.ID == "" || c.Number == "" {
		return fmt.Errorf("%w: callback needs an id and a number", ErrInvalidRecord)
	}
	if c.State == "" {
		c.State = CallbackPending
	}
	return s.update(func(tx *bolt.Tx) error { return putCallback(tx, c) })
}

// Callback returns the request of call id, or ErrNotFound.
func (s *Store) Callback(id string) (Callback, error) {
	var c Callback
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		c, err = getCallback(tx, id)
		return err
	})
	return c, err
}

// getCallback reads the request of call id in tx, or ErrNotFound.
func getCallback(tx *bolt.Tx, id string) (Callback, error) {
	var v []byte
	if b := tx.Bucket(bucketCallbacks); b != nil {
		v = b.Get([]byte(id))
	}
	if v == nil {
		return Callback{}, fmt.Errorf("store: callback %q: %w", id, ErrNotFound)
	}
	var c Callback
	if err := json.Unmarshal(v, &c); err != nil {
		return Callback{}, fmt.Errorf("%w: callback: %w", ErrCorrupt, err)
	}
	return c, nil
}

// Callbacks lists the requests in a state ("" = all), oldest first. The
// pending ones are read through their index, not among every request.
func (s *Store) Callbacks(state string) ([]Callback, error) {
	var out []Callback
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCallbacks)
		if b == nil {
			return nil
		}
		if idx := tx.Bucket(bucketCallbacksPending); state == CallbackPending && idx != nil {
			return idx.ForEach(func(k, _ []byte) error {
				c, err := getCallback(tx, string(k))
				if err != nil {
					return fmt.Errorf("%w: pending index names %q: %w", ErrCorrupt, k, err)
				}
				if c.State == state {
					out = append(out, c)
				}
				return nil
			})
		}
		return b.ForEach(func(_, v []byte) error {
			var c Callback
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("%w: callback: %w", ErrCorrupt, err)
			}
			if state == "" || c.State == state {
				out = append(out, c)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Callback) int { return a.RequestedAt.Compare(b.RequestedAt) })
	return out, nil
}

// CompleteCallback marks a request done by an operator. A request done
// already is left as it was (who called back, when): ErrAlreadyDone.
func (s *Store) CompleteCallback(id, operatorID string, at time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
		c, err := getCallback(tx, id)
		if err != nil {
			return err
		}
		if c.State == CallbackDone {
			return fmt.Errorf("store: callback %s done by %s at %s: %w", id, c.OperatorID, c.DoneAt.Format(time.RFC3339), ErrAlreadyDone)
		}
		c.State, c.DoneAt, c.OperatorID = CallbackDone, at, operatorID
		return putCallback(tx, c)
	})
}

// PurgeCallbacks deletes the done callback requests for which due is
// true (pending ones are never deleted: someone must still call back).
// It returns how many it deleted.
func (s *Store) PurgeCallbacks(due func(Callback) bool) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket(bucketCallbacks)
		if b == nil {
			return nil
		}
		var err error
		n, err = deleteWhere(b, func(_, v []byte) (bool, error) {
			var c Callback
			if err := json.Unmarshal(v, &c); err != nil {
				return false, fmt.Errorf("%w: callback: %w", ErrCorrupt, err)
			}
			return c.State == CallbackDone && due(c), nil
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge callbacks: %w", err)
	}
	return n, nil
}
