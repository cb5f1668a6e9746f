package console

import (
	"errors"
	"testing"
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
