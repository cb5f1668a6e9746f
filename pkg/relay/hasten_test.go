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
