package aritest

import (
	"sync"
	"time"
)

// Clock is the time source of the fake: every delay it simulates (ringing,
// playback length, recording length) is scheduled through it.
type Clock interface {
	// Now returns the current (simulated) time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d of simulated time.
	AfterFunc(d time.Duration, f func()) Stopper
}

// Stopper cancels a scheduled call, as time.Timer.Stop does.
type Stopper interface{ Stop() bool }

type realClock struct{}

// RealClock returns a Clock backed by the time package.
func RealClock() Clock { return realClock{} }

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Stopper { return time.AfterFunc(d, f) }

type scaledClock struct {
	factor float64
	mu     sync.Mutex
	base   time.Time // real time at creation
	start  time.Time // simulated time at creation
}

// ScaledClock returns a Clock on which time runs factor times faster than
// real time: a 1.4 s playback ends after 1.4s/factor of real time. A factor
// <= 0 is treated as 1.
func ScaledClock(factor float64) Clock {
	if factor <= 0 {
		factor = 1
	}
	now := time.Now()
	return &scaledClock{factor: factor, base: now, start: now}
}

func (c *scaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	elapsed := time.Since(c.base)
	return c.start.Add(time.Duration(float64(elapsed) * c.factor))
}

func (c *scaledClock) AfterFunc(d time.Duration, f func()) Stopper {
	return time.AfterFunc(time.Duration(float64(d)/c.factor), f)
}
