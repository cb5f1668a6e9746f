package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/controller"
	"github.com/toritsugi/toritsugi/pkg/internal/leakcheck"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// speed: the fake Asterisk's clock runs this much faster than real time,
// so a 15 s ring timeout lasts 150 ms of test time.
const speed = 100

type harness struct {
	t    *testing.T
	fake *aritest.Server
	// logs, when set, receives the controller's log (info and above) too.
	logs  io.Writer
	cfg   *config.Config
	store *store.Store
	last  *running
	// confirmWait: how long a callback offer waits for the caller's key
	// (0: the controller's default).
	confirmWait time.Duration
	// clock: the calls' clock (nil: the wall clock).
	clock call.Clock
	// recheckAfter: Options.RecheckAfter (0: the controller's default).
	recheckAfter time.Duration
	// otherCallRead: Options.OtherCallRead (0: the controller's default).
	otherCallRead time.Duration
	// retention: the store is Options.Store too, and testDeployment
	// Options.Deployment, as the service passes them (the deployment in
	// recordings' names, the retention running).
	retention bool
	// callbacks: Options.Callbacks (nil: the store).
	callbacks call.CallbackStore
	// greetingTimeout: Options.GreetingTimeout (0: 5 s).
	greetingTimeout time.Duration
	// updates: Options.Updates (nil: no reloads).
	updates chan *config.Config
	// observer: Options.Observer (nil: none).
	observer pbx.Observer
	// onOperatorChange: Options.OnOperatorChange (nil: none). It runs on
	// the queue's goroutine.
	onOperatorChange func(acd.OperatorStateChanged)
	// reloaded: the configuration reload gave, read by the running
	// controller (nil: cfg).
	reloaded atomic.Pointer[config.Config]

	mu        sync.Mutex
	rings     []acd.Ring       // every Ring the queue decided, in order
	connected []call.Connected // every screen pop
}

type running struct {
	t      *testing.T
	c      *controller.Controller
	cancel context.CancelFunc
	done   chan struct{}
}

// newHarness starts a fake Asterisk and parses yamlBody (its ari section is
// added here). Durations in the YAML are in Asterisk time: divide by speed
// for test time.
func newHarness(t *testing.T, yamlBody string) *harness {
	t.Helper()
	return newHarnessFake(t, yamlBody, aritest.Options{})
}

// newHarnessFake is newHarness with the fake's options (hooks); its clock
// is the harness's unless opts gives one.
func newHarnessFake(t *testing.T, yamlBody string, opts aritest.Options) *harness {
	t.Helper()
	leakcheck.Check(t)
	if opts.Clock == nil {
		opts.Clock = aritest.ScaledClock(speed)
	}
	fake, err := aritest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	full := fmt.Sprintf("ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s", fake.URL(), yamlBody)
	cfg, err := config.Parse("test.yaml", []byte(full), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	for _, c := range cfg.Clients {
		fake.AddSound(strings.TrimPrefix(c.Greeting, "sound:"), 3*time.Second)
	}
	return &harness{t: t, fake: fake, cfg: cfg, store: storetest.Open(t)}
}

// announceEvery sets every client's announce_period to d, which may be
// shorter than a file may set it (config.MinAnnouncePeriod, 15 s): the
// tests' waits are short, in Asterisk time as the YAML's durations.
func (h *harness) announceEvery(d time.Duration) {
	for i := range h.cfg.Clients {
		h.cfg.Clients[i].Queue.AnnouncePeriod = &d
	}
}

// logger is the controller's: the test's log, and logs when set.
func (h *harness) logger() *slog.Logger {
	if h.logs == nil {
		return storetest.Logger(h.t)
	}
	return slog.New(slog.NewTextHandler(io.MultiWriter(h.t.Output(), h.logs), nil))
}

// start runs a controller and waits until its link is up.
func (h *harness) start() *running {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var callbacks call.CallbackStore = h.store
	if h.callbacks != nil {
		callbacks = h.callbacks
	}
	greetingTimeout := 5 * time.Second
	if h.greetingTimeout > 0 {
		greetingTimeout = h.greetingTimeout
	}
	c, err := controller.New(ctx, controller.Options{
		Config: func() *config.Config {
			if c := h.reloaded.Load(); c != nil {
				return c
			}
			return h.cfg
		}, Recorder: h.store, Callbacks: callbacks, Logger: h.logger(),
		Backoff: pbx.Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond}, GreetingTimeout: greetingTimeout,
		CallbackConfirmWait: h.confirmWait, Clock: h.clock, RecheckAfter: h.recheckAfter, OtherCallRead: h.otherCallRead, Updates: h.updates,
		Observer: h.observer, OnOperatorChange: h.onOperatorChange,
		OnConnected: func(c call.Connected) {
			h.mu.Lock()
			h.connected = append(h.connected, c)
			h.mu.Unlock()
		},
		OnQueueAction: func(a acd.Action) {
			if r, ok := a.(acd.Ring); ok {
				h.mu.Lock()
				h.rings = append(h.rings, r)
				h.mu.Unlock()
			}
		},
		Store: retentionStore(h), Deployment: retentionDeployment(h),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	r := &running{t: h.t, c: c, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); _ = c.Run(ctx) }()
	h.t.Cleanup(r.stop)
	h.last = r
	h.eventually("controller up", c.Up)
	return r
}

// stopWait bounds a controller's stop in the tests: one that hangs
// fails its test with the goroutines' stacks, rather than holding the
// test binary up until its timeout.
const stopWait = 30 * time.Second

func (r *running) stop() {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(stopWait):
		r.t.Errorf("the controller did not stop within %v; goroutines:\n%s", stopWait, allStacks())
	}
}

// allStacks is every goroutine's stack.
func allStacks() string {
	buf := make([]byte, 8<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// firstRings lists call ids in the order the queue first rang them.
func (h *harness) firstRings() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, r := range h.rings {
		if !seen[r.CallID] {
			seen[r.CallID] = true
			out = append(out, r.CallID)
		}
	}
	return out
}

// ringsOf counts the rings the queue decided for operator opID (a ring
// still on its way to Asterisk counts: originates would not show it).
func (h *harness) ringsOf(opID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.rings {
		if r.OpID == opID {
			n++
		}
	}
	return n
}

// phoneState reports the queue's view of operator id's phone.
func (h *harness) phoneState(id string) (reachable, otherCall bool) {
	for _, op := range h.snapshot().Operators {
		if op.ID == id {
			return op.Reachable, op.OtherCall
		}
	}
	return false, false
}

// eventually polls cond for up to 10 s of test time.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	h.eventuallyWithin(10*time.Second, what, cond)
}

// eventuallyWithin is eventually with a limit of its own: a burst of a
// thousand calls under the race detector, on two cores another test
// package shares, may take more than 10 s, and is not a timing test.
func (h *harness) eventuallyWithin(limit time.Duration, what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; requests:\n%s", what, h.requests())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) call(did, caller string) string {
	h.t.Helper()
	id, err := h.fake.IncomingCall(did, caller)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) record(id string) store.CallRecord {
	h.t.Helper()
	var rec store.CallRecord
	h.eventually("record of "+id, func() bool {
		r, err := h.store.Call(id)
		rec = r
		return err == nil
	})
	return rec
}

func (h *harness) snapshot() acd.Snapshot {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.last.c.Queue.Snapshot(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) operatorState(id string) acd.State {
	for _, op := range h.snapshot().Operators {
		if op.ID == id {
			return op.State
		}
	}
	h.t.Fatalf("operator %s not in snapshot", id)
	return 0
}

// reload makes cfg the configuration, as a reload does: the controller
// reads it from now on and is told of it (h.updates must be set before
// start).
func (h *harness) reload(cfg *config.Config) {
	h.reloaded.Store(cfg)
	h.updates <- cfg
}

func (h *harness) waiting(clientID string) []string {
	var ids []string
	for _, c := range h.snapshot().Clients {
		if c.ClientID == clientID {
			for _, w := range c.Waiting {
				ids = append(ids, w.CallID)
			}
		}
	}
	return ids
}

func (h *harness) requests() string {
	var b strings.Builder
	for _, r := range h.fake.Requests() {
		if r.Path == "/asterisk/ping" {
			continue
		}
		fmt.Fprintf(&b, "%s %s?%s -> %d\n", r.Method, r.Path, r.Query, r.Status)
	}
	return b.String()
}

// playedTo is what toritsugi asked the fake to play to channel id (the
// bodies of its POST /channels/id/play requests).
func (h *harness) playedTo(id string) string {
	var b strings.Builder
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/channels/"+id+"/play") {
			b.WriteString(r.Body)
		}
	}
	return b.String()
}

// originate is one POST /channels toritsugi sent.
type originate struct {
	Endpoint, CallerID, AppArgs string
	Status                      int
}

// originates lists toritsugi's originates, in order.
func (h *harness) originates() []originate {
	var out []originate
	for _, r := range h.fake.Requests() {
		if r.Method == "POST" && r.Path == "/channels" {
			var b struct {
				Endpoint string `json:"endpoint"`
				CallerID string `json:"callerId"`
				AppArgs  string `json:"appArgs"`
			}
			if err := json.Unmarshal([]byte(r.Body), &b); err != nil {
				h.t.Fatalf("originate body %q: %v", r.Body, err)
			}
			out = append(out, originate{b.Endpoint, b.CallerID, b.AppArgs, r.Status})
		}
	}
	return out
}

// containsRequest reports whether the fake received method path.
func containsRequest(h *harness, method, path string) bool {
	for _, r := range h.fake.Requests() {
		if r.Method == method && r.Path == path {
			return true
		}
	}
	return false
}

// failThrough puts a proxy between the next controller and the fake: it
// answers 500, as Asterisk does when something fails inside it, to the
// requests fail picks, and passes on the rest (the events websocket too).
func (h *harness) failThrough(fail func(*http.Request) bool) {
	h.t.Helper()
	h.failThroughWith(http.StatusInternalServerError, fail)
}

// failThroughWith is failThrough answering status.
func (h *harness) failThroughWith(status int, fail func(*http.Request) bool) {
	h.t.Helper()
	h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !fail(r) {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"message":"`+http.StatusText(status)+`"}`)
		return true
	})
}

// intercept puts a proxy between the next controller and the fake: each
// REST request goes to handle first, and on to the fake unless handle
// answered it (returned true).
func (h *harness) intercept(handle func(w http.ResponseWriter, r *http.Request) bool) {
	h.t.Helper()
	fakeURL, err := url.Parse(h.fake.URL())
	if err != nil {
		h.t.Fatal(err)
	}
	origin := &url.URL{Scheme: fakeURL.Scheme, Host: fakeURL.Host}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(origin) }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if handle(w, r) {
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	h.t.Cleanup(srv.Close)
	h.cfg.ARI.URL = srv.URL + fakeURL.Path
}

// fastClock runs the calls' timers speed times faster, as the fake's
// clock runs: for a timer of minutes in Asterisk's time.
type fastClock struct{}

func (fastClock) Now() time.Time { return time.Now() }

func (fastClock) NewTimer(d time.Duration) call.Timer { return call.RealClock{}.NewTimer(d / speed) }

// waitStoredStep waits until the state call id keeps in the store is at
// step (the store writes live states in the background).
func (h *harness) waitStoredStep(id string, step call.Step) {
	h.t.Helper()
	h.eventually(fmt.Sprintf("the state of %s in the store at step %s", id, step), func() bool {
		live, _, err := h.store.LiveCalls()
		return err == nil && strings.Contains(live[id], "s="+url.QueryEscape(string(step)))
	})
}

// onOtherCall reports whether the queue has operator id on a call of their
// own phone's.
func (h *harness) onOtherCall(id string) bool {
	_, other := h.phoneState(id)
	return other
}

// ownCall has operator id's softphone (PJSIP/<id>) call number, and waits
// until the queue has them on that call; it returns the call's channel.
func (h *harness) ownCall(id, number string) string {
	h.t.Helper()
	ch, err := h.fake.OutboundCall("PJSIP/"+id, number)
	if err != nil {
		h.t.Fatal(err)
	}
	h.eventually(id+" on another call", func() bool { return h.onOtherCall(id) })
	return ch
}

// testDeployment is the harness's deployment id when h.retention.
const testDeployment = "5e1f00d2"

// retentionDeployment is Options.Deployment: testDeployment when
// h.retention.
func retentionDeployment(h *harness) string {
	if h.retention {
		return testDeployment
	}
	return ""
}

// retentionStore is Options.Store: the harness's store when h.retention.
func retentionStore(h *harness) *store.Store {
	if h.retention {
		return h.store
	}
	return nil
}

// startOp1001 starts a controller with op1001's phone registered and
// answering as b, op1002's not registered, and waits until op1001 is
// available.
func (h *harness) startOp1001(b aritest.EndpointBehavior) *running {
	h.t.Helper()
	h.fake.AddEndpoint("PJSIP/op1001", true, b)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	r := h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	return r
}
