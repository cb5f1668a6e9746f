package controller_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/controller"
	"github.com/toritsugi/toritsugi/pkg/gcpercent"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// benchDID is the number benchmark callers dial (client acme, served by
// every operator); heldDID is a second client's number that no operator
// serves: its callers wait on hold for as long as the benchmark runs.
const (
	benchDID = "0312345678"
	heldDID  = "0399998888"
)

// benchSetup describes a benchmark's world: operators PJSIP/op1000..., all
// answering at once and hanging up after talk.
type benchSetup struct {
	operators  int
	registered bool // operators reachable from the start
	talk       time.Duration
	commitEach bool // store.Options.CommitEachCall
	trace      bool // record events and requests with real timestamps
	observer   pbx.Observer
	// hangupWindow: each stage of a hangup takes this long
	// (aritest.Options.HangupWindow); zero: at once.
	hangupWindow time.Duration
	// onEvent, when set, is told of each event the fake sends (after
	// the tracer), with aritest.Options.OnEventSent's rules.
	onEvent func(aritest.SentEvent)
}

// benchEnv is a fake Asterisk (real clock), a store on disk and a running
// controller.
type benchEnv struct {
	tb     testing.TB
	fake   *aritest.Server
	store  *store.Store
	rec    *countingRecorder
	tr     *tracer
	c      *controller.Controller
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	// closeFake stops the fake Asterisk, in this process or its own.
	closeFake func()
	// heapNoController is HeapInuse after a GC with the fake set up and no
	// controller yet.
	heapNoController uint64
}

func benchConfig(ariURL string, operators int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n", ariURL)
	b.WriteString(`queue: {ring_timeout: 15s, max_wait: 1h, wrapup: 0s}
clients:
  - id: acme
    name: ACME
    short_name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:bench/greeting
    whisper_sound: sound:bench/whisper
    record: false
  - id: held
    name: HELD
    short_name: HELD
    dids: ["03-9999-8888"]
    greeting: sound:bench/greeting
    record: false
operators:
`)
	for i := range operators {
		fmt.Fprintf(&b, "  - {id: op%d, name: op%d, endpoint: PJSIP/op%d, clients: [acme]}\n", 1000+i, 1000+i, 1000+i)
	}
	return b.String()
}

// startBench starts everything and waits for the link (and the registered
// operators) to be up. Everything stops when tb ends, or earlier with stop.
func startBench(tb testing.TB, s benchSetup) *benchEnv {
	tb.Helper()
	e := startBenchFake(tb, s)
	startBenchController(e, s, e.fake.URL())
	return e
}

// startBenchFake starts a benchmark's world without its controller: the
// fake Asterisk in this process, traced when s.trace, with the
// garbage collector's target the service runs with.
func startBenchFake(tb testing.TB, s benchSetup) *benchEnv {
	tb.Helper()
	gcpercent.Apply() // as the service runs
	e := &benchEnv{tb: tb, tr: &tracer{}, done: make(chan struct{})}
	var fake *aritest.Server
	var err error
	pprof.Do(context.Background(), fakeSide, func(context.Context) { fake, err = newBenchFake(s, e.tr) })
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = fake.Close() })
	e.fake = fake
	e.closeFake = func() { _ = fake.Close() }
	return e
}

// newBenchFake starts the fake Asterisk of a benchmark's world, traced
// into tr when s.trace.
func newBenchFake(s benchSetup, tr *tracer) (*aritest.Server, error) {
	// The fake keeps the latest requests only (stuck shows them): a long
	// run would otherwise hold every request body in its log.
	opts := aritest.Options{RequestLogLimit: 20000, HangupWindow: s.hangupWindow}
	if s.trace {
		opts.OnEventSent, opts.OnRequest = tr.event, tr.request
	}
	if on := s.onEvent; on != nil {
		traced := opts.OnEventSent
		opts.OnEventSent = func(ev aritest.SentEvent) {
			if traced != nil {
				traced(ev)
			}
			on(ev)
		}
	}
	fake, err := aritest.New(opts)
	if err != nil {
		return nil, err
	}
	fake.AddSound("bench/greeting", 0)
	fake.AddSound("bench/whisper", 0)
	// answer_silence's lead-in (silence/1 by default), 0 s as the
	// greeting: the benchmarks measure the controller, not the sounds.
	fake.AddSound("silence/1", 0)
	for i := range s.operators {
		fake.AddEndpoint(fmt.Sprintf("PJSIP/op%d", 1000+i), s.registered,
			aritest.EndpointBehavior{Answer: aritest.AnswerAfter, HangupAfter: s.talk})
	}
	return fake, nil
}

// startBenchController starts the store and the controller against the
// fake Asterisk at ariURL and waits for the link (and the registered
// operators) to be up.
func startBenchController(e *benchEnv, s benchSetup, ariURL string) {
	tb := e.tb
	tb.Helper()
	cfg, err := config.Parse("bench.yaml", []byte(benchConfig(ariURL, s.operators)), nil)
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "toritsugi.db")
	e.store, err = store.Open(path, store.Options{CommitEachCall: s.commitEach})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.store.Close() })
	e.rec = newCountingRecorder(e.store)
	e.heapNoController = heapInuse()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.c, err = controller.New(ctx, controller.Options{
		Config: func() *config.Config { return cfg }, Recorder: e.rec, Logger: slog.New(slog.DiscardHandler),
		Backoff: pbx.Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond}, GreetingTimeout: 5 * time.Second,
		Observer: s.observer,
	})
	if err != nil {
		tb.Fatal(err)
	}
	go pprof.Do(ctx, controllerSide, func(ctx context.Context) { defer close(e.done); _ = e.c.Run(ctx) })
	tb.Cleanup(e.close)
	e.poll("controller up", 10*time.Second, func() bool {
		if !e.c.Up() {
			return false
		}
		if !s.registered {
			return true
		}
		return e.available() == s.operators
	})
}

// stop stops the controller and waits for its call actors; the fake keeps
// its channels (a stopping controller leaves calls to be re-adopted).
func (e *benchEnv) stop() {
	e.cancel()
	<-e.done
}

// close stops the controller, the fake and the store (once).
func (e *benchEnv) close() {
	e.once.Do(func() {
		e.stop()
		e.closeFake()
		_ = e.store.Close()
	})
}

// heapInuse is the heap in use after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// poll waits for cond, checking every millisecond; a benchmark that waits
// on the whole controller has no single event to wait on.
func (e *benchEnv) poll(what string, limit time.Duration, cond func() bool) {
	e.tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			e.tb.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waiting counts queued calls; available counts available operators.
func (e *benchEnv) waiting() int {
	n := 0
	for _, c := range e.snapshot().Clients {
		n += len(c.Waiting)
	}
	return n
}

func (e *benchEnv) available() int {
	n := 0
	for _, op := range e.snapshot().Operators {
		if op.State == acd.Available && op.Reachable && op.CallID == "" {
			n++
		}
	}
	return n
}

func (e *benchEnv) snapshot() acd.Snapshot {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := e.c.Queue.Snapshot(ctx)
	if err != nil {
		e.tb.Fatal(err)
	}
	return s
}

// call places one incoming call to acme (the fake's work, labelled as
// such).
func (e *benchEnv) call(i int) { e.callTo(benchDID, i) }

func (e *benchEnv) callTo(did string, i int) {
	var err error
	pprof.Do(context.Background(), fakeSide, func(context.Context) {
		_, err = e.fake.IncomingCall(did, fmt.Sprintf("090%08d", i))
	})
	if err != nil {
		e.tb.Fatal(err)
	}
}

// hold places n callers to the held client, 100 at a time, each hundred
// queued before the next, and returns how long it took. (A burst of
// thousands is queued as well, see TestBurstOfCallsAllQueued, but opens
// up to 64 REST connections whose buffers would then be counted as
// memory per waiting call.)
func (e *benchEnv) hold(n int) time.Duration {
	e.tb.Helper()
	start := time.Now()
	base := e.waiting()
	for i := 0; i < n; i += 100 {
		for j := i; j < min(i+100, n); j++ {
			e.callTo(heldDID, 1_000_000+j)
		}
		e.poll(fmt.Sprintf("%d callers waiting", min(i+100, n)), flowLimit, func() bool { return e.waiting()-base >= min(i+100, n) })
	}
	return time.Since(start)
}

// The CPU profile of a benchmark tells the two sides apart by label:
// go tool pprof -tags (or -tagfocus=side=controller) on its -cpuprofile.
// Goroutines inherit the label of the goroutine that starts them; the
// runtime's own work (GC workers) and timers' goroutines carry none.
var (
	fakeSide       = pprof.Labels("side", "fake")
	controllerSide = pprof.Labels("side", "controller")
)

// countingRecorder stores records and counts them; slots (if set) gets a
// token back for every stored record, bounding calls in flight.
type countingRecorder struct {
	*store.Store // the rest of call.Recorder (a benchmark never restarts its controller: nothing is pieced together)

	mu     sync.Mutex
	n      int
	other  map[string]int // records that are not "answered", by result and reason
	target int
	reach  chan struct{}
	slots  chan struct{}
}

func newCountingRecorder(s *store.Store) *countingRecorder { return &countingRecorder{Store: s} }

// PutCall implements call.Recorder.
func (r *countingRecorder) PutCall(c store.CallRecord) error {
	err := r.Store.PutCall(c)
	r.mu.Lock()
	r.n++
	if c.Result != store.ResultAnswered {
		if r.other == nil {
			r.other = map[string]int{}
		}
		r.other[string(c.Result)+": "+c.Reason]++
	}
	if r.reach != nil && r.n >= r.target {
		close(r.reach)
		r.reach = nil
	}
	slots := r.slots
	r.mu.Unlock()
	if slots != nil {
		select {
		case <-slots:
		default:
		}
	}
	return err
}

// expect returns a channel closed once n records in total were stored.
func (r *countingRecorder) expect(n int, slots chan struct{}) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	r.slots = slots
	if r.n >= n {
		close(ch)
		return ch
	}
	r.target, r.reach = n, ch
	return ch
}

// count is how many records were stored.
func (r *countingRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// stuck fails a benchmark whose calls stopped finishing, with the most
// frequent recent requests (a controller looping on a command shows here).
func (e *benchEnv) stuck(n int) {
	e.tb.Helper()
	if e.fake == nil {
		e.tb.Fatalf("only %d of %d calls recorded (the fake runs in a process of its own: no trace here)", e.rec.count(), n)
	}
	_, reqs := e.tr.take()
	hist := map[string]int{}
	for _, r := range reqs[max(len(reqs)-5000, 0):] {
		p := r.Path
		if i := strings.IndexByte(p[1:], '/'); i >= 0 {
			p = p[:i+1] + "/…" + p[strings.LastIndexByte(p, '/'):]
		}
		hist[r.Method+" "+p]++
	}
	for _, r := range e.fake.Requests() {
		if r.Status >= 300 && r.Status != 101 {
			hist[fmt.Sprintf("FAILED %d %s %s", r.Status, r.Method, r.Path[:min(len(r.Path), 10)])]++
		}
		if r.Method == "POST" && r.Path == "/channels" {
			ep := r.Body[strings.Index(r.Body, `"endpoint"`):]
			hist[fmt.Sprintf("originate %d %s", r.Status, ep[:min(len(ep), 30)])]++
		}
	}
	for _, c := range e.fake.Channels() {
		hist["channel "+c.Name[:min(len(c.Name), 8)]+" "+c.State+" bridged="+fmt.Sprint(c.BridgeID != "")]++
	}
	var b strings.Builder
	for k, v := range hist {
		if v > 2 {
			fmt.Fprintf(&b, "%6d %s\n", v, k)
		}
	}
	e.tb.Fatalf("only %d of %d calls recorded; channels left %d; recent requests:\n%s", e.rec.count(), n, len(e.fake.Channels()), b.String())
}

// notAnswered lists the records that did not end answered.
func (r *countingRecorder) notAnswered() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.other)
}
