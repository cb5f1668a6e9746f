package pbx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestRESTBodyLength: the transport sends what net/http's would for
// a body whose length is unknown (ContentLength 0, non-nil Body) or
// disagrees with ContentLength.
func TestRESTBodyLength(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	tr := newRESTTransport(time.Second)
	const body = `{"variable":"X","value":"y"}`
	for _, tc := range []struct {
		name    string
		rd      io.Reader
		length  int64 // -2: as NewRequest sets it
		wantErr bool
	}{
		{"unknown length, plain reader", iotest.OneByteReader(strings.NewReader(body)), -2, false},
		{"WriterTo, ContentLength short", strings.NewReader(body), 5, true},
		{"WriterTo, ContentLength long", strings.NewReader(body), int64(len(body)) + 5, true},
		{"plain reader, ContentLength long", iotest.OneByteReader(strings.NewReader(body)), int64(len(body)) + 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, srv.URL+"/ari/channels/c/variable", tc.rd)
			if tc.length != -2 {
				r.ContentLength = tc.length
			}
			resp, err := tr.RoundTrip(r)
			if err != nil {
				if !tc.wantErr {
					t.Fatalf("error %v", err)
				}
				return
			}
			resp.Body.Close()
			sent := <-got
			if tc.wantErr {
				t.Errorf("ContentLength %d, body of %d: sent %q (net/http refuses the request)", r.ContentLength, len(body), sent)
			} else if sent != body {
				t.Errorf("sent %q, want %q", sent, body)
			}
		})
	}
}
