package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestEachCallPagesThroughEveryCall: a sweep reads the calls a page at a
// time and sees each once, also when more calls than a page started at the
// same instant (a page boundary falls among them).
func TestEachCallPagesThroughEveryCall(t *testing.T) {
	st := storetest.Open(t)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var want []string
	const page = 10
	for i := range 2*page + 7 {
		at := t0.Add(time.Duration(i) * time.Second)
		if i >= 3 && i < 3+page+5 {
			at = t0.Add(3 * time.Second) // a crowd at one instant, across a page boundary
		}
		rec := store.CallRecord{ID: fmt.Sprintf("c%04d", i), ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
			Result: store.ResultAbandoned, Reason: "caller hung up", WaitMS: 1000, StartedAt: at, EndedAt: at.Add(time.Minute)}
		if err := st.PutCall(rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec.ID)
	}
	r := &Retention{Store: st, page: page}
	seen := map[string]int{}
	err := r.eachCall(store.CallFilter{ClientID: "acme"}, func(c store.CallRecord) { seen[c.ID]++ })
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Fatalf("call %s seen %d times; %d calls seen in all, want %d each once", id, seen[id], len(seen), len(want))
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d calls seen, want %d", len(seen), len(want))
	}
}
