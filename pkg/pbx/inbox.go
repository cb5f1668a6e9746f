package pbx

import (
	"sync"

	"github.com/CyCoreSystems/ari/v6"
)

// Inbox is an unbounded, ordered queue of events for one call actor. Push never
// blocks and never drops: the websocket reader must not wait on a slow call,
// and a call must not lose an event (the ari library's own bus drops events
// when a subscriber's buffer is full; this is why we do not use it).
type Inbox struct {
	mu     sync.Mutex
	q      []ari.Event
	closed bool
	ready  chan struct{}
}

// NewInbox returns an empty inbox.
func NewInbox() *Inbox {
	return &Inbox{ready: make(chan struct{}, 1)}
}

// Push appends an event; it is a no-op after Close.
func (b *Inbox) Push(e ari.Event) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.q = append(b.q, e)
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// Ready is signalled (at most one pending signal) when events are waiting.
func (b *Inbox) Ready() <-chan struct{} { return b.ready }

// Drain removes and returns every waiting event, oldest first.
func (b *Inbox) Drain() []ari.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.q
	b.q = nil
	return q
}

// Len reports how many events wait.
func (b *Inbox) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.q)
}

// Close discards waiting events and makes later Push calls no-ops.
func (b *Inbox) Close() {
	b.mu.Lock()
	b.closed = true
	b.q = nil
	b.mu.Unlock()
}
