package aritest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// evClient is one events websocket of a replay, collecting what it gets.
type evClient struct {
	conn *websocket.Conn
	mu   sync.Mutex
	evs  []string
	done chan struct{}
	note chan struct{}
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// textOnly reads a message and refuses any but a text frame: Asterisk
// sends its events as text.
var textOnly = websocket.Codec{Unmarshal: func(data []byte, payloadType byte, v any) error {
	if payloadType != websocket.TextFrame {
		return fmt.Errorf("event in a frame of type %d, want text (%d)", payloadType, websocket.TextFrame)
	}
	*v.(*string) = string(data)
	return nil
}}

func dialEvents(t *testing.T, s *Server, rawQuery, auth string) *evClient {
	t.Helper()
	cfg, err := websocket.NewConfig(s.WebsocketURL()+"?"+rawQuery, "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Header.Set("Authorization", auth)
	conn, err := websocket.DialConfig(cfg)
	if err != nil {
		t.Fatalf("websocket dial: %v", err)
	}
	c := &evClient{conn: conn, done: make(chan struct{}), note: make(chan struct{}, 1)}
	go func() {
		defer close(c.done)
		for {
			var msg string
			if err := textOnly.Receive(conn, &msg); err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					t.Errorf("events websocket: %v", err)
				}
				return
			}
			c.mu.Lock()
			c.evs = append(c.evs, msg)
			c.mu.Unlock()
			select {
			case c.note <- struct{}{}:
			default:
			}
		}
	}()
	return c
}

func (c *evClient) events() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.evs...)
}

// waitCount waits until n events arrived or the deadline passes.
func (c *evClient) waitCount(n int, d time.Duration) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		have := len(c.evs)
		c.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-c.note:
		case <-c.done:
			return
		case <-deadline.C:
			return
		}
	}
}

func (c *evClient) close() {
	_ = c.conn.Close()
	<-c.done
}

// doRequest sends one REST request like the native client does.
func doRequest(t *testing.T, s *Server, method, path string, query url.Values, body []byte, auth string) (*http.Response, []byte) {
	t.Helper()
	u := s.URL() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}
