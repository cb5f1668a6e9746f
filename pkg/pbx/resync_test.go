package pbx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// TestResyncWaitsForTheBridges: when the bridges cannot be read after a
// connect, nothing is adopted (talking callers would be taken for waiting
// ones) and the link connects again; the next re-sync hands them over.
func TestResyncWaitsForTheBridges(t *testing.T) {
	fake, err := aritest.New(aritest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	target, _ := url.Parse(fake.URL())
	target.Path = ""
	proxy := httputil.NewSingleHostReverseProxy(target)
	var failed atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/ari/bridges" && !failed.Swap(true) {
			http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	var mu sync.Mutex
	var adopted [][]string
	d := pbx.NewDispatcher(pbx.Hooks{Adopt: func(_ []*ari.ChannelData, bs []*ari.BridgeData) {
		var ids []string
		for _, b := range bs {
			ids = append(ids, b.ID)
		}
		mu.Lock()
		adopted = append(adopted, ids)
		mu.Unlock()
	}}, nil)
	l, err := pbx.New(pbx.Options{URL: front.URL + "/ari", User: "toritsugi", Password: "toritsugi", App: "toritsugi",
		Backoff: pbx.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}}, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Client().Bridge().Create(ari.NewKey(ari.BridgeKey, "br1"), "mixing", "br1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for !l.Up() {
		if time.Now().After(deadline) {
			t.Fatal("link never came up")
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if !failed.Load() || l.Connects() < 2 || len(adopted) != 1 || len(adopted[0]) != 1 || adopted[0][0] != "br1" {
		t.Fatalf("bridges refused once: %v; connects %d; adopted %v, want one hand-over of [br1] after a reconnect", failed.Load(), l.Connects(), adopted)
	}
}

// TestLinkDroppedAtEachConnectBacksOff: a websocket closed right after
// each connect (a proxy closing it, a write timing out in a long re-sync)
// is not reconnected, and every call re-synced, as fast as it drops: a
// link that was up less than the backoff's maximum keeps backing off.
func TestLinkDroppedAtEachConnectBacksOff(t *testing.T) {
	fake, err := aritest.New(aritest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	l, err := pbx.New(pbx.Options{URL: fake.URL(), User: "toritsugi", Password: "toritsugi", App: "toritsugi",
		Backoff: pbx.Backoff{Min: 5 * time.Millisecond, Max: 200 * time.Millisecond}}, pbx.NewDispatcher(pbx.Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	stop := time.Now().Add(time.Second)
	for time.Now().Before(stop) {
		if l.Up() {
			fake.DropWebSockets()
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	// Backing off: 5, 10, 20, 40, 80, 160, then 200 ms (each jittered
	// down to half) fit about a dozen connects in a second; starting over
	// at 5 ms after each, a hundred or more.
	if n := l.Connects(); n < 3 || n > 20 {
		t.Fatalf("%d connects in a second of a link dropped at each connect, want a backed-off handful", n)
	}
}

// TestResyncReadsEveryChannelInOneRequest: after a reconnect the re-sync
// reads the application's channels with one GET /channels, not a GET
// /channels/{id} each (one after another, the link down meanwhile: 30 s
// for 300 calls on an Asterisk answering in 100 ms). Only the
// application's channels are live or adopted (not a channel the
// dialplan keeps in app_queue), each with the data, and key, a GET of
// its own gives.
func TestResyncReadsEveryChannelInOneRequest(t *testing.T) {
	fake, err := aritest.New(aritest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	adopted := make(chan []*ari.ChannelData, 4)
	d := pbx.NewDispatcher(pbx.Hooks{Adopt: func(orphans []*ari.ChannelData, _ []*ari.BridgeData) { adopted <- orphans }}, nil)
	l, err := pbx.New(pbx.Options{URL: fake.URL(), User: "toritsugi", Password: "toritsugi", App: "toritsugi",
		Backoff: pbx.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}}, d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if got := <-adopted; len(got) != 0 {
		t.Fatalf("first connect adopted %d channels, want none", len(got))
	}
	var ours []string
	for range 3 {
		id, err := fake.IncomingCall("0312345678", "0901234567")
		if err != nil {
			t.Fatal(err)
		}
		ours = append(ours, id)
	}
	queued, err := fake.IncomingCall("q0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	before := len(fake.Requests())
	fake.DropWebSockets()
	var got []*ari.ChannelData
	select {
	case got = <-adopted:
	case <-time.After(5 * time.Second):
		t.Fatal("no re-sync after the websocket dropped")
	}
	lists := 0
	for _, r := range fake.Requests()[before:] {
		switch {
		case r.Method == http.MethodGet && r.Path == "/channels":
			lists++
		case r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/channels/"):
			t.Errorf("re-sync sent GET %s: want the channels read with one GET /channels", r.Path)
		}
	}
	if lists != 1 {
		t.Errorf("re-sync sent %d GET /channels, want 1", lists)
	}
	var ids []string
	for _, ch := range got {
		ids = append(ids, ch.ID)
		want, err := l.Client().Channel().Data(ari.NewKey(ari.ChannelKey, ch.ID))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ch, want) {
			t.Errorf("adopted %+v\nwant as GET /channels/%s gives %+v", ch, ch.ID, want)
		}
	}
	slices.Sort(ids)
	slices.Sort(ours)
	if !slices.Equal(ids, ours) {
		t.Fatalf("adopted %v, want the application's %v (not %s, in app_queue)", ids, ours, queued)
	}
}
