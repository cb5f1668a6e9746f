package console

import (
	"sync"
	"time"
)

// Login throttling: after maxFailures failed logins for one (IP, user)
// within failureWindow, or maxIPFailures from one IP for any users, or
// maxAccountFailures for one user from any IPs, further attempts get 429
// until the window passes. The last one stops guesses spread over many
// addresses (a botnet) at the cost of letting an attacker keep an
// operator out for a while; an (IP, user) that logged in within knownFor
// is spared it, so an operator logging in from home as usual is not kept
// out. Remembered in memory: after a restart, until the operator has
// logged in once, guessing can make their login wait (their open
// sessions are kept in the store and go on).
const (
	maxFailures        = 5
	maxIPFailures      = 50
	maxAccountFailures = 20
	knownFor           = 30 * 24 * time.Hour
	failureWindow      = 5 * time.Minute
	// maxTracked bounds the limiter's memory; beyond it the oldest entries
	// are forgotten first (expired ones always).
	maxTracked = 10000
)

// limiter counts failed logins per key.
type limiter struct {
	mu  sync.Mutex
	max int
	m   map[string][]time.Time // failure times, oldest first
	// keep, when set, gives the keys a full table never forgets while
	// their failures are recent (the per-operator limiter's: the
	// configured operators, a bounded set): a flood of made-up keys must
	// not push out a real operator's count and so reset their cap.
	keep func() map[string]bool
}

func newLimiter(max int) *limiter { return &limiter{max: max, m: map[string][]time.Time{}} }

// blocked reports whether key has used up its failures at now.
func (l *limiter) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(recent(l.m[key], now)) >= l.max
}

// take reserves one attempt for key at now, counted as a failure until
// give hands it back: checking and counting in one step, so a burst of
// parallel guesses cannot all pass the check while the first is hashed.
func (l *limiter) take(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := recent(l.m[key], now)
	if len(r) >= l.max {
		return false
	}
	if len(l.m) >= maxTracked {
		l.pruneLocked(now)
	}
	l.m[key] = append(r, now)
	return true
}

// give returns an attempt taken at now (the login succeeded).
func (l *limiter) give(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.m[key]
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(now) {
			l.m[key] = append(ts[:i:i], ts[i+1:]...)
			return
		}
	}
}

// fail records a failed login for key at now.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) >= maxTracked {
		l.pruneLocked(now)
	}
	l.m[key] = append(recent(l.m[key], now), now)
}

// succeed forgets key's failures after a good login.
func (l *limiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}

// pruneLocked drops expired entries, then, if still full, the entry whose
// last failure is oldest among those not blocking and not kept: a flood
// of made-up keys (ids that do not exist) must not push out the count of
// a real one. Only when every such entry blocks does the oldest of them
// go.
func (l *limiter) pruneLocked(now time.Time) {
	var kept map[string]bool
	if l.keep != nil {
		kept = l.keep()
	}
	var oldestKey, oldestOpen string
	var oldest, oldestOpenAt time.Time
	for k, ts := range l.m {
		r := recent(ts, now)
		if len(r) == 0 {
			delete(l.m, k)
			continue
		}
		l.m[k] = r
		if kept[k] {
			continue
		}
		last := r[len(r)-1]
		if oldestKey == "" || last.Before(oldest) {
			oldestKey, oldest = k, last
		}
		if len(r) < l.max && (oldestOpen == "" || last.Before(oldestOpenAt)) {
			oldestOpen, oldestOpenAt = k, last
		}
	}
	if len(l.m) >= maxTracked {
		if oldestOpen != "" {
			oldestKey = oldestOpen
		}
		// Only kept keys left: the table grows by one, bounded by them.
		if oldestKey != "" {
			delete(l.m, oldestKey)
		}
	}
}

// recent returns the failures still inside the window at now.
func recent(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= failureWindow {
		i++
	}
	return ts[i:]
}

// knownLogins remembers when each key last logged in successfully.
type knownLogins struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func newKnownLogins() *knownLogins { return &knownLogins{m: map[string]time.Time{}} }

// has reports whether key logged in within knownFor before now.
func (k *knownLogins) has(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	at, ok := k.m[key]
	return ok && now.Sub(at) < knownFor
}

// add records a successful login of key at now. Beyond maxTracked keys the
// expired ones are forgotten, then the one that logged in longest ago.
func (k *knownLogins) add(key string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[key]; !ok && len(k.m) >= maxTracked {
		var oldestKey string
		var oldest time.Time
		for key, at := range k.m {
			if now.Sub(at) >= knownFor {
				delete(k.m, key)
				continue
			}
			if oldestKey == "" || at.Before(oldest) {
				oldestKey, oldest = key, at
			}
		}
		if len(k.m) >= maxTracked {
			delete(k.m, oldestKey)
		}
	}
	k.m[key] = now
}
