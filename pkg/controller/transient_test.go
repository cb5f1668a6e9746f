package controller_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// One transient Asterisk failure (a 503 from a spike, a request answered
// past ari.request_timeout) must not become something the caller hears:
// hung up, or left in silence.

// TestSlowAnswerDoesNotHangUpCaller: Asterisk, busy, answers one caller's
// POST /answer just past the request timeout (it did answer the channel).
// The answer is sent again (answering a channel that is up is harmless)
// and the caller is put through, not hung up as a failed call.
func TestSlowAnswerDoesNotHangUpCaller(t *testing.T) {
	var slowed atomic.Bool
	h := newHarnessFake(t, oneClient, aritest.Options{OnRequest: func(r aritest.ReceivedRequest) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/answer") && slowed.CompareAndSwap(false, true) {
			time.Sleep(400 * time.Millisecond) // the fake answers the channel after this
		}
	}})
	h.cfg.ARI.RequestTimeout = 300 * time.Millisecond
	h.startOp1001(answers)
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if rec.Result != store.ResultAnswered {
		t.Fatalf("one answer 100 ms past the request timeout: record %s (%q), want the caller put through to op1001", rec.Result, rec.Reason)
	}
}
