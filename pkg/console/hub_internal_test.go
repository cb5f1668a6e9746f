package console

import (
	"errors"
	"testing"
)

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
	if _, err := h.trySubscribe("op1", "sid"); !errors.Is(err, errTooManyStreams) {
		t.Fatalf("stream over the cap: %v, want errTooManyStreams", err)
	}
	if _, err := h.trySubscribe("op2", "other"); err != nil {
		t.Fatalf("another operator is not limited by op1's streams: %v", err)
	}
	h.unsubscribe(subs[0])
	if _, err := h.trySubscribe("op1", "sid"); err != nil {
		t.Fatalf("after one stream closed: %v", err)
	}
	h.close()
	if _, err := h.trySubscribe("op3", "x"); !errors.Is(err, errHubClosed) {
		t.Fatalf("after close: %v, want errHubClosed", err)
	}
}
