package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// base is a fixed instant (2026-11-10 10:00 JST) the tests count from.
var base = time.Date(2026, 11, 10, 1, 0, 0, 0, time.UTC)

// rec builds a valid record.
func rec(id, client string, started time.Time, result store.Result, billable bool) store.CallRecord {
	return store.CallRecord{
		ID:         id,
		ClientID:   client,
		DID:        "+81312345678",
		CallerID:   "+819012345678",
		CallerKind: "number",
		Result:     result,
		Billable:   billable,
		StartedAt:  started,
		EndedAt:    started.Add(time.Minute),
	}
}

// mustPut stores r or fails the test.
func mustPut(t testing.TB, s *store.Store, r store.CallRecord) {
	t.Helper()
	if err := s.PutCall(r); err != nil {
		t.Fatalf("PutCall(%s): %v", r.ID, err)
	}
}

// ids returns the ids of records in order.
func ids(rs []store.CallRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// jst is Asia/Tokyo without tzdata.
var jst = time.FixedZone("JST", 9*60*60)

// recount recomputes a client's month from the records themselves, the way
// an auditor would, so counters can be compared with the truth.
func recount(t testing.TB, s *store.Store, client string, month time.Time) store.Counts {
	t.Helper()
	m := month.In(jst)
	from := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, jst)
	all, err := s.ListCalls(store.CallFilter{ClientID: client, From: from, To: from.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatalf("ListCalls: %v", err)
	}
	c := store.Counts{ByResult: map[store.Result]int{}}
	for _, r := range all {
		if r.ClientID != client {
			continue // the empty client lists every client's calls
		}
		c.Total++
		c.ByResult[r.Result]++
		if r.Billable {
			c.Billable++
		} else {
			c.NonBillable++
		}
	}
	return c
}

// sameCounts compares counts, treating absent and zero map entries alike.
func sameCounts(a, b store.Counts) error {
	if a.Total != b.Total || a.Billable != b.Billable || a.NonBillable != b.NonBillable {
		return fmt.Errorf("totals %d/%d/%d vs %d/%d/%d", a.Total, a.Billable, a.NonBillable, b.Total, b.Billable, b.NonBillable)
	}
	for _, r := range store.Results() {
		if a.ByResult[r] != b.ByResult[r] {
			return fmt.Errorf("%s: %d vs %d", r, a.ByResult[r], b.ByResult[r])
		}
	}
	return nil
}
