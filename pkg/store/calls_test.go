package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

func TestCallRoundTrip(t *testing.T) {
	s := storetest.Open(t)
	want := store.CallRecord{
		ID:         "1732000000.42",
		ClientID:   "acme",
		DID:        "+81312345678",
		CallerID:   "+819012345678",
		CallerKind: "number",
		Result:     store.ResultAnswered,
		Reason:     "operator took the message",
		Billable:   true,
		StartedAt:  base,
		AnsweredAt: base.Add(12 * time.Second),
		EndedAt:    base.Add(3 * time.Minute),
		WaitMS:     12000,
		OperatorID: "op-7",
		Events: []store.CallEvent{
			{At: base, What: "stasis-start"},
			{At: base.Add(12 * time.Second), What: "answered by op-7"},
		},
	}
	mustPut(t, s, want)
	got, err := s.Call(want.ID)
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
	}

	// Zero optional times stay zero.
	minimal := rec("min", "acme", base, store.ResultCompleted, true)
	minimal.EndedAt = time.Time{}
	mustPut(t, s, minimal)
	got, err = s.Call("min")
	if err != nil || !got.AnsweredAt.IsZero() || !got.EndedAt.IsZero() || got.Events != nil {
		t.Fatalf("minimal round trip = %+v, %v", got, err)
	}
}

func TestCallNotFound(t *testing.T) {
	s := storetest.Open(t)
	if _, err := s.Call("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestPutCallRejectsInvalid(t *testing.T) {
	s := storetest.Open(t)
	good := rec("x", "acme", base, store.ResultAnswered, true)
	tests := []struct {
		name   string
		mutate func(*store.CallRecord)
	}{
		{"empty id", func(r *store.CallRecord) { r.ID = "" }},
		{"unknown result", func(r *store.CallRecord) { r.Result = "hung-up" }},
		{"empty result", func(r *store.CallRecord) { r.Result = "" }},
		{"zero start", func(r *store.CallRecord) { r.StartedAt = time.Time{} }},
		{"start out of range", func(r *store.CallRecord) { r.StartedAt = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"NUL in client", func(r *store.CallRecord) { r.ClientID = "a\x00b" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.mutate(&r)
			if err := s.PutCall(r); !errors.Is(err, store.ErrInvalidRecord) {
				t.Fatalf("PutCall = %v, want ErrInvalidRecord", err)
			}
		})
	}
	all, err := s.ListCalls(store.CallFilter{})
	if err != nil || len(all) != 0 {
		t.Fatalf("refused records were stored: %v, %v", ids(all), err)
	}
}

func TestResultValid(t *testing.T) {
	for _, r := range store.Results() {
		if !r.Valid() {
			t.Errorf("%q not valid", r)
		}
	}
	for _, r := range []store.Result{"", "Answered", "missed", "unknown_did"} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
}

func TestListCalls(t *testing.T) {
	s := storetest.Open(t)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	// Inserted out of order on purpose; "b2" and "b1" start at the same time.
	for _, r := range []store.CallRecord{
		rec("c3", "acme", at(30), store.ResultAnswered, true),
		rec("b2", "beta", at(10), store.ResultVoicemail, true),
		rec("a1", "acme", at(0), store.ResultCompleted, true),
		rec("b1", "beta", at(10), store.ResultBlocked, false),
		rec("u1", "", at(20), store.ResultUnknownDID, false),
		rec("old", "acme", time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), store.ResultAnswered, true),
		rec("acme2", "acme2", at(5), store.ResultAnswered, true), // prefix of no other client
	} {
		mustPut(t, s, r)
	}
	tests := []struct {
		name string
		f    store.CallFilter
		want []string
	}{
		{"all", store.CallFilter{}, []string{"old", "a1", "acme2", "b1", "b2", "u1", "c3"}},
		{"client", store.CallFilter{ClientID: "acme"}, []string{"old", "a1", "c3"}},
		{"other client", store.CallFilter{ClientID: "beta"}, []string{"b1", "b2"}},
		{"from inclusive", store.CallFilter{From: at(10)}, []string{"b1", "b2", "u1", "c3"}},
		{"to exclusive", store.CallFilter{To: at(10)}, []string{"old", "a1", "acme2"}},
		{"range", store.CallFilter{From: at(5), To: at(30)}, []string{"acme2", "b1", "b2", "u1"}},
		{"client range", store.CallFilter{ClientID: "acme", From: at(0), To: at(31)}, []string{"a1", "c3"}},
		{"limit", store.CallFilter{Limit: 2}, []string{"old", "a1"}},
		{"client limit", store.CallFilter{ClientID: "beta", Limit: 1}, []string{"b1"}},
		{"from after to", store.CallFilter{From: at(30), To: at(0)}, []string{}},
		{"unknown client", store.CallFilter{ClientID: "gamma"}, []string{}},
		{"NUL client", store.CallFilter{ClientID: "acme\x00"}, []string{}},
		{"far bounds", store.CallFilter{From: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
			[]string{"old", "a1", "acme2", "b1", "b2", "u1", "c3"}},
		{"from beyond range", store.CallFilter{From: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, []string{}},
		{"to before range", store.CallFilter{To: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListCalls(tt.f)
			if err != nil {
				t.Fatalf("ListCalls: %v", err)
			}
			if !equalStrings(ids(got), tt.want) {
				t.Fatalf("ListCalls(%+v) = %v, want %v", tt.f, ids(got), tt.want)
			}
		})
	}
}

func TestUpsertMovesIndexes(t *testing.T) {
	s := storetest.Open(t)
	mustPut(t, s, rec("c1", "acme", base, store.ResultAnswered, true))
	moved := rec("c1", "beta", base.Add(time.Hour), store.ResultAnswered, true)
	mustPut(t, s, moved)
	for _, f := range []store.CallFilter{{}, {ClientID: "beta"}} {
		got, err := s.ListCalls(f)
		if err != nil || len(got) != 1 || !got[0].StartedAt.Equal(moved.StartedAt) || got[0].ClientID != "beta" {
			t.Fatalf("ListCalls(%+v) after move = %+v, %v", f, got, err)
		}
	}
	if got, err := s.ListCalls(store.CallFilter{ClientID: "acme"}); err != nil || len(got) != 0 {
		t.Fatalf("old client still lists %v, %v", ids(got), err)
	}
}

func TestLongIDs(t *testing.T) {
	s := storetest.Open(t)
	id := strings.Repeat("x", 500)
	mustPut(t, s, rec(id, "acme", base, store.ResultAnswered, true))
	got, err := s.ListCalls(store.CallFilter{ClientID: "acme"})
	if err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("ListCalls = %d records, %v", len(got), err)
	}
}

// TestPutCallIfAbsent: a record is stored only if its id is new; the full
// record already there is kept, counters count it once.
func TestPutCallIfAbsent(t *testing.T) {
	s := storetest.Open(t)
	full := rec("1732000000.43", "acme", base, store.ResultAnswered, true)
	full.Reason, full.WaitMS = "talked with op-7; caller hung up", 9000
	stored, err := s.PutCallIfAbsent(full)
	if err != nil || !stored {
		t.Fatalf("first PutCallIfAbsent = %v, %v; want stored", stored, err)
	}
	stub := rec(full.ID, "acme", base, store.ResultAnswered, true)
	stub.Reason = "talked with op-7"
	stored, err = s.PutCallIfAbsent(stub)
	if err != nil || stored {
		t.Fatalf("second PutCallIfAbsent = %v, %v; want not stored", stored, err)
	}
	got, err := s.Call(full.ID)
	if err != nil || got.Reason != full.Reason || got.WaitMS != full.WaitMS {
		t.Fatalf("record after the stub: %+v, %v; want the full one kept", got, err)
	}
	c, err := s.MonthlyCounts("acme", base)
	if err != nil || c.Total != 1 || c.Billable != 1 {
		t.Fatalf("counts %+v, %v; want the call once", c, err)
	}
	if _, err := s.PutCallIfAbsent(store.CallRecord{ID: "x"}); !errors.Is(err, store.ErrInvalidRecord) {
		t.Fatalf("invalid record: %v, want ErrInvalidRecord", err)
	}
}

// TestEachCallPageWalksTheRange: pages of any size list, in order, the
// calls ListCalls lists, each once; for a client and a time range too.
func TestEachCallPageWalksTheRange(t *testing.T) {
	s := storetest.Open(t)
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range 25 {
		client := []string{"acme", "beta"}[i%2]
		// Some calls start at the same instant: ties are ordered by id.
		mustPut(t, s, rec(fmt.Sprintf("c%02d", i), client, at.Add(time.Duration(i/3)*time.Minute), store.ResultAnswered, true))
	}
	for _, f := range []store.CallFilter{{}, {ClientID: "beta"}, {From: at.Add(2 * time.Minute), To: at.Add(6 * time.Minute)}, {From: at.Add(time.Hour)}} {
		want, err := s.ListCalls(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range []int{1, 2, 4, 25, 26} {
			var got []store.CallRecord
			err := s.EachCallPage(f, page, func(p []store.CallRecord) error {
				if len(p) == 0 || len(p) > page {
					t.Errorf("%+v page %d: a page of %d", f, page, len(p))
				}
				got = append(got, p...)
				return nil
			})
			if err != nil || !slices.Equal(ids(got), ids(want)) {
				t.Errorf("%+v page %d: %v (%v), want %v", f, page, ids(got), err, ids(want))
			}
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := s.EachCallPage(store.CallFilter{}, 10, func([]store.CallRecord) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("an error from fn: %v after %d pages, want it at once", err, n)
	}
}
