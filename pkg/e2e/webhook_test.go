//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay"
)

// delivery is one webhook request as received and checked.
type delivery struct {
	msg relay.Message
	err error // signature or decoding failure
}

// startWebhook serves the relay destination on 127.0.0.1:0. Every request
// is checked against secret and reported on the returned channel.
func startWebhook(t *testing.T, secret string) (string, <-chan delivery) {
	t.Helper()
	got := make(chan delivery, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := receive(r, secret)
		select {
		case got <- d:
		default:
		}
		if d.err != nil {
			http.Error(w, d.err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hook", got
}

func receive(r *http.Request, secret string) delivery {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return delivery{err: fmt.Errorf("read body: %w", err)}
	}
	if err := relay.VerifySignature(secret, r.Header.Get(relay.HeaderTimestamp), body, r.Header.Get(relay.HeaderSignature), time.Now(), 5*time.Minute); err != nil {
		return delivery{err: err}
	}
	var m relay.Message
	if err := json.Unmarshal(body, &m); err != nil {
		return delivery{err: fmt.Errorf("decode message: %w", err)}
	}
	return delivery{msg: m}
}
