package console

import (
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestLimiterTakeIsAtomic: a burst of parallel attempts gets exactly max
// through, however they interleave.
func TestLimiterTakeIsAtomic(t *testing.T) {
	l := newLimiter(maxFailures)
	now := time.Unix(1795900000, 0)
	var mu sync.Mutex
	passed := 0
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if l.take("ip\x00op1", now) {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if passed != maxFailures {
		t.Fatalf("%d of 200 parallel attempts passed, want %d", passed, maxFailures)
	}
	l.give("ip\x00op1", now)
	if !l.take("ip\x00op1", now) {
		t.Fatal("an attempt given back was not available again")
	}
	if l.take("ip\x00op1", now.Add(time.Second)) {
		t.Fatal("more attempts than the limit inside the window")
	}
	if !l.take("ip\x00op1", now.Add(failureWindow)) {
		t.Fatal("the window did not pass")
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.5:4321", "", "203.0.113.5"},
		{"203.0.113.5:4321", "198.51.100.7", "203.0.113.5"}, // not our proxy: header ignored
		{"127.0.0.1:4321", "198.51.100.7", "198.51.100.7"},  // the local TLS proxy
		{"127.0.0.1:4321", "10.0.0.1, 198.51.100.7", "198.51.100.7"},
		{"[::1]:4321", "2001:db8::9", "2001:db8::9"},
		{"127.0.0.1:4321", "garbage", "127.0.0.1"},
		{"127.0.0.1:4321", "", "127.0.0.1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/login", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := clientIP(r); got != tt.want {
			t.Errorf("clientIP(%s, XFF %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

// TestLimitAddr: login limits count an IPv6 client by its /64 (addresses
// inside it are free to rotate), an IPv4 client by its address.
func TestLimitAddr(t *testing.T) {
	for _, tt := range []struct{ ip, want string }{
		{"203.0.113.5", "203.0.113.5"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::ffff:203.0.113.5", "::ffff:203.0.113.5"},
		{"not an address", "not an address"},
	} {
		if got := limitAddr(tt.ip); got != tt.want {
			t.Errorf("limitAddr(%s) = %s, want %s", tt.ip, got, tt.want)
		}
	}
}

// TestLimiterKeepsBlockingEntries: the limiter's table is full of keys
// with one failure each (made-up operator ids from many addresses); the
// entry that blocks guesses at a real operator stays, however many more
// keys come: it used to be the oldest, and the first to go.
func TestLimiterKeepsBlockingEntries(t *testing.T) {
	l := newLimiter(maxAccountFailures)
	now := time.Unix(1795900000, 0)
	for range maxAccountFailures {
		if !l.take("op-a", now) {
			t.Fatal("op-a blocked before its limit")
		}
	}
	for i := range maxTracked + 100 {
		l.fail(fmt.Sprintf("made-up-%d", i), now.Add(time.Second))
	}
	if l.take("op-a", now.Add(2*time.Second)) {
		t.Fatal("op-a guessable again inside the window: its blocking entry was pushed out")
	}
	if len(l.m) > maxTracked {
		t.Fatalf("%d keys tracked, want at most %d", len(l.m), maxTracked)
	}
}
