package controller_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
)

// TestResyncReadsTheChannelsInOneRequest: 60 callers wait in line; the
// event link drops once while Asterisk, busy, answers each GET of a
// channel in 15 ms. The re-sync read every channel (GET /channels/{id})
// one after another before any event was read again: the link stayed
// down 60×15 ms, every call frozen meanwhile (300 calls at 100 ms: 30 s),
// and one of those GETs failing started it all over. It now reads them
// all with one GET /channels.
func TestResyncReadsTheChannelsInOneRequest(t *testing.T) {
	var slow atomic.Bool
	var gets atomic.Int32
	h := newHarnessFake(t, oneClient, aritest.Options{OnRequest: func(r aritest.ReceivedRequest) {
		if slow.Load() && r.Method == "GET" && strings.HasPrefix(r.Path, "/channels/") {
			gets.Add(1)
			time.Sleep(15 * time.Millisecond)
		}
	}})
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	r := h.start()
	for i := range 60 {
		h.call("0312345678", "090123456"+string(rune('0'+i%10)))
	}
	h.eventually("60 waiting", func() bool { return len(h.waiting("acme")) == 60 })
	slow.Store(true)
	h.fake.DropWebSockets()
	h.eventually("link down", func() bool { return !r.c.Link.Up() })
	began := time.Now()
	h.eventually("link up", r.c.Link.Up)
	if down := time.Since(began); down > 300*time.Millisecond {
		t.Fatalf("re-sync of 60 calls took %v with the event link down (%d GET /channels/{id}, one after another); want one GET /channels", down, gets.Load())
	}
}
