package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/toritsugi/toritsugi/pkg/syncbuf"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/relay"
)

// startService loads the config at path and serves it on 127.0.0.1:0 until
// the test ends; it returns the base URL. The log is printed if the test
// fails.
func startService(t *testing.T, path string, opts serviceOptions) string {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	var logs syncbuf.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log:\n%s", logs.String())
		}
	})
	svc, err := newService(cfg, path, newLogger(&logs, "debug"), opts)
	if err != nil {
		t.Fatalf("newService: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		svc.close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.run(ctx, ln, make(chan os.Signal)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v after shutdown", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("service did not stop")
		}
		svc.close()
	})
	base := "http://" + ln.Addr().String()
	waitHTTP(t, base+"/healthz", http.StatusOK)
	return base
}

// webhookDelivery is one request the test webhook received: the message
// when its signature verified, the error otherwise.
type webhookDelivery struct {
	msg relay.Message
	err error
}

// startWebhook serves a webhook receiver on 127.0.0.1 that checks each
// request's HMAC signature with relay.VerifySignature (answering 401 when
// it does not verify) and reports every request on the returned channel.
func startWebhook(t *testing.T, secret string) (url string, got <-chan webhookDelivery) {
	t.Helper()
	ch := make(chan webhookDelivery, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := receiveWebhook(r, secret)
		select {
		case ch <- d:
		default: // the test has what it needs
		}
		if d.err != nil {
			http.Error(w, d.err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/toritsugi", ch
}

func receiveWebhook(r *http.Request, secret string) webhookDelivery {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		return webhookDelivery{err: fmt.Errorf("got %s with Content-Type %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return webhookDelivery{err: fmt.Errorf("read body: %w", err)}
	}
	err = relay.VerifySignature(secret, r.Header.Get(relay.HeaderTimestamp), body,
		r.Header.Get(relay.HeaderSignature), time.Now(), 5*time.Minute)
	if err != nil {
		return webhookDelivery{err: fmt.Errorf("signature: %w", err)}
	}
	var m relay.Message
	if err := json.Unmarshal(body, &m); err != nil {
		return webhookDelivery{err: fmt.Errorf("decode %s: %w", body, err)}
	}
	return webhookDelivery{msg: m}
}

// copyFile copies src to dst, creating dst's directory.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
