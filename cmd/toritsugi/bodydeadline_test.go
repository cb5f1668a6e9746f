package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestBodyDeadline: a client that sends its request body a byte at a time
// is cut off at the deadline (its handler's read fails and the connection
// closes); an event stream (GET) is not held to it.
func TestBodyDeadline(t *testing.T) {
	readErr := make(chan error, 1)
	h := bodyDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			time.Sleep(300 * time.Millisecond) // longer than the deadline
			_, _ = io.WriteString(w, "still here")
			return
		}
		_, err := io.ReadAll(r.Body)
		readErr <- err
	}), 100*time.Millisecond)
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/api/v1/console/events")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "still here" {
		t.Fatalf("GET past the body deadline: %q", body)
	}

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
	stop := time.After(5 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-readErr:
			if err == nil {
				t.Fatal("the dribbled body was read whole")
			}
			// The server answers or closes; either way the connection ends.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = bufio.NewReader(conn).ReadString(0)
			return
		case <-tick.C:
			_, _ = conn.Write([]byte("a"))
		case <-stop:
			t.Fatal("a body sent a byte every 20 ms was still being read after 5 s")
		}
	}
}

// TestBodyDeadlineGETWithABody: a GET that announces a body and never
// sends it held its connection for ever: the server reads an announced
// body before it answers, and a GET had no deadline. It is cut off too.
func TestBodyDeadlineGETWithABody(t *testing.T) {
	h := bodyDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "page")
	}), 100*time.Millisecond)
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn) // ends when the server closes the connection
	if err != nil {
		t.Fatalf("the connection was still open after %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
}
