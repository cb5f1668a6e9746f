package store

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CallFilter selects calls for ListCalls.
type CallFilter struct {
	// ClientID restricts the result to one client; empty means all clients.
	ClientID string
	// From and To bound StartedAt to [From, To); a zero bound is open.
	From, To time.Time
	// Limit caps the number of records; zero or less means no cap.
	Limit int
}

// ListCalls returns the calls matching f ordered by StartedAt ascending
// (ties by id). It seeks straight to From in the time or client index.
func (s *Store) ListCalls(f CallFilter) ([]CallRecord, error) {
	if strings.IndexByte(f.ClientID, 0) >= 0 {
		return []CallRecord{}, nil // no stored client id contains NUL
	}
	var prefix []byte
	bucket := bucketCallsByTime
	if f.ClientID != "" {
		prefix = clientPrefix(f.ClientID)
		bucket = bucketCallsByClnt
	}
	start := bytes.Clone(prefix)
	if !f.From.IsZero() && f.From.After(minStart) {
		if f.From.After(maxStart) {
			return []CallRecord{}, nil
		}
		start = append(start, tsKey(f.From)...)
	}
	var end []byte // exclusive bound on the timestamp part of the key
	if !f.To.IsZero() && f.To.Before(maxStart) {
		if !f.To.After(minStart) {
			return []CallRecord{}, nil
		}
		end = tsKey(f.To)
	}

	out := []CallRecord{}
	err := s.db.View(func(tx *bolt.Tx) error {
		calls := tx.Bucket(bucketCalls)
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if f.Limit > 0 && len(out) >= f.Limit {
				return nil
			}
			rest := k[len(prefix):]
			if len(rest) <= tsLen {
				return fmt.Errorf("%w: short index key %x", ErrCorrupt, k)
			}
			if end != nil && bytes.Compare(rest[:tsLen], end) >= 0 {
				return nil
			}
			id := rest[tsLen:]
			b := calls.Get(id)
			if b == nil {
				return fmt.Errorf("%w: index names missing call %q", ErrCorrupt, id)
			}
			r, err := decodeCall(b)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list calls: %w", err)
	}
	return out, nil
}
