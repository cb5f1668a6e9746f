package store_test

import (
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

func TestMonthlyCountsStayExact(t *testing.T) {
	nov := time.Date(2026, 11, 15, 12, 0, 0, 0, jst)
	dec := time.Date(2026, 12, 15, 12, 0, 0, 0, jst)
	lastNov := time.Date(2026, 11, 30, 14, 59, 59, 0, time.UTC) // 23:59:59 JST
	firstDec := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)  // 00:00 JST
	firstNov := time.Date(2026, 10, 31, 15, 0, 0, 0, time.UTC)  // 00:00 JST

	type want struct {
		client string
		month  time.Time
		counts store.Counts
	}
	counts := func(total, billable int, by map[store.Result]int) store.Counts {
		return store.Counts{Total: total, Billable: billable, NonBillable: total - billable, ByResult: by}
	}
	a := store.ResultAnswered
	tests := []struct {
		name  string
		steps []store.CallRecord
		want  []want
	}{
		{
			name:  "one call",
			steps: []store.CallRecord{rec("c1", "acme", nov, a, true)},
			want:  []want{{"acme", nov, counts(1, 1, map[store.Result]int{a: 1})}},
		},
		{
			name:  "same record twice",
			steps: []store.CallRecord{rec("c1", "acme", nov, a, true), rec("c1", "acme", nov, a, true)},
			want:  []want{{"acme", nov, counts(1, 1, map[store.Result]int{a: 1})}},
		},
		{
			name: "result and billable change",
			steps: []store.CallRecord{
				rec("c1", "acme", nov, a, true),
				rec("c1", "acme", nov, store.ResultBlocked, false),
			},
			want: []want{{"acme", nov, counts(1, 0, map[store.Result]int{store.ResultBlocked: 1})}},
		},
		{
			name: "non-billable becomes billable, other fields change",
			steps: []store.CallRecord{
				rec("c1", "acme", nov, store.ResultAbandoned, false),
				func() store.CallRecord {
					r := rec("c1", "acme", nov, store.ResultAbandoned, true)
					r.Reason = "relayed as missed call"
					return r
				}(),
			},
			want: []want{{"acme", nov, counts(1, 1, map[store.Result]int{store.ResultAbandoned: 1})}},
		},
		{
			name: "start moves across the Tokyo month boundary",
			steps: []store.CallRecord{
				rec("c1", "acme", lastNov, a, true),
				rec("c1", "acme", firstDec, a, true),
			},
			want: []want{
				{"acme", nov, counts(0, 0, map[store.Result]int{})},
				{"acme", dec, counts(1, 1, map[store.Result]int{a: 1})},
			},
		},
		{
			name:  "UTC October evening is Tokyo November",
			steps: []store.CallRecord{rec("c1", "acme", firstNov, a, true)},
			want: []want{
				{"acme", nov, counts(1, 1, map[store.Result]int{a: 1})},
				{"acme", firstNov.Add(-time.Second), counts(0, 0, map[store.Result]int{})},
			},
		},
		{
			name: "client changes",
			steps: []store.CallRecord{
				rec("c1", "acme", nov, a, true),
				rec("c1", "beta", nov, a, true),
			},
			want: []want{
				{"acme", nov, counts(0, 0, map[store.Result]int{})},
				{"beta", nov, counts(1, 1, map[store.Result]int{a: 1})},
			},
		},
		{
			name: "mixed month",
			steps: []store.CallRecord{
				rec("c1", "acme", nov, a, true),
				rec("c2", "acme", nov.Add(time.Hour), store.ResultBlocked, false),
				rec("c3", "acme", nov.Add(2*time.Hour), store.ResultVoicemail, true),
				rec("c4", "acme", nov.Add(3*time.Hour), a, true),
				rec("c2", "acme", nov.Add(time.Hour), store.ResultBlocked, false),
				rec("c4", "acme", nov.Add(3*time.Hour), store.ResultTransferred, true),
				rec("u1", "", nov, store.ResultUnknownDID, false),
			},
			want: []want{
				{"acme", nov, counts(4, 3, map[store.Result]int{a: 1, store.ResultBlocked: 1, store.ResultVoicemail: 1, store.ResultTransferred: 1})},
				{"", nov, counts(1, 0, map[store.Result]int{store.ResultUnknownDID: 1})},
				{"acme", dec, counts(0, 0, map[store.Result]int{})},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storetest.Open(t)
			for _, r := range tt.steps {
				mustPut(t, s, r)
			}
			for _, w := range tt.want {
				got, err := s.MonthlyCounts(w.client, w.month)
				if err != nil {
					t.Fatalf("MonthlyCounts(%q, %v): %v", w.client, w.month, err)
				}
				if got.ByResult == nil {
					t.Fatalf("MonthlyCounts(%q, %v) has nil ByResult", w.client, w.month)
				}
				if err := sameCounts(got, w.counts); err != nil {
					t.Errorf("MonthlyCounts(%q, %v) = %+v: %v", w.client, w.month, got, err)
				}
				if err := sameCounts(got, recount(t, s, w.client, w.month)); err != nil {
					t.Errorf("counters disagree with records for %q %v: %v", w.client, w.month, err)
				}
			}
		})
	}
}

func TestMonthlyCountsRejectsZeroMonth(t *testing.T) {
	s := storetest.Open(t)
	if _, err := s.MonthlyCounts("acme", time.Time{}); err == nil {
		t.Fatal("MonthlyCounts with a zero month succeeded")
	}
}
