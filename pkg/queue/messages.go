package queue

import (
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// Messages the queue sends to a call's inbox. They implement ari.Event so
// that a call actor reads ARI events and queue decisions from one ordered
// inbox.

// message carries the ari.Event plumbing.
type message struct{ ari.EventData }

// Keys implements ari.Event.
func (message) Keys() ari.Keys { return nil }

// RingOperator tells the call to ring an operator's phone. Ring names
// this ring: the call reports its answer or failure with it, and
// CancelRing and Connect name the ring they are about, so that a leg of
// an earlier ring to the same operator is never taken for this one.
type RingOperator struct {
	message
	OpID, Endpoint string
	Ring           uint64
	Timeout        time.Duration
}

// CancelRing tells the call to stop ring Ring of an operator.
type CancelRing struct {
	message
	OpID   string
	Ring   uint64
	Reason string
}

// Connect tells the call the operator who answered ring Ring is its
// operator.
type Connect struct {
	message
	OpID string
	Ring uint64
}

// Overflow tells the call it waited too long.
type Overflow struct {
	message
	Reason string
}

// Announce tells the call its position and expected wait.
type Announce struct {
	message
	Position     int
	ExpectedWait time.Duration
}

func msg(typ string) message { return message{ari.EventData{Type: typ}} }
