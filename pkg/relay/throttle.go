package relay

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A service that answers 429 Too Many Requests (or 503 with a
// Retry-After) asks its clients to slow down. Slack's incoming webhooks
// take about one message a second and answer a burst with 429 and a
// Retry-After; Chatwork's API answers 429 and says in X-RateLimit-Reset
// when its five-minute window opens again. Such an answer is not the
// message's fault: the entry waits as long as the service asked (at most
// maxThrottleWait), the worker holds back the destination's other
// entries meanwhile (for as long as asked, at most maxThrottleWait), and
// the attempt does not count towards dead-lettering while the entry is
// younger than throttleGrace and was refused so fewer than
// maxFreeThrottles times.
const (
	minThrottleWait = time.Second
	maxThrottleWait = time.Hour
	// throttleGrace and maxFreeThrottles: a destination that still
	// refuses after a day, or after a hundred tries of one message (one
	// asking for a second's wait each time), is treated as failing, so
	// that its messages end up in the dead letters a person looks at.
	throttleGrace    = 24 * time.Hour
	maxFreeThrottles = 100
)

// pauseFor is how long the worker holds back a destination that refused
// an attempt as too many, recorded as e: the wait it asked for, else
// e's own wait, at most maxThrottleWait (e's wait may be a failing
// entry's hours of backoff, which are not the destination's).
func pauseFor(err error, e Entry) (until time.Time, ok bool) {
	wait, limited := throttled(err, e.UpdatedAt)
	if !limited || e.State != StatePending {
		return time.Time{}, false
	}
	if wait == 0 {
		wait = min(e.NextAt.Sub(e.UpdatedAt), maxThrottleWait)
	}
	return e.UpdatedAt.Add(wait), true
}

// throttled reports whether err is a service asking to be sent less (a
// 429, or a 503 with a Retry-After), and how long it asked to wait: zero
// when it did not say (the caller picks a wait). A 429 its channel made
// permanent (LINE's monthly limit: no wait helps before the month
// turns) is not.
func throttled(err error, now time.Time) (wait time.Duration, ok bool) {
	var se *StatusError
	if !errors.As(err, &se) || errors.Is(err, ErrPermanent) {
		return 0, false
	}
	switch se.Code {
	case http.StatusTooManyRequests:
	case http.StatusServiceUnavailable:
		if se.Header.Get("Retry-After") == "" {
			return 0, false // a plain outage: the usual backoff
		}
	default:
		return 0, false
	}
	if d, ok := retryAfter(se.Header.Get("Retry-After"), now); ok {
		return d, true
	}
	if d, ok := rateLimitReset(se.Header.Get("X-RateLimit-Reset"), now); ok {
		return d, true
	}
	return 0, true
}

// retryAfter reads a Retry-After header (RFC 9110 10.2.3: seconds, or an
// HTTP date), bounded to [minThrottleWait, maxThrottleWait].
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// Digits beyond uint64 are still a number of seconds: a long one.
		if err != nil || secs > uint64(maxThrottleWait/time.Second) {
			return maxThrottleWait, true
		}
		return clampWait(time.Duration(secs) * time.Second), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return clampWait(at.Sub(now)), true
	}
	return 0, false
}

// rateLimitReset reads an X-RateLimit-Reset header holding the Unix time
// at which the limit resets (Chatwork); a value that is not a time within
// maxThrottleWait from now (some services send seconds to wait there) is
// not used.
func rateLimitReset(v string, now time.Time) (time.Duration, bool) {
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false
	}
	d := time.Unix(secs, 0).Sub(now)
	if d < -time.Minute || d > maxThrottleWait {
		return 0, false
	}
	return clampWait(d), true
}

func clampWait(d time.Duration) time.Duration {
	return min(max(d, minThrottleWait), maxThrottleWait)
}
