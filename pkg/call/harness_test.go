package call_test

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/internal/leakcheck"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// speed is how much faster than real time the fake Asterisk's clock runs.
const speed = 50

const testConfig = `
ari:
  url: %s
  user: toritsugi
  password: toritsugi
data_dir: /nonexistent
clients:
  - id: acme
    name: 株式会社ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
  - id: bogus
    name: 壊れた音声
    dids: ["06-1111-2222"]
    greeting: sound:toritsugi/no-such-file
operators:
  - id: op1001
    name: 佐藤
    endpoint: PJSIP/op1001
    clients: ["*"]
`

// controller is one running toritsugi controller (link, dispatcher, calls).
type controller struct {
	link   *pbx.Link
	calls  *call.Manager
	cancel context.CancelFunc
	done   chan struct{}
}

type harness struct {
	t     *testing.T
	fake  *aritest.Server
	cfg   *config.Config
	store *store.Store
	// rec, when set, is the next controller's recorder instead of store;
	// wrap, when set, wraps its ARI client.
	rec  call.Recorder
	wrap func(ari.Client) ari.Client
	log  *slog.Logger
	last *controller
	// recordRetry, when set, is the controller's first wait before a
	// failed record is stored again.
	recordRetry time.Duration
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessClock(t, aritest.ScaledClock(speed))
}

// newHarnessClock is newHarness with the fake on another clock (with the
// real clock, the greeting takes its 10 s: replace it with AddSound).
func newHarnessClock(t *testing.T, clock aritest.Clock) *harness {
	t.Helper()
	leakcheck.Check(t)
	fake, err := aritest.New(aritest.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	fake.AddSound("toritsugi/acme-greeting", 10*time.Second) // 200 ms of test time
	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf(testConfig, fake.URL())), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, fake: fake, cfg: cfg, store: storetest.Open(t), log: storetest.Logger(t)}
}

// start runs a controller until the test ends or stop is called.
func (h *harness) start() *controller {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	disp := pbx.NewDispatcher(pbx.Hooks{}, h.log)
	link, err := pbx.New(pbx.Options{
		URL: h.cfg.ARI.URL, User: h.cfg.ARI.User, Password: h.cfg.ARI.Password, App: h.cfg.ARI.App,
		PingInterval:     50 * time.Millisecond,
		Backoff:          pbx.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		DisallowedEvents: call.UnreadEvents,
		Logger:           h.log,
	}, disp)
	if err != nil {
		h.t.Fatal(err)
	}
	var rec call.Recorder = h.store
	if h.rec != nil {
		rec = h.rec
	}
	cl := link.Client()
	if h.wrap != nil {
		cl = h.wrap(cl)
	}
	mgr := call.NewManager(ctx, call.Deps{
		ARI: cl, Dispatcher: disp, Config: func() *config.Config { return h.cfg },
		Recorder: rec, Logger: h.log, GreetingTimeout: 2 * time.Second, RecordRetry: h.recordRetry,
	})
	disp.SetHooks(mgr.Hooks())
	c := &controller{link: link, calls: mgr, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		_ = link.Run(ctx)
		mgr.Wait()
	}()
	h.t.Cleanup(c.stop)
	h.last = c
	return c
}

func (c *controller) stop() {
	c.cancel()
	<-c.done
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// waitConnected waits for the n-th websocket connect seen by the fake.
func (h *harness) waitConnected(n int) {
	h.t.Helper()
	if err := h.fake.WaitConnected(h.ctx(), n); err != nil {
		h.t.Fatalf("controller never connected %d times: %v", n, err)
	}
	// Connected is not ready: the link re-syncs before it reports up.
	deadline := time.Now().Add(10 * time.Second)
	for !h.last.link.Up() {
		if time.Now().After(deadline) {
			h.t.Fatal("link never reported up")
		}
		time.Sleep(time.Millisecond)
	}
}

// waitRecord polls the store until the call's record exists.
func (h *harness) waitRecord(id string) store.CallRecord {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r, err := h.store.Call(id)
		if err == nil {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("no call record for %s; fake saw requests:\n%s", id, h.requests())
	return store.CallRecord{}
}

// callPlaying places a call to acme and waits until its greeting plays.
func (h *harness) callPlaying() string {
	h.t.Helper()
	id, err := h.fake.IncomingCall("0312345678", "0901234567")
	if err != nil {
		h.t.Fatal(err)
	}
	h.waitPlaying(id)
	return id
}

// waitPlaying waits until the channel is playing media.
func (h *harness) waitPlaying(id string) {
	h.t.Helper()
	err := h.fake.WaitFor(h.ctx(), func(s *aritest.Server) bool {
		ch, ok := s.Channel(id)
		return ok && len(ch.Playing) > 0
	})
	if err != nil {
		h.t.Fatalf("channel %s never played: %v\n%s", id, err, h.requests())
	}
}

func (h *harness) requests() string {
	var b strings.Builder
	for _, r := range h.fake.Requests() {
		fmt.Fprintf(&b, "%s %s?%s -> %d\n", r.Method, r.Path, r.Query, r.Status)
	}
	return b.String()
}

// requestLines lists "METHOD path" of the requests about one channel.
func (h *harness) requestLines(channelID string) []string {
	var out []string
	for _, r := range h.fake.Requests() {
		if strings.HasPrefix(r.Path, "/channels/"+channelID) {
			out = append(out, r.Method+" "+playbackRE.ReplaceAllString(strings.ReplaceAll(r.Path, channelID, "ID"), "ID-pb-N"))
		}
	}
	return out
}

// playbackRE matches our greeting playback ids after the channel id was replaced.
var playbackRE = regexp.MustCompile(`ID-pb-[0-9a-f]+-[0-9]+`)

// plays counts the playbacks started on channel id.
func (h *harness) plays(id string) int {
	n := 0
	for _, l := range h.requestLines(id) {
		if strings.Contains(l, "/play/") {
			n++
		}
	}
	return n
}
