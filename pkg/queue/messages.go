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

// RingOperator tells the call to ring an operator's phone.
type RingOperator struct {
	message
	OpID, Endpoint string
	Timeout        time.Duration
}

// CancelRing tells the call to stop ringing an operator.
type CancelRing struct {
	message
	OpID, Reason string
}

// Connect tells the call the operator who answered is its operator.
type Connect struct {
	message
	OpID string
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
