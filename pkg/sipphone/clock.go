package sipphone

import "time"

// Clock supplies the current time; tests may inject a fake one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

func clockOr(c Clock) Clock {
	if c == nil {
		return SystemClock
	}
	return c
}
