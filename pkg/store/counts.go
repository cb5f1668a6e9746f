package store

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Counts are a client's call counts for one Tokyo calendar month, by the
// month of StartedAt.
type Counts struct {
	Total       int
	Billable    int
	NonBillable int
	// ByResult is never nil; results with no calls are absent.
	ByResult map[Result]int
}

// monthCounts is the stored form of Counts.
type monthCounts struct {
	Total    int            `json:"total"`
	Billable int            `json:"billable"`
	ByResult map[Result]int `json:"by_result"`
}

// addCount adds delta (+1 or -1) for r to its client's month. A counter
// that would go negative means the counters and records disagree: the
// transaction is refused with ErrCorrupt rather than hiding it.
func addCount(tx *bolt.Tx, r CallRecord, delta int) error {
	b := tx.Bucket(bucketCounts)
	key := countKey(r.ClientID, r.StartedAt)
	mc, err := decodeCounts(b.Get(key))
	if err != nil {
		return err
	}
	mc.Total += delta
	if r.Billable {
		mc.Billable += delta
	}
	mc.ByResult[r.Result] += delta
	if mc.Total < 0 || mc.Billable < 0 || mc.ByResult[r.Result] < 0 {
		return fmt.Errorf("%w: counters for %q %s would go negative", ErrCorrupt, r.ClientID, monthOf(r.StartedAt))
	}
	if mc.ByResult[r.Result] == 0 {
		delete(mc.ByResult, r.Result)
	}
	if mc.Total == 0 {
		return b.Delete(key)
	}
	val, err := json.Marshal(mc)
	if err != nil {
		return fmt.Errorf("store: encode counts: %w", err)
	}
	return b.Put(key, val)
}

// decodeCounts decodes stored counters; nil means none yet.
func decodeCounts(b []byte) (monthCounts, error) {
	mc := monthCounts{ByResult: map[Result]int{}}
	if b == nil {
		return mc, nil
	}
	if err := json.Unmarshal(b, &mc); err != nil {
		return monthCounts{}, fmt.Errorf("%w: decode counts: %w", ErrCorrupt, err)
	}
	if mc.ByResult == nil {
		mc.ByResult = map[Result]int{}
	}
	return mc, nil
}

// MonthlyCounts returns clientID's counts for the Asia/Tokyo calendar month
// that contains month. Unknown-DID calls are counted under the empty client
// id. A month without calls gives zero Counts, not an error.
func (s *Store) MonthlyCounts(clientID string, month time.Time) (Counts, error) {
	if !inKeyRange(month) {
		return Counts{}, fmt.Errorf("store: monthly counts: month %v out of range: %w", month, ErrInvalidRecord)
	}
	var mc monthCounts
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		mc, err = decodeCounts(tx.Bucket(bucketCounts).Get(countKey(clientID, month)))
		return err
	})
	if err != nil {
		return Counts{}, fmt.Errorf("store: monthly counts %q %s: %w", clientID, monthOf(month), err)
	}
	return Counts{
		Total:       mc.Total,
		Billable:    mc.Billable,
		NonBillable: mc.Total - mc.Billable,
		ByResult:    maps.Clone(mc.ByResult),
	}, nil
}
