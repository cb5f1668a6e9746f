package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/syncbuf"
	bolt "go.etcd.io/bbolt"
)

// flakyHook is a signed-webhook receiver that fails its first `fail`
// requests with 503 and then accepts, counting deliveries per
// Idempotency-Key.
type flakyHook struct {
	srv       *httptest.Server
	mu        sync.Mutex
	fail      int
	requests  int
	delivered map[string]int
}

func startFlakyHook(t *testing.T, clock Clock, secret string, fail int) *flakyHook {
	t.Helper()
	h := &flakyHook{fail: fail, delivered: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := VerifySignature(secret, r.Header.Get(HeaderTimestamp), body,
			r.Header.Get(HeaderSignature), clock.Now(), time.Hour); err != nil {
			t.Errorf("receiver: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.requests++
		if h.requests <= h.fail {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		h.delivered[r.Header.Get("Idempotency-Key")]++
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *flakyHook) counts() (requests int, delivered map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.delivered {
		out[k] = v
	}
	return h.requests, out
}

func (h *flakyHook) dest() Destination {
	return Destination{Name: "hook", Type: TypeWebhook, URL: h.srv.URL + "/toritsugi", Secret: "s3cret"}
}

func newTestWorker(t *testing.T, ob *Outbox, clock Clock, on attempts, ds ...Destination) *Worker {
	t.Helper()
	w, err := NewWorker(ob, WorkerOptions{Destinations: destMap(ds...), OnAttempt: on.on,
		Senders: Channels(ChannelOptions{Clock: clock})})
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	return w
}

func delivered(e Entry) bool { return e.State == StateDelivered }

func TestWorkerRetriesThenDeliversOnce(t *testing.T) {
	clock := newFakeClock()
	start := clock.Now()
	hook := startFlakyHook(t, clock, "s3cret", 3)
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	on := make(attempts, 16)
	stop := runWorker(t, newTestWorker(t, ob, clock, on, hook.dest()))
	if _, err := ob.Enqueue(testMessage("m-1"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	e := on.waitFor(t, "delivery", delivered)
	stop()
	if e.Attempts != 4 || e.LastError != "" {
		t.Errorf("delivered entry = %+v, want 4 attempts and no error", e)
	}
	if waited := clock.Now().Sub(start); waited < 10*time.Second+time.Minute+5*time.Minute {
		t.Errorf("fake time advanced %v, want at least the 3 backoff steps", waited)
	}
	reqs, got := hook.counts()
	if reqs != 4 || len(got) != 1 || got["m-1/hook"] != 1 {
		t.Errorf("receiver saw %d requests, deliveries %v; want 4 and exactly one", reqs, got)
	}
	if ids, _ := ob.Enqueue(testMessage("m-1"), []string{"hook"}); len(ids) != 0 {
		t.Errorf("re-enqueue after delivery created %v", ids)
	}
}

func TestWorkerSurvivesRestart(t *testing.T) {
	clock := newFakeClock()
	hook := startFlakyHook(t, clock, "s3cret", 1)
	path := t.TempDir() + "/toritsugi.db"

	// First process: one failed attempt, then shut down. Its clock never
	// lets the retry come due, so the shutdown cannot race a second send
	// (a send cut short by shutdown is the documented at-least-once case).
	db1 := openDB(t, path)
	held := heldClock{clock}
	ob1 := newOutbox(t, db1, held, OutboxOptions{})
	on1 := make(attempts, 16)
	stop1 := runWorker(t, newTestWorker(t, ob1, held, on1, hook.dest()))
	if _, err := ob1.Enqueue(testMessage("m-1"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	first := on1.waitFor(t, "first attempt", func(Entry) bool { return true })
	stop1()
	if first.State != StatePending || first.Attempts != 1 {
		t.Fatalf("first attempt = %+v, want pending after one failure", first)
	}
	checkDB(t, db1)
	if err := db1.Close(); err != nil {
		t.Fatal(err)
	}

	// Second process: the retry happens from the file alone.
	db2 := openDB(t, path)
	ob2 := newOutbox(t, db2, clock, OutboxOptions{})
	on2 := make(attempts, 16)
	stop2 := runWorker(t, newTestWorker(t, ob2, clock, on2, hook.dest()))
	e := on2.waitFor(t, "delivery after restart", delivered)
	stop2()
	if e.Attempts != 2 {
		t.Errorf("delivered after %d attempts, want 2", e.Attempts)
	}
	checkDB(t, db2)
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}

	// Third process: nothing is due any more, whatever the time.
	db3 := openDB(t, path)
	ob3 := newOutbox(t, db3, clock, OutboxOptions{})
	due, next, err := ob3.due(clock.Now().Add(365*24*time.Hour), nil, nil, 10)
	if err != nil || len(due) != 0 || !next.IsZero() {
		t.Errorf("due after delivery = %v, next %v, err %v; want nothing", due, next, err)
	}
	if reqs, got := hook.counts(); reqs != 2 || got["m-1/hook"] != 1 {
		t.Errorf("receiver saw %d requests, deliveries %v; want 2 and exactly one", reqs, got)
	}
}

func TestWorkerDeadLettersThenRetry(t *testing.T) {
	clock := newFakeClock()
	hook := startFlakyHook(t, clock, "s3cret", DefaultMaxAttempts)
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	on := make(attempts, 32)
	stop := runWorker(t, newTestWorker(t, ob, clock, on, hook.dest()))
	if _, err := ob.Enqueue(testMessage("m-1"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	dead := on.waitFor(t, "dead letter", func(e Entry) bool { return e.State == StateDead })
	if dead.Attempts != DefaultMaxAttempts || !strings.Contains(dead.LastError, "HTTP 503") {
		t.Errorf("dead entry = %+v, want %d attempts and the last HTTP error", dead, DefaultMaxAttempts)
	}
	listed, err := ob.List(Filter{State: StateDead})
	if err != nil || len(listed) != 1 || listed[0].ID != "m-1/hook" {
		t.Fatalf("List(dead) = %+v, %v", listed, err)
	}
	if reqs, got := hook.counts(); reqs != DefaultMaxAttempts || len(got) != 0 {
		t.Errorf("receiver saw %d requests, deliveries %v", reqs, got)
	}
	if err := ob.Retry("m-1/hook"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	e := on.waitFor(t, "delivery after Retry", delivered)
	stop()
	if e.Attempts != 1 {
		t.Errorf("attempts after Retry = %d, want 1", e.Attempts)
	}
	if _, got := hook.counts(); got["m-1/hook"] != 1 {
		t.Errorf("deliveries %v, want exactly one", got)
	}
}

func TestWorkerUnknownDestinationRetries(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{MaxAttempts: 2})
	on := make(attempts, 8)
	runWorker(t, newTestWorker(t, ob, clock, on))
	if _, err := ob.Enqueue(testMessage("m"), []string{"gone"}); err != nil {
		t.Fatal(err)
	}
	e := on.waitFor(t, "dead letter", func(e Entry) bool { return e.State == StateDead })
	if e.Attempts != 2 || !strings.Contains(e.LastError, ErrUnknownDestination.Error()) {
		t.Errorf("entry = %+v, want dead after 2 attempts with unknown destination", e)
	}
}

func TestWorkerConcurrencyLimit(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	var mu sync.Mutex
	active, peak := 0, 0
	started := make(chan struct{}, 16)
	release := make(chan struct{})
	send := SenderFunc(func(ctx context.Context, d Destination, m Message) error {
		mu.Lock()
		active++
		peak = max(peak, active)
		mu.Unlock()
		started <- struct{}{}
		<-release
		mu.Lock()
		active--
		mu.Unlock()
		return nil
	})
	on := make(attempts, 16)
	w, err := NewWorker(ob, WorkerOptions{Concurrency: 4, PerDestination: 4, OnAttempt: on.on,
		Destinations: destMap(Destination{Name: "x", Type: "fake"}),
		Senders:      map[string]Sender{"fake": send}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		if _, err := ob.Enqueue(testMessage(id), []string{"x"}); err != nil {
			t.Fatal(err)
		}
	}
	stop := runWorker(t, w)
	for range 4 {
		<-started
	}
	close(release)
	for range 10 {
		on.waitFor(t, "delivery", delivered)
	}
	stop()
	if peak != 4 {
		t.Errorf("peak concurrency = %d, want 4", peak)
	}
}

// cutByStop runs a worker with no shutdown grace on one message whose send
// lasts until the stop cuts it, then returns err; it returns the entry
// after the stop.
func cutByStop(t *testing.T, err error) Entry {
	t.Helper()
	ob := newOutbox(t, openDB(t, ""), newFakeClock(), OutboxOptions{})
	started := make(chan struct{})
	send := SenderFunc(func(ctx context.Context, _ Destination, _ Message) error {
		close(started)
		<-ctx.Done()
		if err == nil {
			return ctx.Err()
		}
		return err
	})
	w, werr := NewWorker(ob, WorkerOptions{Destinations: destMap(Destination{Name: "x", Type: "fake"}),
		Senders: map[string]Sender{"fake": send}, ShutdownGrace: -1})
	if werr != nil {
		t.Fatal(werr)
	}
	if _, err := ob.Enqueue(testMessage("m"), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	stop := runWorker(t, w)
	<-started
	stop()
	e, gerr := ob.Get("m/x")
	if gerr != nil {
		t.Fatal(gerr)
	}
	return e
}

func TestWorkerShutdownDoesNotCountInterruptedAttempt(t *testing.T) {
	if e := cutByStop(t, nil); e.State != StatePending || e.Attempts != 0 {
		t.Errorf("after shutdown: %+v; want pending with no attempt counted", e)
	}
}

// TestWorkerShutdownLetsSendsFinish: a send in flight when the worker is
// told to stop goes on (within the grace) and is recorded delivered, so
// that the next start does not send a second copy.
func TestWorkerShutdownLetsSendsFinish(t *testing.T) {
	ob := newOutbox(t, openDB(t, ""), newFakeClock(), OutboxOptions{})
	started, release := make(chan struct{}), make(chan struct{})
	send := SenderFunc(func(ctx context.Context, d Destination, m Message) error {
		close(started)
		<-release // after the worker was told to stop
		return ctx.Err()
	})
	w, err := NewWorker(ob, WorkerOptions{Destinations: destMap(Destination{Name: "x", Type: "fake"}),
		Senders: map[string]Sender{"fake": send}, ShutdownGrace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Enqueue(testMessage("m"), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	<-started
	cancel()
	close(release)
	<-done
	if e, err := ob.Get("m/x"); err != nil || e.State != StateDelivered {
		t.Errorf("a send finished during shutdown: %+v, %v; want delivered", e, err)
	}
}

func TestNewWorkerValidates(t *testing.T) {
	if _, err := NewWorker(nil, WorkerOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("NewWorker(nil) = %v, want ErrInvalid", err)
	}
}

// heldClock tells the time of the fake clock but never lets a wait end:
// a worker on it makes no attempt after those already due.
type heldClock struct{ *fakeClock }

func (heldClock) After(time.Duration) <-chan time.Time { return nil }

// TestWorkerHoldsBackWhatItCannotRecord: when the outcome of an attempt
// cannot be committed (the store refuses writes, as on a full disk), only
// the commit is tried again, for as long as it takes: the message is not
// sent again, which flooded a chat room with a copy every 5 s while the
// disk stayed full.
func TestWorkerHoldsBackWhatItCannotRecord(t *testing.T) {
	clock := newFakeClock()
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	db := openDB(t, path)
	ob := newOutbox(t, db, clock, OutboxOptions{})
	if _, err := ob.Enqueue(testMessage("m-1"), []string{"room"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ro.Close() })
	ob.db = ro // reads work, writes fail
	var sends atomic.Int64
	w, err := NewWorker(ob, WorkerOptions{
		Destinations: destMap(Destination{Name: "room", Type: "chat"}),
		Senders: map[string]Sender{"chat": SenderFunc(func(context.Context, Destination, Message) error {
			sends.Add(1)
			return nil
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := clock.Now()
	stop := runWorker(t, w)
	time.Sleep(200 * time.Millisecond)
	stop()
	if n, waited := sends.Load(), clock.Now().Sub(start); n != 1 || waited < time.Hour {
		t.Fatalf("sent %d times in %v of the worker's time; want once, its commit retried for hours meanwhile", n, waited)
	}
}

// TestWorkerOneStuckDestinationHoldsTwoSlots: entries for a destination
// that stops answering (each attempt hangs until its timeout) take at most
// PerDestination of the worker's slots: a message for another destination,
// due after them, is delivered meanwhile.
func TestWorkerOneStuckDestinationHoldsTwoSlots(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	release := make(chan struct{})
	var stuck atomic.Int32
	w, err := NewWorker(ob, WorkerOptions{Concurrency: 4,
		Destinations: destMap(Destination{Name: "dead", Type: "hang"}, Destination{Name: "fine", Type: "ok"}),
		Senders: map[string]Sender{
			"hang": SenderFunc(func(ctx context.Context, _ Destination, _ Message) error {
				stuck.Add(1)
				select {
				case <-release:
				case <-ctx.Done():
				}
				return errors.New("no answer")
			}),
			"ok": SenderFunc(func(context.Context, Destination, Message) error { return nil }),
		}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if _, err := ob.Enqueue(testMessage(fmt.Sprintf("d%d", i)), []string{"dead"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ob.Enqueue(testMessage("urgent"), []string{"fine"}); err != nil {
		t.Fatal(err)
	}
	stop := runWorker(t, w)
	defer stop()
	defer close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if e, err := ob.Get("urgent/fine"); err == nil && e.State == StateDelivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the message for the answering destination waited behind the stuck one")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := stuck.Load(); n > DefaultPerDestination {
		t.Fatalf("%d attempts to the stuck destination at once, want at most %d", n, DefaultPerDestination)
	}
}

// TestWorkerOneStuckServerHoldsTwoSlots: every client's mail goes through
// one SMTP relay, which hangs. However many destinations name it, its
// sends hold two slots: a Slack message waits for none of them.
func TestWorkerOneStuckServerHoldsTwoSlots(t *testing.T) {
	clock := newFakeClock()
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	release := make(chan struct{})
	var stuck atomic.Int32
	var dests []Destination
	for _, c := range []string{"acme", "beta", "gamma", "delta"} {
		dests = append(dests, Destination{Name: c + "-mail", Type: TypeEmail, Addr: "Mail.Example.JP:587"})
	}
	dests = append(dests, Destination{Name: "omega-slack", Type: TypeSlack, URL: "https://hooks.slack.com/services/T0/B0/x"})
	w, err := NewWorker(ob, WorkerOptions{
		Destinations: destMap(dests...),
		Senders: map[string]Sender{
			TypeEmail: SenderFunc(func(ctx context.Context, _ Destination, _ Message) error {
				stuck.Add(1)
				select {
				case <-release:
				case <-ctx.Done():
				}
				return errors.New("no answer")
			}),
			TypeSlack: SenderFunc(func(context.Context, Destination, Message) error { return nil }),
		}})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range dests[:4] {
		for j := range 3 {
			if _, err := ob.Enqueue(testMessage(fmt.Sprintf("m%d-%d", i, j)), []string{d.Name}); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop := runWorker(t, w)
	defer stop()
	defer close(release)
	for deadline := time.Now().Add(5 * time.Second); stuck.Load() < DefaultPerDestination; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the mail was never tried")
		}
	}
	if _, err := ob.Enqueue(testMessage("urgent"), []string{"omega-slack"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if e, err := ob.Get("urgent/omega-slack"); err == nil && e.State == StateDelivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Slack message waited behind the stuck mail server")
		}
	}
	if n := stuck.Load(); n > DefaultPerDestination {
		t.Fatalf("%d sends to the stuck mail server at once, want at most %d", n, DefaultPerDestination)
	}
}

func TestDestinationServer(t *testing.T) {
	tests := []struct {
		d    Destination
		want string
	}{
		{Destination{Name: "a", Type: TypeEmail, Addr: "Mail.Example.JP:587"}, "smtp mail.example.jp:587"},
		{Destination{Name: "b", Type: TypeSlack, URL: "https://hooks.slack.com/services/T/B/x"}, "hooks.slack.com"},
		{Destination{Name: "c", Type: TypeWebhook, URL: "https://crm.example.jp:8443/hook"}, "crm.example.jp:8443"},
		{Destination{Name: "d", Type: TypeChatwork}, "api.chatwork.com"},
		{Destination{Name: "e", Type: TypeLineWorks}, "www.worksapis.com"},
		{Destination{Name: "f", Type: TypeLine, URL: "https://line.internal.example/v2"}, "line.internal.example"},
		{Destination{Name: "g", Type: TypeWebhook, URL: "::bad"}, "destination g"},
	}
	for _, tt := range tests {
		if got := tt.d.Server(); got != tt.want {
			t.Errorf("%+v: Server() = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestWorkerRecordsAPartDeliveryAtTheStop: a mail delivered to some of its
// recipients as the stop's grace ends (the server's last answer cut off)
// is recorded delivered, not left pending to be sent again to those who
// have it.
func TestWorkerRecordsAPartDeliveryAtTheStop(t *testing.T) {
	// The grace ends while the QUIT is pending.
	if e := cutByStop(t, fmt.Errorf("smtp: some recipients refused: %w", ErrPartlyDelivered)); e.State != StateDelivered {
		t.Errorf("entry %s after a delivery to some recipients at the stop, want delivered", e.State)
	}
}

// TestWorkerSendsNoMessageToAnotherClientsDestination: a reload gave the
// name of a destination a message was queued for to another client's
// destination (a rename): the entry is not sent there, retried and
// dead-lettered saying why, while entries of the client that names it,
// and of a destination no client names any more, are sent. The dead
// letter's error, which the client's own API token reads, names no other
// client; the log, which the operators read, does.
func TestWorkerSendsNoMessageToAnotherClientsDestination(t *testing.T) {
	clock := newFakeClock()
	hook := startFlakyHook(t, clock, "s3cret", 0)
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{MaxAttempts: 2})
	on := make(attempts, 16)
	var users atomic.Pointer[[]string] // of "hook"
	users.Store(&[]string{"c-002", "c-003"})
	var logs syncbuf.Buffer
	w, err := NewWorker(ob, WorkerOptions{Destinations: destMap(hook.dest()), OnAttempt: on.on,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		DestinationUsers: func(name string) []string {
			if name != "hook" {
				return nil
			}
			return *users.Load()
		},
		Senders: Channels(ChannelOptions{Clock: clock})})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	if _, err := ob.Enqueue(testMessage("m-1"), []string{"hook"}); err != nil { // c-001's
		t.Fatal(err)
	}
	e := on.waitFor(t, "dead letter", func(e Entry) bool { return e.State == StateDead })
	if e.Attempts != 2 || !strings.Contains(e.LastError, ErrNotTheClientsDestination.Error()) {
		t.Errorf("entry = %+v, want dead after 2 attempts, saying the destination is another client's", e)
	}
	if strings.Contains(e.LastError, "c-002") || strings.Contains(e.LastError, "c-003") {
		t.Errorf("dead letter's error %q names another client: c-001's API token reads it", e.LastError)
	}
	if !strings.Contains(logs.String(), `named_by="c-002, c-003"`) {
		t.Errorf("log does not say whose the name is now:\n%s", logs.String())
	}
	ours := testMessage("m-2")
	ours.ClientID = "c-003"
	if _, err := ob.Enqueue(ours, []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	on.waitFor(t, "c-003's delivery", delivered)
	users.Store(&[]string{}) // named by no client: the old destination, sent to
	if _, err := ob.Enqueue(testMessage("m-3"), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	on.waitFor(t, "the delivery to a destination no client names", delivered)
	if _, got := hook.counts(); got["m-1/hook"] != 0 || got["m-2/hook"] != 1 || got["m-3/hook"] != 1 {
		t.Errorf("deliveries %v, want m-2 and m-3 once each, m-1 never", got)
	}
}

// TestForgetDuringSendFreesTheSlot: a caller's erasure (Outbox.Forget)
// deletes an entry while it is being sent. The attempt is settled when
// the send ends: its slot for the server is freed, and the next message
// to that server goes. The commit was retried instead, for as long as
// the process ran, holding the slot: two such erasures stopped every
// client's mail (one SMTP relay) until a restart.
func TestForgetDuringSendFreesTheSlot(t *testing.T) {
	clock := heldClock{newFakeClock()} // no retry of a commit ever comes due
	ob := newOutbox(t, openDB(t, ""), clock, OutboxOptions{})
	started, release := make(chan string, 4), make(chan struct{})
	send := SenderFunc(func(_ context.Context, _ Destination, m Message) error {
		started <- m.ID
		if m.ID == "erased" {
			<-release
		}
		return nil
	})
	on := make(attempts, 8)
	w, err := NewWorker(ob, WorkerOptions{PerDestination: 1, OnAttempt: on.on,
		Destinations: destMap(Destination{Name: "acme-mail", Type: TypeEmail, Addr: "mail.example.jp:587"},
			Destination{Name: "beta-mail", Type: TypeEmail, Addr: "mail.example.jp:587"}),
		Senders: map[string]Sender{TypeEmail: send}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Enqueue(testMessage("erased"), []string{"acme-mail"}); err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	if id := <-started; id != "erased" {
		t.Fatalf("sent %s first, want erased", id)
	}
	if n, err := ob.Forget([]string{"erased"}); err != nil || n != 1 {
		t.Fatalf("Forget = %d, %v; want the entry in flight erased", n, err)
	}
	close(release)
	if _, err := ob.Enqueue(testMessage("next"), []string{"beta-mail"}); err != nil {
		t.Fatal(err)
	}
	// The erased entry's attempt reports nothing: the first report is
	// the next message's delivery.
	if e := on.waitFor(t, "an attempt", func(Entry) bool { return true }); e.ID != "next/beta-mail" || !delivered(e) {
		t.Errorf("first attempt reported: %+v; want next/beta-mail delivered", e)
	}
	if _, err := ob.Get("erased/acme-mail"); !errors.Is(err, ErrNotFound) {
		t.Errorf("erased entry: %v, want ErrNotFound", err)
	}
}
