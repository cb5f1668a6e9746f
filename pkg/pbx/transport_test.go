package pbx

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

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
