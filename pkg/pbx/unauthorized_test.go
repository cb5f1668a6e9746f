package pbx_test

import (
	"context"
	"github.com/toritsugi/toritsugi/pkg/syncbuf"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// TestWrongARIPasswordIsSaid: a wrong ARI password, the usual first
// mistake, was logged as a websocket's "bad status" and, for REST calls,
// as a body that could not be decoded. The link now says, at error level,
// that Asterisk refused the user and what to check; REST calls fail with
// ErrUnauthorized.
func TestWrongARIPasswordIsSaid(t *testing.T) {
	fake, err := aritest.New(aritest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	l, err := pbx.New(pbx.Options{URL: fake.URL(), User: "toritsugi", Password: "wrong", App: "toritsugi", Logger: log}, pbx.NewDispatcher(pbx.Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Client().Channel().Data(ari.NewKey(ari.ChannelKey, "x"))
	if !pbx.Unauthorized(err) || !strings.Contains(err.Error(), "check ari.user and ari.password") {
		t.Fatalf("a REST call with a wrong password: %v; want ErrUnauthorized saying what to check", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		out := logs.String()
		if strings.Contains(out, "level=ERROR") && strings.Contains(out, "ARI link down") && strings.Contains(out, "check ari.user and ari.password") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the link's log does not say the user was refused:\n%s", out)
		}
	}
}

// TestReadOnlyARIUserIsSaid: a user with read_only = yes gets 403 for a
// change: the error says so.
func TestReadOnlyARIUserIsSaid(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"message":"Forbidden"}`))
	}))
	defer srv.Close()
	l, err := pbx.New(pbx.Options{URL: srv.URL + "/ari", User: "u", App: "toritsugi"}, pbx.NewDispatcher(pbx.Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	err = l.Client().Channel().Hangup(ari.NewKey(ari.ChannelKey, "c"), "normal")
	if !pbx.Unauthorized(err) || !strings.Contains(err.Error(), "read_only = no") {
		t.Fatalf("a change by a read-only user: %v; want ErrUnauthorized saying read_only", err)
	}
	// Refused, with its status: nothing ran (not a request whose fate is
	// unknown, which status 0 means to the calls).
	if code := pbx.StatusCode(err); code != http.StatusForbidden {
		t.Fatalf("StatusCode = %d, want 403", code)
	}
}
