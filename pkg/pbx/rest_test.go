package pbx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
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

	// A request written and left unanswered is not NotSent; one still
	// waiting for the pool's only connection when its time is up is.
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	defer close(release)
	tr := newRESTTransport(100 * time.Millisecond)
	tr.client.MaxConnsPerHost = 1
	cl := &http.Client{Transport: tr}
	written := make(chan error, 1)
	go func() {
		_, err := cl.Post(srv.URL+"/ari/channels/c1/answer", "application/json", nil)
		written <- err
	}()
	<-arrived
	if _, err := cl.Post(srv.URL+"/ari/channels/c2/answer", "application/json", nil); !NotSent(err) {
		t.Fatalf("waiting for a connection: %v, want NotSent", err)
	}
	err = <-written
	if err == nil || NotSent(err) {
		t.Fatalf("written, no answer: %v, NotSent %v", err, NotSent(err))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("written, no answer: %v, want the deadline in the chain", err)
	}
}

// TestRESTTransportCarriesRequestAndResponse: method, path, query, headers
// and body reach the server as sent; status, reason, Content-Type and body
// come back.
func TestRESTTransportCarriesRequestAndResponse(t *testing.T) {
	type seen struct {
		method, uri, auth, ctype, body string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"message":"Channel not in Stasis application"}`))
	}))
	defer srv.Close()
	cl := &http.Client{Transport: newRESTTransport(time.Second)}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/ari/bridges/br%2F1/addChannel?role=x%20y", strings.NewReader(`{"channel":["a","b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("toritsugi", "secret")
	req.Header.Set("Content-Type", "application/json")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := seen{"POST", "/ari/bridges/br%2F1/addChannel?role=x%20y", "Basic dG9yaXRzdWdpOnNlY3JldA==", "application/json", `{"channel":["a","b"]}`}
	if s := <-got; s != want {
		t.Fatalf("server saw %+v, want %+v", s, want)
	}
	if resp.StatusCode != 422 || resp.Status != "422 Unprocessable Entity" || resp.Header.Get("Content-Type") != "application/json" ||
		string(body) != `{"message":"Channel not in Stasis application"}` {
		t.Fatalf("response %d %q %v %q", resp.StatusCode, resp.Status, resp.Header, body)
	}
}

// TestRESTOverIPv6: an ARI URL with an IPv6 address goes to net's dialer
// (fasthttp's own looks for an IPv4 address only and fails with a DNS
// error, not a dial's) and reaches a server on [::1]. That needs an IPv6
// loopback: a machine without one fails here unless TORITSUGI_NO_IPV6=1
// says so, so that no run skips it unnoticed.
func TestRESTOverIPv6(t *testing.T) {
	// Nothing listens there (or IPv6 is off): refused, unreachable or
	// unassignable, in every case a dial that failed, so not sent.
	closed, err := New(Options{URL: "http://[::1]:1/ari", User: "u", App: "toritsugi", RequestTimeout: time.Second}, NewDispatcher(Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Client().Channel().Answer(ari.NewKey(ari.ChannelKey, "c1")); !NotSent(err) {
		t.Fatalf("answer to [::1]:1: %v, want a failed dial (NotSent)", err)
	}

	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		if os.Getenv("TORITSUGI_NO_IPV6") == "1" {
			t.Skipf("no IPv6 loopback, as TORITSUGI_NO_IPV6=1 says: %v", err)
		}
		t.Fatalf("no IPv6 loopback on this machine (%v); set TORITSUGI_NO_IPV6=1 to run without this test", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	l, err := New(Options{URL: srv.URL + "/ari", User: "u", App: "toritsugi", RequestTimeout: time.Second}, NewDispatcher(Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Client().Channel().Answer(ari.NewKey(ari.ChannelKey, "c1")); err != nil {
		t.Fatalf("answer over %s: %v", srv.URL, err)
	}
}
