package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"healthcheck", "--url", srv.URL + "/healthz"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), `"ok"`) {
		t.Fatalf("healthy: %v, %q", err, out.String())
	}
	status = http.StatusServiceUnavailable
	if err := run(t.Context(), []string{"healthcheck", "--url", srv.URL + "/healthz"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("degraded: %v, want an error naming the 503", err)
	}
	srv.Close()
	if err := run(t.Context(), []string{"healthcheck", "--url", srv.URL + "/healthz"}, io.Discard, io.Discard); err == nil {
		t.Fatal("nothing listening: no error")
	}
}
