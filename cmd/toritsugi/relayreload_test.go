package main

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/relay"
	bolt "go.etcd.io/bbolt"
)

// stillClock tells one time and never lets a wait end: the relay worker
// on it makes each attempt due now once, and no retry.
type stillClock struct{ now time.Time }

func (c stillClock) Now() time.Time                     { return c.now }
func (stillClock) After(time.Duration) <-chan time.Time { return nil }

// TestReloadSendsWhatWaitsForAChangedDestination: a message failed to four
// destinations (a wrong SMTP server, a misspelt name, one named only by
// another client's routes, and a webhook that is down) and waits for its
// retry. A reload puts the first three right: their entries are due at
// once, the fourth keeps its time.
func TestReloadSendsWhatWaitsForAChangedDestination(t *testing.T) {
	clock := stillClock{time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "toritsugi.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ob, err := relay.OpenOutbox(db, relay.OutboxOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	hook := relay.Destination{Name: "gamma-hook", Type: relay.TypeWebhook, URL: "https://crm.example.jp/hook", Secret: "s3cret"}
	old := &config.Config{
		Destinations: []relay.Destination{
			{Name: "acme-mail", Type: relay.TypeEmail, Addr: "mial.example.jp:587", From: "toritsugi@example.jp", To: "desk@acme.example.jp"},
			{Name: "beta-slak", Type: relay.TypeSlack, URL: "https://hooks.slack.com/services/T0/B0/x"},
			{Name: "delta-hook", Type: relay.TypeWebhook, URL: "https://delta.example.jp/hook", Secret: "s3cret"},
			hook,
		},
		Clients: []config.Client{
			{ID: "c-001", RelayTo: []string{"acme-mail", "beta-slack", "gamma-hook"}},
			{ID: "c-002", RelayTo: []string{"delta-hook"}},
		},
	}
	cur := &config.Config{
		Destinations: []relay.Destination{
			{Name: "acme-mail", Type: relay.TypeEmail, Addr: "mail.example.jp:587", From: "toritsugi@example.jp", To: "desk@acme.example.jp"},
			{Name: "beta-slack", Type: relay.TypeSlack, URL: "https://hooks.slack.com/services/T0/B0/x"},
			{Name: "delta-hook", Type: relay.TypeWebhook, URL: "https://delta.example.jp/hook", Secret: "s3cret"},
			hook,
		},
		Clients: []config.Client{
			{ID: "c-001", RelayTo: []string{"acme-mail", "beta-slack", "gamma-hook", "delta-hook"}},
			{ID: "c-002", RelayTo: []string{"delta-hook"}},
		},
	}
	dests := []string{"acme-mail", "beta-slack", "delta-hook", "gamma-hook"}
	waitForRetry(t, ob, old, dests)

	n, err := hastenChangedDestinations(ob, old, cur)
	if err != nil || n != 3 {
		t.Errorf("hastenChangedDestinations = %d, %v; want 3", n, err)
	}
	want := map[string]bool{"acme-mail": true, "beta-slack": true, "delta-hook": true, "gamma-hook": false}
	for _, d := range dests {
		e, err := ob.Get("m-1/" + d)
		if err != nil {
			t.Fatal(err)
		}
		if due := !e.NextAt.After(clock.now); due != want[d] || e.State != relay.StatePending {
			t.Errorf("%s: %s, next at %v (now %v); want due now: %v", d, e.State, e.NextAt, clock.now, want[d])
		}
	}
	if n, err := hastenChangedDestinations(ob, cur, cur); err != nil || n != 0 {
		t.Errorf("a reload that changes nothing: hastened %d, %v; want none", n, err)
	}
}

// waitForRetry queues c-001's message m-1 for dests and lets a worker
// on cfg make one attempt of each, every one failing.
func waitForRetry(t *testing.T, ob *relay.Outbox, cfg *config.Config, dests []string) {
	t.Helper()
	var mu sync.Mutex
	failed := map[string]bool{}
	all := make(chan struct{})
	w, err := relay.NewWorker(ob, relay.WorkerOptions{
		Destinations:     cfg.Destination,
		DestinationUsers: cfg.DestinationUsers,
		Senders: map[string]relay.Sender{
			relay.TypeEmail: relay.SenderFunc(func(context.Context, relay.Destination, relay.Message) error {
				return errors.New("dial tcp: lookup mial.example.jp: no such host")
			}),
			relay.TypeWebhook: relay.SenderFunc(func(context.Context, relay.Destination, relay.Message) error {
				return errors.New("HTTP 502")
			}),
		},
		OnAttempt: func(e relay.Entry) {
			mu.Lock()
			defer mu.Unlock()
			if e.State != relay.StatePending || e.Attempts != 1 {
				t.Errorf("attempt: %+v, want pending after one failure", e)
			}
			if failed[e.Destination] = true; len(failed) == len(dests) {
				close(all)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := relay.Message{ID: "m-1", ClientID: "c-001", Kind: relay.KindIntake, Subject: "【お電話】山田様より", Text: "折返しをお願いします。"}
	if _, err := ob.Enqueue(m, dests); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatal("the attempts were not made")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
