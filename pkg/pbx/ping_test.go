package pbx_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/syncbuf"
)

// pingAnswer is how the front of pingLink answers the n-th GET
// /asterisk/ping (from 1): as Asterisk (pass), late, or 503.
type pingAnswer int

const (
	pingPass pingAnswer = iota
	pingLate            // answered past the request timeout
	ping503
)

// pingLink is a link to a fake Asterisk through a front that answers the
// pings as answer says, and counts the link's drops.
type pingLink struct {
	fake  *aritest.Server
	link  *pbx.Link
	pings atomic.Int32
	downs atomic.Int32
	logs  syncbuf.Buffer
}

func newPingLink(t *testing.T, requestTimeout, pingInterval time.Duration, answer func(n int32) pingAnswer) *pingLink {
	t.Helper()
	fake, err := aritest.New(aritest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	p := &pingLink{fake: fake}
	target, _ := url.Parse(fake.URL())
	target.Path = ""
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ari/asterisk/ping" {
			switch answer(p.pings.Add(1)) {
			case pingLate:
				time.Sleep(requestTimeout + requestTimeout/2)
			case ping503:
				http.Error(w, `{"message":"Service Unavailable"}`, http.StatusServiceUnavailable)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	p.link, err = pbx.New(pbx.Options{URL: front.URL + "/ari", User: "toritsugi", Password: "toritsugi", App: "toritsugi",
		RequestTimeout: requestTimeout, PingInterval: pingInterval,
		OnState: func(up bool) {
			if !up {
				p.downs.Add(1)
			}
		},
		Logger:  slog.New(slog.NewTextHandler(&p.logs, nil)),
		Backoff: pbx.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}}, pbx.NewDispatcher(pbx.Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.link.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(5 * time.Second); !p.link.Up(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("link never came up")
		}
	}
	return p
}

// raiseEvents has the fake raise events (a call in and out every few
// milliseconds) until the test ends: a websocket that delivers.
func (p *pingLink) raiseEvents(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if id, err := p.fake.IncomingCall("0312345678", "0901234567"); err == nil {
				_ = p.fake.RemoteHangup(id)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
}

// TestOneSlowPingKeepsTheEventLink: Asterisk, busy (a spike), answers one
// ping past the request timeout, or 503. The websocket was torn down for
// it: every event raised until the re-sync was lost, and the re-sync
// loaded the busy Asterisk with a request per call. A failed ping is now
// confirmed by another before the link is declared dead. (The link here
// is idle: nothing on the websocket says it lives; see
// TestFailingPingsKeepAnEventLinkThatDelivers for one that delivers.)
func TestOneSlowPingKeepsTheEventLink(t *testing.T) {
	for _, mode := range []pingAnswer{pingLate, ping503} {
		name := map[pingAnswer]string{pingLate: "late", ping503: "503"}[mode]
		t.Run(name, func(t *testing.T) {
			var hit atomic.Bool
			p := newPingLink(t, 200*time.Millisecond, 50*time.Millisecond, func(n int32) pingAnswer {
				if n == 2 {
					hit.Store(true)
					return mode
				}
				return pingPass
			})
			time.Sleep(800 * time.Millisecond)
			if !hit.Load() {
				t.Fatal("no ping was made to fail")
			}
			if n := p.link.Connects(); n != 1 || p.downs.Load() != 0 {
				t.Fatalf("one %s ping: the event websocket was dropped %d time(s), %d connects (want 0 drops, 1 connect): every event Asterisk raised until the re-sync is lost\n%s", name, p.downs.Load(), n, p.logs.String())
			}
		})
	}
}

// TestFailingPingsKeepAnEventLinkThatDelivers: two pings in a row fail
// (late, or 503) while the websocket keeps delivering events: the link
// is alive, Asterisk only slow to answer, and it is kept.
func TestFailingPingsKeepAnEventLinkThatDelivers(t *testing.T) {
	for _, mode := range []pingAnswer{pingLate, ping503} {
		name := map[pingAnswer]string{pingLate: "late", ping503: "503"}[mode]
		t.Run(name, func(t *testing.T) {
			var failed atomic.Int32
			p := newPingLink(t, 100*time.Millisecond, 50*time.Millisecond, func(n int32) pingAnswer {
				if n == 2 || n == 3 {
					failed.Add(1)
					return mode
				}
				return pingPass
			})
			p.raiseEvents(t)
			time.Sleep(800 * time.Millisecond)
			if failed.Load() != 2 {
				t.Fatalf("%d pings failed, want 2", failed.Load())
			}
			if n := p.link.Connects(); n != 1 || p.downs.Load() != 0 {
				t.Fatalf("two %s pings in a row, events flowing: the event websocket was dropped %d time(s), %d connects (want 0 drops, 1 connect)\n%s", name, p.downs.Load(), n, p.logs.String())
			}
		})
	}
}

// TestThreePingsFailingDropTheLink: three pings in a row fail: the link
// is dropped and connected again, even though its websocket still
// delivers events (an Asterisk that cannot answer a ping in three
// tries cannot answer the calls' commands either).
func TestThreePingsFailingDropTheLink(t *testing.T) {
	p := newPingLink(t, 100*time.Millisecond, 50*time.Millisecond, func(n int32) pingAnswer {
		if n >= 2 && n <= 4 {
			return ping503
		}
		return pingPass
	})
	p.raiseEvents(t)
	for deadline := time.Now().Add(5 * time.Second); p.downs.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("three pings in a row answered 503: the link was never dropped\n%s", p.logs.String())
		}
	}
	// The link reports itself down before it logs why: wait for the line.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.logs.String(), "ARI link down"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the link was dropped and never said why\n%s", p.logs.String())
		}
	}
	if out := p.logs.String(); !strings.Contains(out, "3 pings failed in a row") {
		t.Fatalf("the link was dropped, but not for three failed pings:\n%s", out)
	}
}

// TestSilentDeadLinkIsDetected: the pings stop being answered (late, or
// 503) and nothing arrives on the websocket (a half-open TCP connection,
// or an Asterisk that hangs): the link is declared dead within two
// request timeouts of the first failed ping (it and the one that
// confirms it, sent at once), not a ping interval or three later.
func TestSilentDeadLinkIsDetected(t *testing.T) {
	const requestTimeout, pingInterval = 50 * time.Millisecond, 500 * time.Millisecond
	for _, mode := range []pingAnswer{pingLate, ping503} {
		name := map[pingAnswer]string{pingLate: "late", ping503: "503"}[mode]
		t.Run(name, func(t *testing.T) {
			var began atomic.Pointer[time.Time]
			p := newPingLink(t, requestTimeout, pingInterval, func(n int32) pingAnswer {
				if n < 3 {
					return pingPass
				}
				now := time.Now()
				began.CompareAndSwap(nil, &now)
				return mode
			})
			for deadline := time.Now().Add(5 * time.Second); p.downs.Load() == 0; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("pings %s, websocket silent: the link was never declared dead\n%s", name, p.logs.String())
				}
			}
			if took, most := time.Since(*began.Load()), 2*requestTimeout+200*time.Millisecond; took > most {
				t.Fatalf("pings %s, websocket silent: the link was declared dead %v after the first failed ping, want within %v\n%s", name, took, most, p.logs.String())
			}
		})
	}
}
