package console

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestHubCapsStreamsPerOperator: a stream over an operator's cap ends
// their oldest (a half-open one, left by a network change, would hold its
// place for minutes), not the new one; other operators are not touched.
func TestHubCapsStreamsPerOperator(t *testing.T) {
	h := newHub()
	var subs []*subscriber
	for range maxStreamsPerOperator {
		s, err := h.trySubscribe("op1", "sid")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	other, err := h.trySubscribe("op2", "other")
	if err != nil {
		t.Fatalf("another operator is not limited by op1's streams: %v", err)
	}
	for i := range 2 {
		if _, err := h.trySubscribe("op1", "sid"); err != nil {
			t.Fatalf("stream over the cap: %v", err)
		}
		for j, s := range subs {
			select {
			case <-s.gone:
				if j > i {
					t.Fatalf("stream %d ended by the %d-th over the cap: the oldest go first", j, i+1)
				}
			default:
				if j <= i {
					t.Fatalf("stream %d, the oldest, still open after %d over the cap", j, i+1)
				}
			}
		}
		if n := len(h.subs["op1"]); n != maxStreamsPerOperator {
			t.Fatalf("%d streams of op1, want the cap %d", n, maxStreamsPerOperator)
		}
	}
	select {
	case <-other.gone:
		t.Fatal("another operator's stream ended")
	default:
	}
	h.unsubscribe(subs[0]) // ended already: forgetting it again is harmless
	if _, err := h.trySubscribe("op1", "sid"); err != nil {
		t.Fatalf("after one stream closed: %v", err)
	}
	h.close()
	if _, err := h.trySubscribe("op3", "x"); !errors.Is(err, errHubClosed) {
		t.Fatalf("after close: %v, want errHubClosed", err)
	}
}

// TestTrimPopsKeepsCallsWithoutAMessageForADay: beyond an operator's last
// keepPops calls, those with a message saved go (oldest first), those
// without stay until a day old (their message still to write, the call
// to mark), and maxPops bounds them all.
func TestTrimPopsKeepsCallsWithoutAMessageForADay(t *testing.T) {
	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	mk := func(n int, saved bool, age time.Duration) []ScreenPop {
		ps := make([]ScreenPop, n)
		for i := range ps {
			ps[i] = ScreenPop{CallID: fmt.Sprintf("c%d-%v-%v", i, saved, age), At: now.Add(-age)}
			if saved {
				ps[i].Saved = []string{"in-" + ps[i].CallID}
			}
		}
		return ps
	}
	ids := func(ps []ScreenPop) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.CallID)
		}
		return out
	}
	unsaved, oldUnsaved := mk(3, false, 23*time.Hour), mk(2, false, keepPopsFor)
	saved := mk(30, true, time.Hour)
	// Oldest first: a day-old unsaved pair, three unsaved of 23 h, thirty saved.
	got := trimPops(slices.Concat(oldUnsaved, unsaved, saved), now)
	if want := slices.Concat(ids(unsaved), ids(saved[len(saved)-keepPops:])); !slices.Equal(ids(got), want) {
		t.Fatalf("kept %v,\nwant %v", ids(got), want)
	}
	if got := trimPops(saved[:keepPops], now); len(got) != keepPops {
		t.Fatalf("%d of %d kept", len(got), keepPops)
	}
	many := mk(maxPops+15, false, time.Hour)
	if got := trimPops(many, now); !slices.Equal(ids(got), ids(many[15:])) {
		t.Fatalf("kept %d of %d unsaved pops, want the newest %d", len(got), len(many), maxPops)
	}
}
