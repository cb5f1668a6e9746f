package relay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// failTimes records n ordinary failures of entry id: after five, its next
// try is two hours away (DefaultBackoff).
func failTimes(t *testing.T, ob *Outbox, id string, n int) Entry {
	t.Helper()
	var e Entry
	for range n {
		var err error
		if e, err = ob.record(id, errors.New("dial tcp: connection refused")); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// TestHastenBringsWaitingEntriesForward: Hasten makes the entries its
// match accepts that wait for a retry due now, keeping their attempts,
// and leaves alone those it does not accept, those due already and the
// dead letters.
func TestHastenBringsWaitingEntriesForward(t *testing.T) {
	tests := []struct {
		name  string
		match func(destination string) bool
		want  []string // the entries due afterwards
	}{
		{"one destination", func(d string) bool { return d == "acme-mail" },
			[]string{"due/acme-mail", "failed/acme-mail"}},
		{"two destinations", func(d string) bool { return d != "" },
			[]string{"due/acme-mail", "failed/acme-mail", "failed/beta-slack"}},
		{"none", func(string) bool { return false },
			[]string{"due/acme-mail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
			for _, m := range []string{"failed", "dead"} {
				if _, err := ob.Enqueue(testMessage(m), []string{"acme-mail", "beta-slack"}); err != nil {
					t.Fatal(err)
				}
			}
			failed := map[string]Entry{}
			for _, id := range []string{"failed/acme-mail", "failed/beta-slack"} {
				if failed[id] = failTimes(t, ob, id, 5); !failed[id].NextAt.Equal(clock.Now().Add(2 * time.Hour)) {
					t.Fatalf("%s next at %v, want in 2 h", id, failed[id].NextAt)
				}
			}
			for _, id := range []string{"dead/acme-mail", "dead/beta-slack"} {
				if _, err := ob.record(id, fmt.Errorf("refused: %w", ErrPermanent)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ob.Enqueue(testMessage("due"), []string{"acme-mail"}); err != nil {
				t.Fatal(err)
			}
			n, err := ob.Hasten(tt.match)
			if err != nil || n != len(tt.want)-1 {
				t.Errorf("Hasten = %d, %v; want %d", n, err, len(tt.want)-1)
			}
			ready, _, err := ob.due(clock.Now(), nil, nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range ready {
				got = append(got, e.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("due now: %v, want %v", got, tt.want)
			}
			for id, before := range failed {
				e, err := ob.Get(id)
				if err != nil {
					t.Fatal(err)
				}
				if e.Attempts != before.Attempts || !e.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("%s: %d attempts, updated %v; want %d, %v as before", id, e.Attempts, e.UpdatedAt, before.Attempts, before.UpdatedAt)
				}
				if hastened := slices.Contains(tt.want, id); !hastened && !e.NextAt.Equal(before.NextAt) {
					t.Errorf("%s next at %v, want %v as before", id, e.NextAt, before.NextAt)
				}
			}
			if st, err := ob.Stats(); err != nil || st.Dead != 2 {
				t.Errorf("Stats = %+v, %v; want the 2 dead letters left dead", st, err)
			}
		})
	}
}

// TestADeliveryBringsForwardItsServersBacklog: the SMTP relay every
// client's mail goes through was down; a message to it failed five times
// and would be tried again in two hours. A new message to it is
// delivered (the relay is back): the old one goes at once, not two hours
// later after the new one, while one waiting for another server (Slack)
// keeps its time.
func TestADeliveryBringsForwardItsServersBacklog(t *testing.T) {
	fake := newFakeClock()
	clock := heldClock{fake} // no wait ever ends: only a delivery brings the old one forward
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("old"), []string{"acme-mail", "gamma-slack"}); err != nil {
		t.Fatal(err)
	}
	failTimes(t, ob, "old/acme-mail", 5)
	slack := failTimes(t, ob, "old/gamma-slack", 5)
	ok := SenderFunc(func(context.Context, Destination, Message) error { return nil })
	on := make(attempts, 8)
	w, err := NewWorker(ob, WorkerOptions{OnAttempt: on.on,
		Destinations: destMap(
			Destination{Name: "acme-mail", Type: TypeEmail, Addr: "mail.example.jp:587"},
			Destination{Name: "beta-mail", Type: TypeEmail, Addr: "MAIL.example.jp:587"},
			Destination{Name: "gamma-slack", Type: TypeSlack, URL: "https://hooks.slack.com/services/T0/B0/x"}),
		Senders: map[string]Sender{TypeEmail: ok, TypeSlack: ok}})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	if _, err := ob.Enqueue(testMessage("new"), []string{"beta-mail"}); err != nil {
		t.Fatal(err)
	}
	var order []string
	for len(order) < 2 {
		e := on.waitFor(t, "the deliveries to the mail server", func(Entry) bool { return true })
		if !delivered(e) {
			t.Fatalf("attempt %+v, want delivered", e)
		}
		order = append(order, e.ID)
	}
	if want := []string{"new/beta-mail", "old/acme-mail"}; !slices.Equal(order, want) {
		t.Errorf("delivered %v, want %v", order, want)
	}
	if e, err := ob.Get("old/gamma-slack"); err != nil || e.State != StatePending || !e.NextAt.Equal(slack.NextAt) {
		t.Errorf("the entry for Slack: %+v, %v; want pending, still next at %v", e, err, slack.NextAt)
	}
	if now := fake.Now(); !now.Equal(slack.UpdatedAt) {
		t.Errorf("the worker's clock moved %v", now.Sub(slack.UpdatedAt))
	}
}

// TestHastenLeavesAThrottledDestinationPaused: a destination answered
// 429 with Retry-After 30 minutes; another destination on the same
// server then takes a message, which brings the refused entry forward.
// The worker still leaves the refused destination alone until the time
// it asked for, then sends it.
func TestHastenLeavesAThrottledDestinationPaused(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)}
	start := clock.Now()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	var mu sync.Mutex
	refused := false
	acmeSent := make(chan time.Time, 4)
	on := make(attempts, 8)
	w, err := NewWorker(ob, WorkerOptions{OnAttempt: on.on,
		Destinations: destMap(
			Destination{Name: "acme-hook", Type: TypeWebhook, URL: "https://hooks.example.jp/acme"},
			Destination{Name: "beta-hook", Type: TypeWebhook, URL: "https://hooks.example.jp/beta"}),
		Senders: map[string]Sender{TypeWebhook: SenderFunc(func(_ context.Context, d Destination, _ Message) error {
			if d.Name != "acme-hook" {
				return nil
			}
			acmeSent <- clock.Now()
			mu.Lock()
			defer mu.Unlock()
			if !refused {
				refused = true
				return tooManyAnswer("1800")
			}
			return nil
		})}})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	if _, err := ob.Enqueue(testMessage("a1"), []string{"acme-hook"}); err != nil {
		t.Fatal(err)
	}
	<-acmeSent
	on.waitFor(t, "the 429", func(e Entry) bool { return e.ID == "a1/acme-hook" && e.Throttled == 1 })
	if _, err := ob.Enqueue(testMessage("b1"), []string{"beta-hook"}); err != nil {
		t.Fatal(err)
	}
	on.waitFor(t, "the delivery to the other destination", func(e Entry) bool { return e.ID == "b1/beta-hook" && delivered(e) })
	if e, err := ob.Get("a1/acme-hook"); err != nil || !e.NextAt.Equal(start) {
		t.Fatalf("the refused entry after the delivery: %+v, %v; want brought forward to now", e, err)
	}
	select {
	case at := <-acmeSent:
		t.Fatalf("the refused destination was sent to %v after its 429, which asked for 30 min", at.Sub(start))
	case <-time.After(200 * time.Millisecond):
	}
	clock.step(30 * time.Minute)
	e := on.waitFor(t, "the delivery after the pause", func(e Entry) bool { return e.ID == "a1/acme-hook" })
	if !delivered(e) || e.UpdatedAt.Sub(start) < 30*time.Minute {
		t.Errorf("after the pause: %+v; want delivered 30 min after the 429", e)
	}
}

// TestHastenedBacklogGoesInTheOrderTaken: the messages brought forward
// at once are all due at the same moment; they go in the order they were
// queued, not in the order of their ids.
func TestHastenedBacklogGoesInTheOrderTaken(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	// The first message's id sorts last.
	for _, m := range []string{"z-first", "m-second", "a-third"} {
		if _, err := ob.Enqueue(testMessage(m), []string{"acme-mail"}); err != nil {
			t.Fatal(err)
		}
		failTimes(t, ob, m+"/acme-mail", 4)
		<-clock.After(time.Minute)
	}
	if n, err := ob.Hasten(func(string) bool { return true }); err != nil || n != 3 {
		t.Fatalf("Hasten = %d, %v; want 3", n, err)
	}
	ready, _, err := ob.due(clock.Now(), nil, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ready {
		got = append(got, e.MessageID)
	}
	if want := []string{"z-first", "m-second", "a-third"}; !slices.Equal(got, want) {
		t.Errorf("due in the order %v, want %v (the order queued)", got, want)
	}
}

// TestAnEntryFailingOnItsOwnKeepsItsBackoff: a message to one client's
// mailbox failed four times (452, mailbox full) and waits 30 minutes for
// its next try. Meanwhile the SMTP relay takes another client's message
// every minute, twenty times. Each delivery brings the waiting message
// forward, up to 16 times; those tries fail and cost nothing: afterwards
// it is still pending, its four failures as they were, its next try 30
// minutes after the last counted one. That try, made when its backoff
// calls for it, counts.
func TestAnEntryFailingOnItsOwnKeepsItsBackoff(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)}
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("full"), []string{"acme-mail"}); err != nil {
		t.Fatal(err)
	}
	own := failTimes(t, ob, "full/acme-mail", 4)
	if want := clock.Now().Add(30 * time.Minute); !own.NextAt.Equal(want) {
		t.Fatalf("after 4 failures next at %v, want %v", own.NextAt, want)
	}
	on := make(attempts, 64)
	w, err := NewWorker(ob, WorkerOptions{OnAttempt: on.on,
		Destinations: destMap(
			Destination{Name: "acme-mail", Type: TypeEmail, Addr: "mail.example.jp:587"},
			Destination{Name: "beta-mail", Type: TypeEmail, Addr: "mail.example.jp:587"}),
		Senders: map[string]Sender{TypeEmail: SenderFunc(func(_ context.Context, d Destination, _ Message) error {
			if d.Name == "acme-mail" {
				return errors.New("smtp: 452 4.2.2 mailbox full")
			}
			return nil
		})}})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	for i := 1; i <= 20; i++ {
		clock.step(time.Minute)
		id := fmt.Sprintf("m%02d", i)
		if _, err := ob.Enqueue(testMessage(id), []string{"beta-mail"}); err != nil {
			t.Fatal(err)
		}
		// The delivery, then (up to the cap) the try it brought forward,
		// reported in either order.
		want := map[string]bool{id + "/beta-mail": true}
		if i <= maxFreeHastens {
			want["full/acme-mail"] = true
		}
		for len(want) > 0 {
			e := on.waitFor(t, fmt.Sprintf("delivery %d and its hastened try", i), func(e Entry) bool { return want[e.ID] })
			delete(want, e.ID)
			switch {
			case e.ID == "full/acme-mail" && e.State != StatePending:
				t.Fatalf("after delivery %d the failing message is %s (%d attempts): %s", i, e.State, e.Attempts, e.LastError)
			case e.ID != "full/acme-mail" && !delivered(e):
				t.Fatalf("delivery %d: %+v", i, e)
			}
		}
	}
	e, err := ob.Get("full/acme-mail")
	if err != nil {
		t.Fatal(err)
	}
	if e.State != StatePending || e.Attempts-e.Throttled-e.Hastened != 4 || e.Hastened != maxFreeHastens ||
		!e.NextAt.Equal(own.NextAt) || !e.HastenedFrom.IsZero() {
		t.Fatalf("after 20 deliveries: %s, %d attempts (%d free), next at %v, hastened from %v; want pending, 4 failures counted, %d free, next at %v",
			e.State, e.Attempts, e.Hastened, e.NextAt, e.HastenedFrom, maxFreeHastens, own.NextAt)
	}
	select {
	case e := <-on:
		t.Fatalf("an attempt after the cap: %+v", e)
	default:
	}
	clock.step(own.NextAt.Sub(clock.Now())) // its backoff's time
	// The worker may have set its timer on the clock before the step:
	// woken, it scans again at the new time.
	stopWaking := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopWaking:
				return
			case <-time.After(20 * time.Millisecond):
				ob.wake()
			}
		}
	}()
	e = on.waitFor(t, "the try its backoff called for", func(e Entry) bool { return e.ID == "full/acme-mail" })
	close(stopWaking)
	if e.State != StatePending || e.Attempts-e.Throttled-e.Hastened != 5 || !e.NextAt.Equal(clock.Now().Add(2*time.Hour)) {
		t.Errorf("the try at its time: %s, %d failures counted, next at %v; want pending, 5, in 2 h",
			e.State, e.Attempts-e.Throttled-e.Hastened, e.NextAt)
	}
}

// TestAHastenedAttempt: how the outcome of an attempt brought forward is
// recorded, for an entry that failed twice (next try in a minute).
func TestAHastenedAttempt(t *testing.T) {
	tests := []struct {
		name      string
		after     time.Duration // from the hasten to the outcome
		err       error
		state     State
		failures  int           // Attempts - Throttled - Hastened
		hastened  int           // free
		nextAfter time.Duration // from the outcome; -1: its time before the hasten
	}{
		{"delivered", 0, nil, StateDelivered, 3, 0, 0},
		{"fails before its time: free, back to its time", time.Second, errors.New("smtp: 452 mailbox full"), StatePending, 2, 1, -1},
		{"fails once its time came: counts", 2 * time.Minute, errors.New("smtp: 452 mailbox full"), StatePending, 3, 0, 5 * time.Minute},
		{"refused as too many for longer than its time: free, waits as asked", 0, tooManyAnswer("600"), StatePending, 2, 1, 10 * time.Minute},
		{"permanent: dead at once", 0, fmt.Errorf("relay: x: %w", ErrPermanent), StateDead, 3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
			if _, err := ob.Enqueue(testMessage("m"), []string{"acme-mail"}); err != nil {
				t.Fatal(err)
			}
			before := failTimes(t, ob, "m/acme-mail", 2)
			if n, err := ob.Hasten(func(string) bool { return true }); err != nil || n != 1 {
				t.Fatalf("Hasten = %d, %v; want 1", n, err)
			}
			// Brought forward again before its attempt: it keeps the
			// time its backoff gave it.
			if n, err := ob.Hasten(func(string) bool { return true }); err != nil || n != 0 {
				t.Fatalf("Hasten again = %d, %v; want 0", n, err)
			}
			if e, err := ob.Get("m/acme-mail"); err != nil || !e.HastenedFrom.Equal(before.NextAt) || !e.NextAt.Equal(clock.Now()) {
				t.Fatalf("hastened: %+v, %v; want due now, hastened from %v", e, err, before.NextAt)
			}
			<-clock.After(tt.after)
			e, err := ob.record("m/acme-mail", tt.err)
			if err != nil {
				t.Fatal(err)
			}
			want := time.Time{}
			switch {
			case tt.nextAfter < 0:
				want = before.NextAt
			case tt.state == StatePending:
				want = clock.Now().Add(tt.nextAfter)
			}
			if e.State != tt.state || e.Attempts-e.Throttled-e.Hastened != tt.failures || e.Hastened != tt.hastened ||
				!e.NextAt.Equal(want) || !e.HastenedFrom.IsZero() {
				t.Errorf("recorded %s, %d counted, %d free, next at %v, hastened from %v; want %s, %d, %d, %v, zero",
					e.State, e.Attempts-e.Throttled-e.Hastened, e.Hastened, e.NextAt, e.HastenedFrom, tt.state, tt.failures, tt.hastened, want)
			}
			if e.Attempts != 3 {
				t.Errorf("%d attempts, want 3 (every try shown)", e.Attempts)
			}
		})
	}
}

// TestFreeHastenedAttemptsAreCapped: deliveries to its server bring a
// failing entry forward at most maxFreeHastens times; a reload changing
// its destination (HastenChanged) still does, and its try is free too.
func TestFreeHastenedAttemptsAreCapped(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("m"), []string{"acme-mail"}); err != nil {
		t.Fatal(err)
	}
	before := failTimes(t, ob, "m/acme-mail", 5) // next try in 2 h
	all := func(string) bool { return true }
	fail := errors.New("smtp: 452 mailbox full")
	for i := 1; i <= maxFreeHastens+4; i++ {
		<-clock.After(time.Second)
		n, err := ob.Hasten(all)
		if err != nil {
			t.Fatal(err)
		}
		if i > maxFreeHastens {
			if n != 0 {
				t.Fatalf("Hasten %d = %d, want 0 past the cap", i, n)
			}
			continue
		}
		if n != 1 {
			t.Fatalf("Hasten %d = %d, want 1", i, n)
		}
		if _, err := ob.record("m/acme-mail", fail); err != nil {
			t.Fatal(err)
		}
	}
	e, err := ob.Get("m/acme-mail")
	if err != nil {
		t.Fatal(err)
	}
	if e.State != StatePending || e.Hastened != maxFreeHastens || e.Attempts != 5+maxFreeHastens || !e.NextAt.Equal(before.NextAt) {
		t.Fatalf("after the cap: %s, %d attempts, %d free, next at %v; want pending, %d, %d, %v",
			e.State, e.Attempts, e.Hastened, e.NextAt, 5+maxFreeHastens, maxFreeHastens, before.NextAt)
	}
	if n, err := ob.HastenChanged(all); err != nil || n != 1 {
		t.Fatalf("HastenChanged = %d, %v; want 1", n, err)
	}
	if e, err = ob.record("m/acme-mail", fail); err != nil {
		t.Fatal(err)
	}
	if e.State != StatePending || e.Attempts-e.Throttled-e.Hastened != 5 || !e.NextAt.Equal(before.NextAt) {
		t.Errorf("after a reload's try failed: %s, %d counted, next at %v; want pending, 5, %v",
			e.State, e.Attempts-e.Throttled-e.Hastened, e.NextAt, before.NextAt)
	}
}
