package relay

import "time"

// Clock is the worker's view of time, injectable so tests run backoff
// instantly.
type Clock interface {
	Now() time.Time
	// After delivers once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
