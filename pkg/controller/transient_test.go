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

// TestMOHRefusedOnceIsAskedAgain: the caller's music on hold is refused
// once (503) while no operator is free. It is asked for again, instead of
// the caller waiting in silence until max_wait.
func TestMOHRefusedOnceIsAskedAgain(t *testing.T) {
	h := newHarness(t, oneClient)
	var failed atomic.Bool
	h.failThroughWith(http.StatusServiceUnavailable, func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/moh") && failed.CompareAndSwap(false, true)
	})
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.start()
	id := h.call("0312345678", "0901234567")
	h.eventually("the MOH request refused", failed.Load)
	// 1.5 s: 150 s in Asterisk time of waiting in line.
	h.eventuallyWithin(1500*time.Millisecond, "the waiting caller hearing music on hold after it was refused once", func() bool {
		ch, ok := h.fake.Channel(id)
		return ok && ch.MOHClass != ""
	})
}

// TestRingbackRefusedOnceIsAskedAgain: ringback mode; the caller's POST
// /ring is refused once (503). It is asked for again, instead of the
// unanswered caller hearing dead air until ringback_max.
func TestRingbackRefusedOnceIsAskedAgain(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "    record: true\n", "    record: true\n    answer_mode: ringback\n    ringback_max: 60s\n", 1))
	var failed atomic.Bool
	h.failThroughWith(http.StatusServiceUnavailable, func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/ring") && failed.CompareAndSwap(false, true)
	})
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.start()
	id := h.call("0312345678", "0901234567")
	h.eventually("the ring request refused", failed.Load)
	time.Sleep(300 * time.Millisecond) // 30 s in Asterisk time
	n := 0
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodPost && r.Path == "/channels/"+id+"/ring" && r.Status/100 == 2 {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("ringback refused once: the unanswered caller hears nothing for 30 s (Asterisk time); requests:\n%s", h.requests())
	}
}
