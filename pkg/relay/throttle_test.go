package relay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestThrottled(t *testing.T) {
	now := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	answer := func(code int, kv ...string) error {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return fmt.Errorf("relay: slack https://hooks.slack.com: %w: rate limited", &StatusError{Code: code, Header: h})
	}
	for _, tc := range []struct {
		name string
		err  error
		wait time.Duration
		ok   bool
	}{
		{"429 with seconds", answer(429, "Retry-After", "30"), 30 * time.Second, true},
		{"429 with a date", answer(429, "Retry-After", now.Add(2*time.Minute).Format(http.TimeFormat)), 2 * time.Minute, true},
		{"429 with a date gone by", answer(429, "Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), time.Second, true},
		{"429 with zero", answer(429, "Retry-After", "0"), time.Second, true},
		{"429 with a day", answer(429, "Retry-After", "86400"), time.Hour, true},
		{"429 with a huge number", answer(429, "Retry-After", "99999999999999999999"), time.Hour, true},
		{"429 with garbage", answer(429, "Retry-After", "soon"), 0, true},
		{"429 with a negative number", answer(429, "Retry-After", "-5"), 0, true},
		{"429 without a hint", answer(429), 0, true},
		{"429 with Chatwork's reset", answer(429, "X-RateLimit-Reset", strconv.FormatInt(now.Add(90*time.Second).Unix(), 10)), 90 * time.Second, true},
		{"429 with a reset of seconds, not a time", answer(429, "X-RateLimit-Reset", "60"), 0, true},
		{"Retry-After wins over the reset", answer(429, "Retry-After", "5", "X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Minute).Unix(), 10)), 5 * time.Second, true},
		{"503 with Retry-After", answer(503, "Retry-After", "120"), 2 * time.Minute, true},
		{"503 without", answer(503), 0, false},
		{"500 with Retry-After", answer(500, "Retry-After", "120"), 0, false},
		{"not an HTTP answer", errors.New("dial tcp: connection refused"), 0, false},
		{"no error", nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wait, ok := throttled(tc.err, now)
			if wait != tc.wait || ok != tc.ok {
				t.Errorf("throttled = %v, %v; want %v, %v", wait, ok, tc.wait, tc.ok)
			}
		})
	}
}

// FuzzRetryAfter: whatever a service sends, the wait read from it is
// within bounds.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"30", "0", "-1", "99999999999999999999", "Wed, 01 Apr 2026 09:32:00 GMT", "soon", " 7 ", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		for _, read := range []func(string, time.Time) (time.Duration, bool){retryAfter, rateLimitReset} {
			if d, ok := read(v, now); ok && (d < minThrottleWait || d > maxThrottleWait) {
				t.Fatalf("%q: wait %v out of [%v, %v]", v, d, minThrottleWait, maxThrottleWait)
			}
		}
	})
}

// TestThrottledAttemptsDoNotDeadLetter: a destination that answers 429
// does not use up a message's attempts for a day; then it does.
func TestThrottledAttemptsDoNotDeadLetter(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{MaxAttempts: 2})
	if _, err := ob.Enqueue(testMessage("m-1"), []string{"slack"}); err != nil {
		t.Fatal(err)
	}
	tooMany := &StatusError{Code: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"45"}}}
	for i := 1; i <= 5; i++ {
		now := clock.Now()
		e, err := ob.record("m-1/slack", fmt.Errorf("relay: slack: %w", tooMany))
		if err != nil {
			t.Fatal(err)
		}
		if e.State != StatePending || e.Attempts != i || e.Throttled != i || !e.NextAt.Equal(now.Add(45*time.Second)) {
			t.Fatalf("after 429 number %d: %s, %d attempts, %d throttled, next in %v; want pending, %d, %d, next in 45s",
				i, e.State, e.Attempts, e.Throttled, e.NextAt.Sub(now), i, i)
		}
		<-clock.After(45 * time.Second)
	}
	// An ordinary failure still has its full backoff and count.
	e, err := ob.record("m-1/slack", errors.New("connection reset"))
	if err != nil {
		t.Fatal(err)
	}
	if e.State != StatePending || !e.NextAt.Equal(clock.Now().Add(DefaultBackoff[0])) {
		t.Fatalf("after a first real failure: %s, next in %v; want pending, next in %v", e.State, e.NextAt.Sub(clock.Now()), DefaultBackoff[0])
	}
	// A day on, a 429 counts: with the failure before it, two of two.
	<-clock.After(throttleGrace)
	if e, err = ob.record("m-1/slack", fmt.Errorf("relay: slack: %w", tooMany)); err != nil {
		t.Fatal(err)
	}
	if e.State != StateDead || e.Throttled != 5 {
		t.Fatalf("a 429 after a day: %s, %d throttled; want dead, 5", e.State, e.Throttled)
	}
	if err := ob.Retry("m-1/slack"); err != nil {
		t.Fatal(err)
	}
	if e, err = ob.Get("m-1/slack"); err != nil || e.Attempts != 0 || e.Throttled != 0 {
		t.Fatalf("retried by hand: %+v, %v; want the counts reset", e, err)
	}
	// Sent again by hand, a day after it was queued: its refusals are
	// free again for a day from the retry.
	for i := 1; i <= 3; i++ {
		if e, err = ob.record("m-1/slack", fmt.Errorf("relay: slack: %w", tooMany)); err != nil {
			t.Fatal(err)
		}
		if e.State != StatePending || e.Throttled != i {
			t.Fatalf("429 number %d after the retry: %s, %d throttled; want pending, %d", i, e.State, e.Throttled, i)
		}
		<-clock.After(45 * time.Second)
	}
}

// rateLimitedHook accepts messages except during the window after a
// refusal: the first request opens a window of `window`, and every
// request within it is answered 429 with the time left as Retry-After,
// as Slack does with a burst.
type rateLimitedHook struct {
	srv    *httptest.Server
	clock  Clock
	window time.Duration

	mu        sync.Mutex
	until     time.Time
	refused   int
	delivered map[string]int
}

func startRateLimitedHook(t *testing.T, clock Clock, window time.Duration) *rateLimitedHook {
	t.Helper()
	h := &rateLimitedHook{clock: clock, window: window, delivered: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := h.clock.Now()
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.until.IsZero() {
			h.until = now.Add(h.window)
		}
		if now.Before(h.until) {
			h.refused++
			w.Header().Set("Retry-After", strconv.Itoa(int(h.until.Sub(now).Round(time.Second)/time.Second)))
			http.Error(w, "rate_limited", http.StatusTooManyRequests)
			return
		}
		h.delivered[r.Header.Get("Idempotency-Key")]++
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// stepClock moves only when the test steps it; After fires once Now
// reaches its deadline.
type stepClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []stepWaiter
}

type stepWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, stepWaiter{c.now.Add(d), ch})
	return ch
}

func (c *stepClock) step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// TestWorkerWaitsAsARateLimitedDestinationAsks: three messages to a
// destination that refuses a burst for two minutes. The worker sends two
// at once (its limit per destination); both are refused; then it holds
// all three back until the time the destination asked for, and each is
// delivered once. Without the Retry-After it went on sending every few
// seconds into the refusal, using up attempts.
func TestWorkerWaitsAsARateLimitedDestinationAsks(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)}
	start := clock.Now()
	hook := startRateLimitedHook(t, clock, 2*time.Minute)
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	on := make(attempts, 16)
	dest := Destination{Name: "hook", Type: TypeWebhook, URL: hook.srv.URL + "/toritsugi", Secret: "s3cret"}
	w := newTestWorker(t, ob, clock, on, dest)
	for _, id := range []string{"m-1", "m-2", "m-3"} {
		if _, err := ob.Enqueue(testMessage(id), []string{"hook"}); err != nil {
			t.Fatal(err)
		}
	}
	stop := runWorker(t, w)
	for range DefaultPerDestination {
		on.waitFor(t, "the burst's refusals", func(e Entry) bool { return e.Throttled == 1 })
	}
	got := map[string]Entry{}
	for deadline := time.Now().Add(10 * time.Second); len(got) < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d of 3 by %v of fake time", len(got), clock.Now().Sub(start))
		}
		clock.step(time.Second)
		for wait := time.After(time.Millisecond); ; {
			select {
			case e := <-on:
				if delivered(e) {
					got[e.ID] = e
				}
				continue
			case <-wait:
			}
			break
		}
	}
	stop()
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if hook.refused != DefaultPerDestination {
		t.Errorf("the destination refused %d requests; want only the %d sent at once before its first answer", hook.refused, DefaultPerDestination)
	}
	for _, id := range []string{"m-1/hook", "m-2/hook", "m-3/hook"} {
		if hook.delivered[id] != 1 {
			t.Errorf("%s delivered %d times, want once", id, hook.delivered[id])
		}
		if e := got[id]; e.Attempts-e.Throttled != 1 {
			t.Errorf("%s: %d attempts, %d of them refused as too many; want one that counts", id, e.Attempts, e.Throttled)
		}
	}
}

func tooManyAnswer(retryAfter string) error {
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return fmt.Errorf("relay: x: %w: rate limited", &StatusError{Code: http.StatusTooManyRequests, Header: h})
}

// failingFor enqueues m-old to destination x and records six ordinary
// failures, so that its backoff is hours long.
func failingFor(t *testing.T, ob *Outbox) {
	t.Helper()
	if _, err := ob.Enqueue(testMessage("m-old"), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	for range 6 {
		if _, err := ob.record("m-old/x", errors.New("connection reset")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAnOldEntrysRefusalPausesItsDestinationAsAsked: a day on, a 429
// counts as a failure and the entry keeps its hours of backoff (and waits
// at least as asked), but its destination is held back only as long as it
// asked, so that a new message to it is not held for hours; and a fresh
// message sent meanwhile goes once that wait is over.
func TestAnOldEntrysRefusalPausesItsDestinationAsAsked(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)}
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	failingFor(t, ob)
	clock.step(throttleGrace + 13*time.Hour) // the old entry is due again
	var mu sync.Mutex
	first := true
	sent := map[string]time.Time{}
	on := make(attempts, 16)
	w, err := NewWorker(ob, WorkerOptions{
		Destinations: destMap(Destination{Name: "x", Type: "x"}), OnAttempt: on.on,
		Senders: map[string]Sender{"x": SenderFunc(func(_ context.Context, _ Destination, m Message) error {
			mu.Lock()
			defer mu.Unlock()
			if first {
				first = false
				return tooManyAnswer("30")
			}
			sent[m.ID] = clock.Now()
			return nil
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	refusedAt := clock.Now()
	runWorker(t, w)
	e := on.waitFor(t, "the 429", func(e Entry) bool { return e.State == StatePending })
	if e.Throttled != 0 || !e.NextAt.Equal(refusedAt.Add(DefaultBackoff[6])) {
		t.Errorf("old entry after a 429: %d throttled, next in %v; want it counted, next in %v", e.Throttled, e.NextAt.Sub(refusedAt), DefaultBackoff[6])
	}
	if _, err := ob.Enqueue(testMessage("m-fresh"), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 120; i++ { // two minutes of fake time, a second at a time
		clock.step(time.Second)
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	at, ok := sent["m-fresh"]
	if !ok {
		t.Fatalf("the fresh message was not sent %v after a 429 that asked for 30 s", clock.Now().Sub(refusedAt))
	}
	if at.Sub(refusedAt) < 30*time.Second {
		t.Errorf("the fresh message went %v after the 429, before the 30 s asked", at.Sub(refusedAt))
	}
}

// TestPauseEndsWhenTheClockIsSetBack: a 429 recorded while the clock ran
// nine hours ahead; NTP then set it back. The destination is not held for
// nine hours.
func TestPauseEndsWhenTheClockIsSetBack(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 4, 1, 18, 30, 0, 0, time.UTC)} // 9 h ahead
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	var mu sync.Mutex
	calls := 0
	on := make(attempts, 16)
	w, err := NewWorker(ob, WorkerOptions{
		Destinations: destMap(Destination{Name: "x", Type: "x"}), OnAttempt: on.on,
		Senders: map[string]Sender{"x": SenderFunc(func(context.Context, Destination, Message) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				return tooManyAnswer("30")
			}
			return nil
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Enqueue(testMessage("m-1"), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	on.waitFor(t, "the 429", func(e Entry) bool { return e.Throttled == 1 })
	clock.step(-9 * time.Hour)
	for range 60 { // an hour after the correction
		clock.step(time.Minute)
		ob.wake() // stands in for the real timer, which fires 30 s on
		time.Sleep(2 * time.Millisecond)
	}
	if e, err := ob.Get("m-1/x"); err != nil || e.State != StateDelivered {
		t.Errorf("an hour after the clock was corrected: %+v, %v; want delivered (the wait asked was 30 s)", e, err)
	}
}

// TestRecordSurvivesCountsOutOfOrder: an entry stored with more refusals
// than attempts (no writer does that) is still recorded, not a panic in
// the backoff table.
func TestRecordSurvivesCountsOutOfOrder(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("m-1"), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	err := ob.db.Update(func(tx *bolt.Tx) error {
		e, err := decodeEntry(tx.Bucket(bucketOutbox).Get([]byte("m-1/x")))
		if err != nil {
			return err
		}
		e.Attempts, e.Throttled = 1, 3
		return putEntry(tx, bucketOutbox, e)
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := ob.record("m-1/x", errors.New("connection reset"))
	if err != nil || e.State != StatePending || !e.NextAt.Equal(clock.Now().Add(DefaultBackoff[0])) {
		t.Errorf("record = %+v, %v; want pending, next in %v", e, err, DefaultBackoff[0])
	}
}

// TestEndlessRefusalsCountAfterAHundred: a destination that asks for a
// second's wait every time is refused a hundred times free, then its
// refusals count and the message ends in the dead letters.
func TestEndlessRefusalsCountAfterAHundred(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{MaxAttempts: 3})
	if _, err := ob.Enqueue(testMessage("m-1"), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	var e Entry
	var err error
	for i := 0; i < maxFreeThrottles+3; i++ {
		if e, err = ob.record("m-1/x", tooManyAnswer("1")); err != nil {
			t.Fatal(err)
		}
		<-clock.After(time.Second)
		if i < maxFreeThrottles+2 && e.State != StatePending {
			t.Fatalf("refusal %d: %s, want pending", i+1, e.State)
		}
	}
	if e.State != StateDead || e.Throttled != maxFreeThrottles || e.Attempts != maxFreeThrottles+3 {
		t.Errorf("after %d refusals: %s, %d throttled, %d attempts; want dead, %d, %d", maxFreeThrottles+3, e.State, e.Throttled, e.Attempts, maxFreeThrottles, maxFreeThrottles+3)
	}
}

// TestLineMonthlyLimitDeadLettersAtOnce: LINE's 429 "You have reached
// your monthly limit." dead-letters the message at its first attempt,
// with LINE's reason as its last error, and does not hold back the
// destination: its other message is tried at once and dead-lettered the
// same way. Taken as a rate limit, the destination was paused and every
// message to it waited (for days, free of the attempts' count) while the
// month's messages stayed used up.
func TestLineMonthlyLimitDeadLettersAtOnce(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"message":"You have reached your monthly limit."}`))
	}))
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	on := make(attempts, 16)
	dest := Destination{Name: "line", Type: TypeLine, URL: srv.URL, To: "U0123456789abcdef0123456789abcdef", Token: "t"}
	for _, id := range []string{"m-1", "m-2"} {
		if _, err := ob.Enqueue(testMessage(id), []string{"line"}); err != nil {
			t.Fatal(err)
		}
	}
	stop := runWorker(t, newTestWorker(t, ob, clock, on, dest))
	first := map[string]Entry{}
	for len(first) < 2 {
		e := on.waitFor(t, "both messages' attempts", func(Entry) bool { return true })
		if _, seen := first[e.ID]; !seen {
			first[e.ID] = e
		}
	}
	stop()
	for id, e := range first {
		if e.State != StateDead || e.Attempts != 1 || e.Throttled != 0 || !strings.Contains(e.LastError, "You have reached your monthly limit.") {
			t.Errorf("%s after its first attempt: %s, %d attempts (%d refused as too many), last error %q; want dead with LINE's reason",
				id, e.State, e.Attempts, e.Throttled, e.LastError)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 2 {
		t.Errorf("LINE was asked %d times, want once for each message", requests)
	}
}
