package pbx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// TestErrorResponsesKeepTheConnection: the ari library closes error
// responses without reading their bodies; the link's transport drains
// them so that the next request reuses the connection.
func TestErrorResponsesKeepTheConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Channel not found"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	l, err := New(Options{URL: srv.URL + "/ari", User: "u", App: "toritsugi"}, NewDispatcher(Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		err := l.Client().Channel().Hangup(ari.NewKey(ari.ChannelKey, "gone"), "normal")
		if !IsNotFound(err) {
			t.Fatalf("hangup: %v, want a 404", err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 requests used %d connections, want 1", n)
	}
}

// TestNotSentTellsUnsentRequests: a request that could not be written
// (nothing listens, or it waited for a pooled connection past its timeout)
// is NotSent; one written and left unanswered is not.
func TestNotSentTellsUnsentRequests(t *testing.T) {
	// Nothing listens: the dial fails before anything is written.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String() + "/ari"
	ln.Close()
	l, err := New(Options{URL: closedURL, User: "u", App: "toritsugi", RequestTimeout: time.Second}, NewDispatcher(Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Client().Channel().Answer(ari.NewKey(ari.ChannelKey, "c1")); !NotSent(err) {
		t.Fatalf("answer with nothing listening: %v, want NotSent", err)
	}

	// A request still waiting for a connection when its time is up was
	// never written; one written and then unanswered was.
	for _, tc := range []struct {
		name  string
		wrote bool
	}{{"waiting for a connection", false}, {"written, no answer", true}} {
		bt := boundedTransport{timeout: 50 * time.Millisecond, next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if tc.wrote {
				httptrace.ContextClientTrace(r.Context()).WroteRequest(httptrace.WroteRequestInfo{})
			}
			<-r.Context().Done()
			return nil, r.Context().Err()
		})}
		cl := &http.Client{Transport: bt}
		_, err := cl.Get("http://127.0.0.1:1/ari/channels")
		if err == nil || NotSent(err) == tc.wrote {
			t.Fatalf("%s: %v, NotSent %v", tc.name, err, NotSent(err))
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v, want the deadline in the chain", tc.name, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
