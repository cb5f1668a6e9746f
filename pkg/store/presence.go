package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketPresence holds what each console operator last chose: operator
// id → Presence JSON, kept until they log out. A restart restores it for
// the operators still logged in, so that they are rung again without
// pressing 受付可 anew. The bucket is created by the first write.
var bucketPresence = []byte("operator_presence")

// Presence is a console operator's choice: available, or paused with a
// reason; Wrap, when set, the wrap-up they were in (after it they are
// available, or paused as it says).
type Presence struct {
	Paused bool      `json:"paused,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since"`
	Wrap   *WrapUp   `json:"wrap,omitempty"`
}

// WrapUp is an operator's wrap-up after call CallID of client ClientID
// (acd.WrapUpState).
type WrapUp struct {
	CallID    string    `json:"call"`
	ClientID  string    `json:"client"`
	Until     time.Time `json:"until"`
	Hold      bool      `json:"hold,omitempty"`
	Held      bool      `json:"held,omitempty"`
	HoldUntil time.Time `json:"hold_until,omitzero"`
	Unheld    bool      `json:"unheld,omitempty"`
	Pause     string    `json:"pause,omitempty"`
}

// PutPresence stores operator id's presence, replacing the one before.
func (s *Store) PutPresence(id string, p Presence) error {
	if id == "" || len(id) > bolt.MaxKeySize {
		return fmt.Errorf("%w: presence needs an operator id", ErrInvalidRecord)
	}
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("store: encode presence: %w", err)
	}
	return s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPresence)
		if err != nil {
			return fmt.Errorf("store: presence bucket: %w", err)
		}
		return b.Put([]byte(id), v)
	})
}

// DeletePresence forgets operator id's presence; none is no error.
func (s *Store) DeletePresence(id string) error {
	return s.update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketPresence); b != nil {
			return b.Delete([]byte(id))
		}
		return nil
	})
}

// Presences returns every operator's stored presence. One that does not
// decode is left out and named in the error, with the others returned.
func (s *Store) Presences() (map[string]Presence, error) {
	out := map[string]Presence{}
	var bad []string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPresence)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var p Presence
			if err := json.Unmarshal(v, &p); err != nil {
				bad = append(bad, string(k))
				return nil
			}
			out[string(k)] = p
			return nil
		})
	})
	if err == nil && len(bad) > 0 {
		err = fmt.Errorf("%w: presence of %q does not decode", ErrCorrupt, bad)
	}
	if err != nil {
		return out, fmt.Errorf("store: presences: %w", err)
	}
	return out, nil
}

// Sessions returns every stored console session, expired or not (the
// console decides which are valid). One that does not decode is left out.
func (s *Store) Sessions() ([]Session, error) {
	var out []Session
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var ss Session
			if json.Unmarshal(v, &ss) == nil {
				out = append(out, ss)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: sessions: %w", err)
	}
	return out, nil
}
