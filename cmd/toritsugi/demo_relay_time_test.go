package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay"
)

// TestDemoOutboxTime: the demo's outbox page says when each message was
// "delivered"; the message body beside it says 受付日時 in Japan time,
// so the page's time must be Japan time too.
func TestDemoOutboxTime(t *testing.T) {
	d := &demoRelay{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := d.senders()["slack"].Send(context.Background(), relay.Destination{Name: "x"}, relay.Message{ID: "m", Subject: "s"}); err != nil {
		t.Fatal(err)
	}
	d.sent[0].At = time.Date(2026, 1, 4, 15, 30, 0, 0, time.UTC) // 2026-01-05 00:30 JST, as time.Now gives it in a container
	w := httptest.NewRecorder()
	d.ServeHTTP(w, httptest.NewRequest("GET", "/demo/outbox", nil))
	if !strings.Contains(w.Body.String(), "<p>00:30:00 → x") {
		t.Fatalf("outbox page does not show 00:30:00 (Japan time): %s", w.Body.String())
	}
}
