package controller_test

import (
	"bytes"
	"io"
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

// staysOnLine: the softphone answers after 1 s and hangs up 200 s (2 s of
// test time) later, so that the bridge's retries (wall-clock time) find
// the operator still on the line.
var staysOnLine = aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 200 * time.Second}

// isBridgeCreate picks toritsugi's POST /bridges/{id} (not an add, the
// recording or the bridge's music on hold).
func isBridgeCreate(method, path string) bool {
	rest, ok := strings.CutPrefix(path, "/bridges/")
	return method == http.MethodPost && ok && !strings.Contains(rest, "/")
}

// TestBridgeCreateRefusedOnceIsSentAgain: the caller waited, op1001
// answered, and Asterisk refuses the bridge's create 503 once (a spike).
// The create (our own bridge id) is sent again, and the caller is put
// through: neither they nor the operator are hung up.
func TestBridgeCreateRefusedOnceIsSentAgain(t *testing.T) {
	h := newHarness(t, oneClient)
	var failed atomic.Bool
	h.failThroughWith(http.StatusServiceUnavailable, func(r *http.Request) bool {
		return isBridgeCreate(r.Method, strings.TrimPrefix(r.URL.Path, "/ari")) && failed.CompareAndSwap(false, true)
	})
	h.startOp1001(staysOnLine)
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if n := h.ringsOf("op1001"); n != 1 {
		t.Fatalf("op1001 rung %d times, want once (put through on the first answer); requests:\n%s", n, h.requests())
	}
	if !failed.Load() || rec.Result != store.ResultAnswered {
		t.Fatalf("bridge create refused 503 once (refused: %v): record %s (%q), want the caller put through to op1001", failed.Load(), rec.Result, rec.Reason)
	}
}

// TestBridgeCreateAnsweredLateIsFound: Asterisk makes the bridge but
// answers its create past the request timeout. Sent again, the create is
// refused (the bridge exists: Asterisk answers 500, the fake too); the
// bridge is found there and used, and the caller is put through.
func TestBridgeCreateAnsweredLateIsFound(t *testing.T) {
	var slowed atomic.Bool
	h := newHarnessFake(t, oneClient, aritest.Options{OnRequest: func(r aritest.ReceivedRequest) {
		if isBridgeCreate(r.Method, r.Path) && slowed.CompareAndSwap(false, true) {
			time.Sleep(400 * time.Millisecond) // the fake makes the bridge after this
		}
	}})
	h.cfg.ARI.RequestTimeout = 300 * time.Millisecond
	h.startOp1001(staysOnLine)
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if n := h.ringsOf("op1001"); n != 1 {
		t.Fatalf("op1001 rung %d times, want once (put through on the first answer); requests:\n%s", n, h.requests())
	}
	if !slowed.Load() || rec.Result != store.ResultAnswered {
		t.Fatalf("bridge create answered 100 ms past the request timeout (slowed: %v): record %s (%q), want the caller put through to op1001; requests:\n%s", slowed.Load(), rec.Result, rec.Reason, h.requests())
	}
	creates := 0
	for _, r := range h.fake.Requests() {
		if isBridgeCreate(r.Method, r.Path) {
			creates++
		}
	}
	if creates != 2 {
		t.Fatalf("%d creates, want the late one and one more; requests:\n%s", creates, h.requests())
	}
}

// TestOperatorAddRefusedOnceIsSentAgain: the adds of the operator's leg
// to the bridge (with the caller's in one request, then its own) are
// refused 503 once each. The operator's is sent again (Asterisk added
// nothing), and the caller is put through rather than sent back in line
// and the operator hung up.
func TestOperatorAddRefusedOnceIsSentAgain(t *testing.T) {
	h := newHarness(t, oneClient)
	var refused atomic.Int32
	h.failThroughWith(http.StatusServiceUnavailable, func(r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/addChannel") {
			return false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body)) // passed on as it came
		return strings.Contains(r.URL.RawQuery+string(body), "op1001") && refused.Add(1) <= 2
	})
	h.startOp1001(staysOnLine)
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if n := h.ringsOf("op1001"); n != 1 {
		t.Fatalf("op1001 rung %d times, want once (put through on the first answer); requests:\n%s", n, h.requests())
	}
	if refused.Load() < 2 || rec.Result != store.ResultAnswered {
		t.Fatalf("operator's adds refused 503 once each (%d refused): record %s (%q), want the caller put through to op1001; requests:\n%s", refused.Load(), rec.Result, rec.Reason, h.requests())
	}
}

// TestSlowOriginateLeavesNoGhostRing: Asterisk takes the originate to
// op1001 a little past the request timeout (it does create and ring the
// leg). The call's one hang-up came before the channel existed (404,
// ignored), and the queue, told the ring was not sent, rang op1001 again
// a second later while the first leg still rang: two calls ringing on one
// operator's phone, the first for the whole ring timeout (a review). The
// late leg is hung up once it appears.
func TestSlowOriginateLeavesNoGhostRing(t *testing.T) {
	var slowed atomic.Bool
	h := newHarnessFake(t, strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 300s", 1), aritest.Options{OnRequest: func(r aritest.ReceivedRequest) {
		if r.Method == http.MethodPost && r.Path == "/channels" && (strings.Contains(r.Body, "op1001") || strings.Contains(r.Query, "op1001")) && slowed.CompareAndSwap(false, true) {
			time.Sleep(400 * time.Millisecond) // the fake creates the leg after this
		}
	}})
	h.cfg.ARI.RequestTimeout = 300 * time.Millisecond
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.call("0312345678", "0901234567")
	deadline := time.Now().Add(2500 * time.Millisecond)
	most := 0
	for time.Now().Before(deadline) {
		n := 0
		for _, c := range h.fake.Channels() {
			if strings.HasPrefix(c.Name, "PJSIP/op1001-") {
				n++
			}
		}
		most = max(most, n)
		time.Sleep(5 * time.Millisecond)
	}
	if !slowed.Load() {
		t.Fatal("no originate slowed")
	}
	if most > 1 {
		t.Fatalf("op1001's phone carried %d ringing legs at once after one slow originate; requests:\n%s", most, h.requests())
	}
}

// TestOperatorAddAnsweredLateIsFound: the add of both to the bridge is
// refused 503, and the operator's own add, sent then, is made by Asterisk
// but answered past the request timeout. The operator was taken for lost:
// hung up, and the caller sent back in line. The next try finds the
// operator in the bridge, and the caller is put through.
func TestOperatorAddAnsweredLateIsFound(t *testing.T) {
	var slowed atomic.Bool
	h := newHarnessFake(t, oneClient, aritest.Options{OnRequest: func(r aritest.ReceivedRequest) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/addChannel") && strings.Contains(r.Query+r.Body, "op1001") &&
			!strings.Contains(r.Body, "[") && slowed.CompareAndSwap(false, true) {
			time.Sleep(400 * time.Millisecond) // the fake adds the operator after this
		}
	}})
	h.cfg.ARI.RequestTimeout = 300 * time.Millisecond
	var refused atomic.Bool
	h.failThroughWith(http.StatusServiceUnavailable, func(r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/addChannel") {
			return false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		return strings.Contains(string(body), "[") && refused.CompareAndSwap(false, true)
	})
	h.startOp1001(staysOnLine)
	id := h.call("0312345678", "0901234567")
	rec := h.record(id)
	if !slowed.Load() || rec.Result != store.ResultAnswered || h.ringsOf("op1001") != 1 {
		t.Fatalf("operator's add answered late (slowed %v): record %s (%q), op1001 rung %d times; want put through on the first answer; requests:\n%s",
			slowed.Load(), rec.Result, rec.Reason, h.ringsOf("op1001"), h.requests())
	}
}

// TestVIPHoldMusicRefusedOnceIsAskedAgain: a VIP holds while the client's
// phone is called; the music on hold is refused once (503). It was asked
// for again only for callers in line, and the VIP held in silence for the
// whole transfer (a review of the retries). It is asked for again.
func TestVIPHoldMusicRefusedOnceIsAskedAgain(t *testing.T) {
	h := newHarness(t, strings.Replace(vipClient, "transfer_timeout: 5s", "transfer_timeout: 120s", 1))
	var failed atomic.Bool
	h.failThroughWith(http.StatusServiceUnavailable, func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/moh") && failed.CompareAndSwap(false, true)
	})
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.SetRemoteNumber("0399990000", aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.start()
	vip := h.call("0312345678", "09011111111")
	h.eventually("the MOH request refused", failed.Load)
	h.eventuallyWithin(1000*time.Millisecond, "the VIP hearing music on hold while the client's phone rings", func() bool {
		ch, ok := h.fake.Channel(vip)
		return ok && ch.MOHClass != "" && len(h.originates()) == 1
	})
}
