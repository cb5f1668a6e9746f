package pbx

import (
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/CyCoreSystems/ari/v6"
	"golang.org/x/net/websocket"
)

// TestReadDropsDisallowedEvents: events of a disallowed type that arrive
// anyway (before the filter is set, or from an Asterisk without filters)
// never reach the dispatcher; the others arrive in order.
func TestReadDropsDisallowedEvents(t *testing.T) {
	msgs := []string{
		`{"type":"StasisStart","timestamp":"2026-11-28T20:33:58.792+0000","args":["inbound"],"channel":{"id":"c1","name":"PJSIP/trunk-1","state":"Ring","protocol_id":"","caller":{"name":"","number":"1"},"connected":{"name":"","number":""},"accountcode":"","dialplan":{"context":"from-trunk","exten":"1","priority":1,"app_name":"Stasis","app_data":"toritsugi"},"creationtime":"2026-11-28T20:33:58.790+0000","language":"ja"},"asterisk_id":"x","application":"toritsugi"}`,
		`{"variable":"BRIDGEPEER","value":"x","type":"ChannelVarset","timestamp":"2026-11-28T20:33:58.792+0000","channel":{"id":"c1"},"asterisk_id":"x","application":"toritsugi"}`,
		`{"type":"Dial","timestamp":"2026-11-28T20:33:58.792+0000","dialstatus":"RINGING","peer":{"id":"c1"},"asterisk_id":"x","application":"toritsugi"}`,
		`{"type":"StasisEnd","timestamp":"2026-11-28T20:33:59.792+0000","channel":{"id":"c1","name":"PJSIP/trunk-1","state":"Up","protocol_id":"","caller":{"name":"","number":"1"},"connected":{"name":"","number":""},"accountcode":"","dialplan":{"context":"from-trunk","exten":"1","priority":1,"app_name":"Stasis","app_data":"toritsugi"},"creationtime":"2026-11-28T20:33:58.790+0000","language":"ja"},"asterisk_id":"x","application":"toritsugi"}`,
	}
	srv := httptest.NewServer(websocket.Handler(func(c *websocket.Conn) {
		for _, m := range msgs {
			if err := websocket.Message.Send(c, m); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	var got []string
	d := NewDispatcher(Hooks{Other: func(e ari.Event) { got = append(got, e.GetType()) }}, nil)
	l, err := New(Options{URL: srv.URL, User: "u", App: "toritsugi", DisallowedEvents: []string{"ChannelVarset", "Dial"}}, d)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := websocket.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), "", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var frames atomic.Uint64
	_ = l.read(conn, &frames) // ends when the server closes the connection
	if strings.Join(got, ",") != "StasisStart,StasisEnd" {
		t.Fatalf("dispatched %v, want StasisStart,StasisEnd", got)
	}
	// A dropped event is a sign of life all the same (the pinger's).
	if n := frames.Load(); n != uint64(len(msgs)) {
		t.Fatalf("%d frames counted, want %d", n, len(msgs))
	}
}
