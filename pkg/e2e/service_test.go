//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/controller"
	"github.com/toritsugi/toritsugi/pkg/desk"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/sipphone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// client is one answering-service client of the scenario and the number a
// caller dials for it.
type client struct {
	ID, Name, DID, Dial, From string
	// Record: its calls are recorded (the operators' holds then play its
	// music into the conversation: the scenario checks it).
	Record bool
}

// clients are the scenario's three clients. Dial is the DID as the carrier
// sends it (extensions.conf [from-trunk] passes ${EXTEN} to Stasis); From is
// the caller's number.
var clients = []client{
	{ID: "sakura", Name: "株式会社さくら建設", DID: "03-1234-5678", Dial: "0312345678", From: "09012340001"},
	{ID: "aozora", Name: "あおぞらクリニック", DID: "06-6123-4567", Dial: "0661234567", From: "0312349999"},
	{ID: "hoshino", Name: "星野総合法律事務所", DID: "050-3123-4567", Dial: "05031234567", From: "08055556666", Record: true},
}

// closed is a client of the configuration closed all week (not called
// by the scenario).
var closed = client{ID: "heigyou", Name: "休業中", DID: "03-9999-0000", Dial: "0399990000", From: "09012340002"}

// hookSecret signs the webhook the intake is relayed to.
const hookSecret = "e2e-hook-secret"

// configYAML builds the scenario's configuration: the three clients
// relaying to one signed webhook, and one operator per SIP account serving
// every client. Operators have no console password, so they are available
// as soon as their phone is reachable; wrap-up is off so that they take the
// next call at once.
func configYAML(e env, dataDir, hookURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ari: {url: %q, user: %q, password: %q, app: toritsugi, request_timeout: 5s}\n", e.ARIURL, e.ARIUser, e.ARIPassword)
	fmt.Fprintf(&b, "http: {listen: 127.0.0.1:0}\ndata_dir: %q\nlog_level: debug\n", dataDir)
	b.WriteString("queue: {wrapup: 0s, ring_timeout: 15s, max_wait: 2m}\nclients:\n")
	for _, c := range clients {
		fmt.Fprintf(&b, "  - {id: %s, name: %q, dids: [%q], greeting: \"sound:hello-world\", script: standard, relay: {to: [hook]}, record: %v}\n",
			c.ID, c.Name, c.DID, c.Record)
	}
	// Closed all week, with nothing to say and no voicemail: its callers
	// are refused unanswered (TestClosedClientRefusesUnanswered).
	fmt.Fprintf(&b, "  - {id: %s, name: 休業中, dids: [%q], greeting: \"sound:hello-world\", hours: {weekly: {mon: []}}}\n", closed.ID, closed.DID)
	fmt.Fprintf(&b, "relay:\n  destinations:\n    - {name: hook, type: webhook, url: %q, secret: %s, timeout: 5s}\n", hookURL, hookSecret)
	b.WriteString("operators:\n")
	for _, a := range e.Accounts {
		fmt.Fprintf(&b, "  - {id: %s, name: オペレーター%s, endpoint: PJSIP/%s, clients: [\"*\"]}\n", a.User, strings.TrimPrefix(a.User, "op"), a.User)
	}
	return b.String()
}

// service is toritsugi assembled as `serve` does (cmd/toritsugi/serve.go)
// minus the console and HTTP API: store, relay outbox and worker, desk and
// controller on the real ARI.
type service struct {
	cfg      *config.Config
	store    *store.Store
	core     *controller.Controller
	desk     *desk.Desk
	finished chan store.CallRecord
}

// startService builds and runs the service until the test ends.
func startService(t *testing.T, e env, hookURL string, log *slog.Logger) *service {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "toritsugi.yaml"), []byte(configYAML(e, dir, hookURL)), nil)
	if err != nil {
		t.Fatalf("scenario configuration: %v", err)
	}
	st, err := store.Open(filepath.Join(dir, "toritsugi.db"), store.Options{Timeout: 2 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	current := func() *config.Config { return cfg }
	outbox, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Logger: log.With("part", "relay")})
	if err != nil {
		t.Fatal(err)
	}
	worker, err := relay.NewWorker(outbox, relay.WorkerOptions{Destinations: cfg.Destination, Logger: log.With("part", "relay")})
	if err != nil {
		t.Fatal(err)
	}
	s := &service{cfg: cfg, store: st, finished: make(chan store.CallRecord, 64)}
	s.desk = &desk.Desk{Config: current, Store: st, Outbox: outbox, Logger: log.With("part", "desk")}

	ctx, cancel := context.WithCancel(context.Background())
	s.core, err = controller.New(ctx, controller.Options{
		Config: current, Recorder: st, Store: st, Callbacks: st, Logger: log,
		OnFinished: func(r store.CallRecord) {
			select {
			case s.finished <- r:
			default:
				log.Warn("e2e: finished-call channel full", "call", r.ID)
			}
		},
	})
	if err != nil {
		cancel()
		t.Fatalf("controller: %v", err)
	}
	s.desk.Queue = s.core.Queue
	coreDone, relayDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(coreDone); _ = s.core.Run(ctx) }()
	go func() { defer close(relayDone); _ = worker.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for _, c := range []chan struct{}{coreDone, relayDone} {
			select {
			case <-c:
			case <-time.After(15 * time.Second):
				t.Error("service did not stop within 15s")
			}
		}
	})
	return s
}

// waitUp waits until the ARI link is connected and re-synced. The link
// offers no notification, so it is polled.
func (s *service) waitUp(t *testing.T, within time.Duration) {
	t.Helper()
	poll(t, within, "the ARI link to come up (check TORITSUGI_E2E_ARI_URL/USER/PASSWORD and ari.conf)", func() (bool, string) {
		return s.core.Up(), "link down"
	})
}

// waitOperators waits until every operator is available and its phone
// reachable in the queue.
func (s *service) waitOperators(t *testing.T, within time.Duration) {
	t.Helper()
	poll(t, within, "every operator to be available and reachable", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		snap, err := s.core.Queue.Snapshot(ctx)
		if err != nil {
			return false, err.Error()
		}
		ready := 0
		var states []string
		for _, op := range snap.Operators {
			states = append(states, fmt.Sprintf("%s=%s reachable=%v", op.ID, op.State, op.Reachable))
			if op.State == acd.Available && op.Reachable {
				ready++
			}
		}
		return ready == len(s.cfg.Operators) && ready > 0, strings.Join(states, ", ")
	})
}

// poll checks cond every 100 ms until it holds or within passes, then
// fails with what it was waiting for and cond's last description.
func poll(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, last := cond()
		if ok {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("waited %v for %s; last: %s", within, what, last)
		case <-tick.C:
		}
	}
}

// startOperators registers the operator accounts with Asterisk and answers
// every call after a second of ringing, puts it on hold a second and a
// half later for a second and a half (the hold key), and hangs up after
// five seconds of talk. It returns once every account is registered.
func startOperators(t *testing.T, e env, log *slog.Logger) *sipphone.OperatorPhone {
	t.Helper()
	registered := make(chan sipphone.OperatorEvent, 2*len(e.Accounts))
	ctx, cancel := context.WithCancel(context.Background())
	ph, err := sipphone.NewOperatorPhone(ctx, sipphone.OperatorConfig{
		EndpointConfig: sipphone.EndpointConfig{Listen: net.JoinHostPort(e.LocalIP.String(), "0"), UserAgent: "toritsugi-e2e-operator", Log: log.With("part", "operator-phone")},
		Registrar:      e.SIPAddr, Accounts: e.Accounts,
		AnswerAfter: time.Second, Talk: 5 * time.Second, HoldAfter: 1500 * time.Millisecond, HoldFor: 1500 * time.Millisecond,
		OnEvent: func(ev sipphone.OperatorEvent) {
			log.Debug("operator phone", "user", ev.User, "kind", ev.Kind, "status", ev.Status, "err", ev.Err)
			if ev.Kind == "registered" {
				select {
				case registered <- ev:
				default:
				}
			}
		},
	})
	if err != nil {
		cancel()
		t.Fatalf("operator phone: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- ph.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("operator phone did not stop within 15s")
		}
	})
	timeout := time.After(30 * time.Second)
	for n := 0; n < len(e.Accounts); {
		select {
		case ev := <-registered:
			if ev.Err != nil {
				t.Fatalf("REGISTER %s at %s: %v (check the operator passwords and pjsip.conf endpoint_identifier_order)", ev.User, e.SIPAddr, ev.Err)
			}
			n++
		case err := <-done:
			t.Fatalf("operator phone stopped before registering: %v", err)
		case <-timeout:
			t.Fatalf("operators not registered at %s within 30s", e.SIPAddr)
		}
	}
	return ph
}
