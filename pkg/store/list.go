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
	out, _, err := s.listCalls(f, nil)
	return out, err
}

// EachCallPage calls fn with the calls matching f (its Limit aside) in
// ListCalls' order, page records at a time, each page read in a read
// transaction of its own: an export of a year holds one page in memory,
// and a writer that must grow the file waits for one page's read, not for
// the whole export to be sent. A call stored meanwhile may be in a later
// page or not. An error from fn stops it and is returned.
func (s *Store) EachCallPage(f CallFilter, page int, fn func([]CallRecord) error) error {
	if page <= 0 {
		return fmt.Errorf("store: call pages of %d: %w", page, ErrInvalidRecord)
	}
	f.Limit = page
	var after []byte
	for {
		calls, last, err := s.listCalls(f, after)
		if err != nil {
			return err
		}
		if len(calls) > 0 {
			if err := fn(calls); err != nil {
				return err
			}
		}
		if len(calls) < page {
			return nil
		}
		after = last
	}
}

// listCalls is ListCalls starting after the index key after (nil: at
// f.From); it also returns the index key of the last call listed.
func (s *Store) listCalls(f CallFilter, after []byte) ([]CallRecord, []byte, error) {
	if strings.IndexByte(f.ClientID, 0) >= 0 {
		return []CallRecord{}, nil, nil // no stored client id contains NUL
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
			return []CallRecord{}, nil, nil
		}
		start = append(start, tsKey(f.From)...)
	}
	var end []byte // exclusive bound on the timestamp part of the key
	if !f.To.IsZero() && f.To.Before(maxStart) {
		if !f.To.After(minStart) {
			return []CallRecord{}, nil, nil
		}
		end = tsKey(f.To)
	}
	if after != nil {
		start = after
	}

	out := []CallRecord{}
	var last []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		// The key is the file's memory, valid only in the transaction.
		defer func() { last = bytes.Clone(last) }()
		calls := tx.Bucket(bucketCalls)
		c := tx.Bucket(bucket).Cursor()
		k, _ := c.Seek(start)
		if after != nil && bytes.Equal(k, after) {
			k, _ = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
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
			last = k
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: list calls: %w", err)
	}
	return out, last, nil
}
