package operators

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// harness runs the real pbx link against the fake Asterisk with a registry
// installed as its endpoint hook and on-connect step.
type harness struct {
	fake    *aritest.Server
	link    *pbx.Link
	reg     *Registry
	changes chan Change
	up      chan struct{}
	logs    *logBuffer
	// whileDown, when set, runs once inside the link's "down" notification:
	// the link cannot reconnect before it returns.
	whileDown atomic.Pointer[func()]
}

func newHarness(t *testing.T, tracked []string, setup func(*aritest.Server)) *harness {
	t.Helper()
	fake, err := aritest.New(aritest.Options{Clock: aritest.ScaledClock(50)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	setup(fake)
	h := &harness{fake: fake, changes: make(chan Change, 64), up: make(chan struct{}, 8), logs: &logBuffer{}}
	h.reg = NewRegistry(newLogger(h.logs), func(c Change) { h.changes <- c })
	h.reg.Track(tracked)
	disp := pbx.NewDispatcher(pbx.Hooks{Endpoint: h.reg.HandleEvent}, nil)
	link, err := pbx.New(pbx.Options{
		URL: fake.URL(), User: "toritsugi", Password: "toritsugi", App: "toritsugi",
		OnConnect: h.reg.OnConnect,
		OnState: func(up bool) {
			if up {
				h.up <- struct{}{}
				return
			}
			if f := h.whileDown.Swap(nil); f != nil {
				(*f)()
			}
		},
		Backoff: pbx.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond},
	}, disp)
	if err != nil {
		t.Fatal(err)
	}
	h.link = link
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		link.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return h
}

const waitLimit = 5 * time.Second

func (h *harness) waitUp(t *testing.T) {
	t.Helper()
	select {
	case <-h.up:
	case <-time.After(waitLimit):
		t.Fatal("the link did not come up")
	}
}

func (h *harness) expect(t *testing.T, want ...Change) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-h.changes:
			if got != w {
				t.Fatalf("change %+v, want %+v", got, w)
			}
		case <-time.After(waitLimit):
			t.Fatalf("no change; want %+v", w)
		}
	}
}

func TestLinkRegisterUnregister(t *testing.T) {
	h := newHarness(t, []string{"PJSIP/op1001", "PJSIP/op1099"}, func(f *aritest.Server) {
		f.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{})
	})
	h.waitUp(t)
	if got := h.reg.Snapshot(); got["PJSIP/op1001"] || got["PJSIP/op1099"] {
		t.Fatalf("Snapshot after connect = %v, want nothing reachable", got)
	}
	if !strings.Contains(h.logs.String(), "endpoint=PJSIP/op1099") || !strings.Contains(h.logs.String(), "does not exist") {
		t.Errorf("no warning about the unknown endpoint:\n%s", h.logs.String())
	}

	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: true, ReachableChanged: true, Reason: "EndpointStateChange online"})
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: true, Registered: true, Reason: "ContactStatusChange NonQualified"})
	if err := h.fake.Unregister("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: false, ReachableChanged: true, Reason: "EndpointStateChange offline"})
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: true, ReachableChanged: true, Reason: "EndpointStateChange online"})
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: true, Registered: true, Reason: "ContactStatusChange NonQualified"})
	h.assertNoMoreChanges(t)

	var subs []string
	for _, rq := range h.fake.Requests() {
		if rq.Method == "POST" && rq.Path == "/applications/toritsugi/subscription" {
			var b struct {
				EventSource string `json:"eventSource"`
			}
			if err := json.Unmarshal([]byte(rq.Body), &b); err != nil {
				t.Fatalf("subscription body %q: %v", rq.Body, err)
			}
			subs = append(subs, fmt.Sprintf("%s %d", b.EventSource, rq.Status))
		}
	}
	// One connect: each endpoint once; the one Asterisk does not know is
	// refused as recording 12 shows, and only warned about; its
	// technology is subscribed to instead, for the day it is made.
	if want := []string{"endpoint:PJSIP/op1001 200", "endpoint:PJSIP/op1099 422", "endpoint:PJSIP 200"}; !slices.Equal(subs, want) {
		t.Errorf("subscriptions %q, want %q", subs, want)
	}
}

// assertNoMoreChanges checks that nothing is queued: every event of a
// register/unregister burst after the first must be absorbed.
func (h *harness) assertNoMoreChanges(t *testing.T) {
	t.Helper()
	// A final Unregister+Register round trip orders us after any event
	// still in flight: its first change must be the next one we see.
	if err := h.fake.Unregister("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: false, ReachableChanged: true, Reason: "EndpointStateChange offline"})
}

// TestLinkRepairsAfterReconnect: registrations that happen while the
// websocket is down raise events nobody receives; OnConnect's state read
// after the reconnect repairs the registry.
func TestLinkRepairsAfterReconnect(t *testing.T) {
	h := newHarness(t, []string{"PJSIP/op1001", "PJSIP/op1002"}, func(f *aritest.Server) {
		f.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{})
		f.AddEndpoint("PJSIP/op1002", true, aritest.EndpointBehavior{})
	})
	h.waitUp(t)
	h.expect(t, Change{Endpoint: "PJSIP/op1002", Reachable: true, ReachableChanged: true, Reason: "GET endpoint online"})

	for _, step := range []struct {
		name string
		act  func() error
		want Change
	}{
		{"register op1001", func() error { return h.fake.Register("PJSIP/op1001") },
			Change{Endpoint: "PJSIP/op1001", Reachable: true, ReachableChanged: true, Reason: "GET endpoint online"}},
		{"unregister op1002", func() error { return h.fake.Unregister("PJSIP/op1002") },
			Change{Endpoint: "PJSIP/op1002", Reachable: false, ReachableChanged: true, Reason: "GET endpoint offline"}},
	} {
		errc := make(chan error, 1)
		f := func() { errc <- step.act() }
		h.whileDown.Store(&f)
		h.fake.DropWebSockets()
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
		case <-time.After(waitLimit):
			t.Fatalf("%s: the link did not go down", step.name)
		}
		h.waitUp(t)
		h.expect(t, step.want)
	}
	if got := h.reg.Snapshot(); !got["PJSIP/op1001"] || got["PJSIP/op1002"] {
		t.Fatalf("Snapshot = %v", got)
	}
	// events flow again after the reconnect (the subscription was renewed)
	if err := h.fake.Register("PJSIP/op1002"); err != nil {
		t.Fatal(err)
	}
	h.expect(t, Change{Endpoint: "PJSIP/op1002", Reachable: true, ReachableChanged: true, Reason: "EndpointStateChange online"})
}

// TestLinkOtherCall: an operator calls a customer back from their
// softphone. Asterisk's EndpointStateChange lists the new channel, not
// one of toritsugi's legs: the phone has another call until it goes. A
// call placed while the link is down is read at the reconnect.
func TestLinkOtherCall(t *testing.T) {
	h := newHarness(t, []string{"PJSIP/op1001"}, func(f *aritest.Server) {
		f.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{})
	})
	h.reg.SetOwnChannel(func(id string) bool { return strings.Contains(id, "-op-") })
	h.waitUp(t)
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: true, ReachableChanged: true, Reason: "GET endpoint online"})
	id, err := h.fake.OutboundCall("PJSIP/op1001", "0312345678")
	if err != nil {
		t.Fatal(err)
	}
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: true, OtherCall: true, OtherCallChanged: true, Reason: "EndpointStateChange online"})
	if !h.reg.OtherCall("PJSIP/op1001") {
		t.Fatal("OtherCall false during the call")
	}
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: true, OtherCallChanged: true, Reason: "EndpointStateChange online"})

	errc := make(chan error, 1)
	f := func() { _, err := h.fake.OutboundCall("PJSIP/op1001", "0312345678"); errc <- err }
	h.whileDown.Store(&f)
	h.fake.DropWebSockets()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitLimit):
		t.Fatal("the link did not go down")
	}
	h.waitUp(t)
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: true, OtherCall: true, OtherCallChanged: true, Reason: "GET endpoint online"})
}

// TestLinkEndpointMadeLater: an operator configured before the admin adds
// their endpoint to pjsip.conf (or a realtime endpoint, made at its first
// use). Its subscription is refused (422); once the endpoint is made and
// the softphone registers, its events come all the same.
func TestLinkEndpointMadeLater(t *testing.T) {
	h := newHarness(t, []string{"PJSIP/op1099"}, func(f *aritest.Server) {})
	h.waitUp(t)
	h.fake.AddEndpoint("PJSIP/op1099", false, aritest.EndpointBehavior{})
	if err := h.fake.Register("PJSIP/op1099"); err != nil {
		t.Fatal(err)
	}
	h.expect(t, Change{Endpoint: "PJSIP/op1099", Reachable: true, ReachableChanged: true, Reason: "EndpointStateChange online"})

	// The next read (a reload's, a reconnect's) subscribes to the endpoint
	// itself and gives the technology up: the trunk's events are not
	// wanted.
	if err := h.reg.OnConnect(t.Context(), h.link.Client()); err != nil {
		t.Fatal(err)
	}
	var last string
	for _, rq := range h.fake.Requests() {
		if rq.Path == "/applications/toritsugi/subscription" {
			last = rq.Method + " " + rq.Query + rq.Body
		}
	}
	if last != "DELETE eventSource=endpoint:PJSIP" {
		t.Fatalf("last subscription request %q, want the technology's given up", last)
	}
}

// TestTechnologyGivenUpInFull: Asterisk counts subscriptions and keeps
// them past the websocket; an endpoint missing across a reconnect had the
// technology subscribed to at each connect. Once the endpoint is there,
// the technology is given up in full: the application lists no
// technology (the trunk's events would come on, each call's twice).
func TestTechnologyGivenUpInFull(t *testing.T) {
	h := newHarness(t, []string{"PJSIP/op1099"}, func(f *aritest.Server) {})
	h.waitUp(t)
	h.fake.DropWebSockets() // the link drops while op1099 is still missing
	h.waitUp(t)
	h.fake.AddEndpoint("PJSIP/op1099", false, aritest.EndpointBehavior{})
	if err := h.reg.OnConnect(t.Context(), h.link.Client()); err != nil {
		t.Fatal(err)
	}
	h.wantEndpointIDs(t, "PJSIP/op1099")
}

// TestTechnologyLeftByAnEarlierRun: a technology an earlier run of
// toritsugi subscribed to (its endpoint missing then) is still on the
// application Asterisk kept; this run, needing it for no endpoint, gives
// it up at its connect.
func TestTechnologyLeftByAnEarlierRun(t *testing.T) {
	h := newHarness(t, []string{"PJSIP/op1001"}, func(f *aritest.Server) {
		f.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{})
	})
	h.waitUp(t)
	app := ari.NewKey(ari.ApplicationKey, "toritsugi")
	for range 2 { // two connects of the earlier run
		if err := h.link.Client().Application().Subscribe(app, "endpoint:PJSIP"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.reg.OnConnect(t.Context(), h.link.Client()); err != nil {
		t.Fatal(err)
	}
	h.wantEndpointIDs(t, "PJSIP/op1001")
}

// TestSubscriptionsDoNotPileUp: each connect and each reload subscribes
// every tracked endpoint, and Asterisk counts subscriptions: the ones the
// application had already are given back, so that each stays subscribed
// once; an endpoint no longer tracked (its operator removed by a reload)
// is given up, its events and its channels' no longer sent.
func TestSubscriptionsDoNotPileUp(t *testing.T) {
	h := newHarness(t, []string{"PJSIP/op1001", "PJSIP/op1002"}, func(f *aritest.Server) {
		f.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{})
		f.AddEndpoint("PJSIP/op1002", false, aritest.EndpointBehavior{})
	})
	h.waitUp(t)
	for range 3 { // reloads
		if err := h.reg.OnConnect(t.Context(), h.link.Client()); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // link drops
		h.fake.DropWebSockets()
		h.waitUp(t)
	}
	h.reg.Track([]string{"PJSIP/op1001"}) // a reload removed op1002
	if err := h.reg.OnConnect(t.Context(), h.link.Client()); err != nil {
		t.Fatal(err)
	}
	h.wantEndpointIDs(t, "PJSIP/op1001")
	net := map[string]int{}
	for _, rq := range h.fake.Requests() {
		if rq.Path != "/applications/toritsugi/subscription" || rq.Status != 200 {
			continue
		}
		src := rq.Query + rq.Body // the source: the DELETE's query, the POST's body
		switch {
		case !strings.Contains(src, "endpoint:PJSIP/op1001"):
		case rq.Method == "POST":
			net["op1001"]++
		case rq.Method == "DELETE":
			net["op1001"]--
		}
	}
	if n := net["op1001"]; n != 1 {
		t.Errorf("endpoint:PJSIP/op1001 subscribed %d times more than given up after 6 connects and reloads, want 1", n)
	}
}

// TestConnectRacingAReloadKeepsItsEndpoint: a reload tracks op1002 while a
// connect's OnConnect, which took its list before, is going on, and the
// reload's OnConnect subscribes it (here, at once); the connect's
// OnConnect, giving up what is not wanted, keeps op1002: tracked now.
func TestConnectRacingAReloadKeepsItsEndpoint(t *testing.T) {
	h := newHarness(t, []string{"PJSIP/op1001"}, func(f *aritest.Server) {
		f.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{})
		f.AddEndpoint("PJSIP/op1002", false, aritest.EndpointBehavior{})
	})
	h.waitUp(t)
	c := &pausingClient{Client: h.link.Client()}
	c.during = func() { // the reload, while the connect's OnConnect runs
		h.reg.Track([]string{"PJSIP/op1001", "PJSIP/op1002"})
		if err := h.link.Client().Application().Subscribe(ari.NewKey(ari.ApplicationKey, "toritsugi"), "endpoint:PJSIP/op1002"); err != nil {
			t.Error(err)
		}
	}
	if err := h.reg.OnConnect(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	h.wantEndpointIDs(t, "PJSIP/op1001", "PJSIP/op1002")
}

// pausingClient runs during once, at the second Application().Data of an
// OnConnect (its unsubscribeUnwanted's first read), before answering.
type pausingClient struct {
	ari.Client
	reads  atomic.Int32
	during func()
}

func (c *pausingClient) Application() ari.Application { return pausingApp{c.Client.Application(), c} }

type pausingApp struct {
	ari.Application
	c *pausingClient
}

func (a pausingApp) Data(key *ari.Key) (*ari.ApplicationData, error) {
	if a.c.reads.Add(1) == 2 && a.c.during != nil {
		a.c.during()
	}
	return a.Application.Data(key)
}

// wantEndpointIDs fails unless the application is subscribed to exactly
// the endpoints want.
func (h *harness) wantEndpointIDs(t *testing.T, want ...string) {
	t.Helper()
	d, err := h.link.Client().Application().Data(ari.NewKey(ari.ApplicationKey, "toritsugi"))
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(d.EndpointIDs)); !slices.Equal(got, want) {
		t.Fatalf("the application is subscribed to %q, want %q", got, want)
	}
}

// TestLinkUnknownTechnology: an operator endpoint of a technology Asterisk
// does not have (SIP/ on Asterisk 22) is warned about, not an error: the
// connect does not fail and is not tried again and again.
func TestLinkUnknownTechnology(t *testing.T) {
	h := newHarness(t, []string{"PJSIP/op1001", "SIP/op1002"}, func(f *aritest.Server) {
		f.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{})
	})
	h.waitUp(t)
	h.expect(t, Change{Endpoint: "PJSIP/op1001", Reachable: true, ReachableChanged: true, Reason: "GET endpoint online"})
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, r := range h.fake.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/subscription") {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d subscription requests, want 3 (op1001, op1002, SIP) at one connect", n)
	}
}
