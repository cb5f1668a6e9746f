package pbx

import (
	"math/rand/v2"
	"time"
)

// Backoff computes reconnect delays: exponential from Min, capped at Max, with
// "full jitter" (a uniformly random delay in [d/2, d]) so that many controllers
// restarted together do not hammer Asterisk in lockstep.
type Backoff struct {
	Min, Max time.Duration
	// Rand returns a float in [0,1); nil means math/rand/v2.
	Rand func() float64
}

// Delay returns the delay before reconnect attempt n (n = 1 for the first retry).
func (b Backoff) Delay(n int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	if d > hi {
		d = hi
	}
	r := b.Rand
	if r == nil {
		r = rand.Float64
	}
	half := d / 2
	return half + time.Duration(r()*float64(d-half))
}
