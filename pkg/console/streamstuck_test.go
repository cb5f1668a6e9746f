package console_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestEndStreamsCutsAStreamStuckWriting: a browser that stopped reading
// its event stream (its TCP buffer full) holds the stream in a write. At
// a stop the console's streams are ended, and the HTTP server's Shutdown
// returns at once, not after its grace (5 s in serve): the stuck write is
// cut.
//
// Before the cut, the stream saw its end only between writes, and
// Shutdown waited out its whole context here (5 s).
func TestEndStreamsCutsAStreamStuckWriting(t *testing.T) {
	const grace, bound = 5 * time.Second, 2 * time.Second
	e := newEnv(t)
	u := e.login("op-a")
	srvURL, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var cookies []string
	for _, c := range u.hc.Jar.Cookies(srvURL) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	conn, err := net.Dial("tcp", srvURL.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A small receive buffer: the browser's side holds little.
	if err := conn.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "GET /api/v1/console/events HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nAccept: text/event-stream\r\n\r\n",
		srvURL.Host, strings.Join(cookies, "; ")); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(conn)
	status, err := rd.ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		t.Fatalf("event stream: %q %v", status, err)
	}
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream before hello: %v", err)
		}
		if strings.HasPrefix(line, "event: hello") {
			break
		}
	}
	// From here on the browser reads nothing. A pop far larger than the
	// sockets' buffers (the server's grows to 4 MB) holds the stream in
	// its write.
	p := pop("c1", "op-a")
	p.Manual = strings.Repeat("x", 12<<20)
	e.c.Pop(p)
	time.Sleep(300 * time.Millisecond) // the write fills the buffers and blocks

	began := time.Now()
	e.c.EndStreams()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = e.srv.Config.Shutdown(ctx)
	took := time.Since(began)
	t.Logf("Shutdown returned in %v (%v)", took, err)
	if err != nil || took >= bound {
		t.Fatalf("Shutdown with a stream stuck writing to a browser that stopped reading: %v after %v, want nil within %v", err, took, bound)
	}
}
