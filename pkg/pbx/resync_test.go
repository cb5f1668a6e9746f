package pbx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
