package controller_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
)

// legWatch sits between the controller and the fake: it holds back the
// hang-up (DELETE) of op's legs by hold, as a busy Asterisk or a slow
// network does, and notes every originate to op made while an earlier
// leg of op was still up. A phone without call waiting refuses such a
// ring (486), a no-answer the operator never earned.
type legWatch struct {
	h    *harness
	op   string
	hold time.Duration

	mu      sync.Mutex
	overlap []string // the legs still up when op was rung again
	rung    []time.Time
}

func watchLegs(h *harness, op string, hold time.Duration) *legWatch {
	w := &legWatch{h: h, op: op, hold: hold}
	h.intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "-op-"+op+"-"):
			time.Sleep(hold)
		case r.Method == http.MethodPost && r.URL.Path == "/ari/channels":
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			var b struct {
				Endpoint string `json:"endpoint"`
			}
			_ = json.Unmarshal(body, &b)
			if b.Endpoint != "PJSIP/"+op {
				break
			}
			w.mu.Lock()
			w.rung = append(w.rung, time.Now())
			for _, c := range h.fake.Channels() {
				if strings.Contains(c.ID, "-op-"+op+"-") {
					w.overlap = append(w.overlap, c.ID)
				}
			}
			w.mu.Unlock()
		}
		return false
	})
	return w
}

// last is the time of the latest originate to w's operator (zero: none).
func (w *legWatch) last() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.rung) == 0 {
		return time.Time{}
	}
	return w.rung[len(w.rung)-1]
}

func (w *legWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.overlap) > 0 {
		t.Fatalf("%s rung again while its earlier leg %v was still up", w.op, w.overlap)
	}
}

// legOf is the id of the leg ringing op for call id ("" when none).
func legOf(h *harness, id, op string) string {
	for _, c := range h.fake.Channels() {
		if strings.HasPrefix(c.ID, id+"-op-"+op+"-") {
			return c.ID
		}
	}
	return ""
}

// TestRingAllLoserRungAgainOnlyOnceItsLegIsGone: ring-all rings both
// operators for the first caller; op1001 answers. op1002's leg is hung up
// as answered elsewhere, and op1002 is rung for the second caller only
// once that leg is gone, not while its hang-up is on its way.
func TestRingAllLoserRungAgainOnlyOnceItsLegIsGone(t *testing.T) {
	h := newHarness(t, strings.Replace(strings.Replace(oneClient, "    record: true\n", "    queue: {strategy: ring-all}\n", 1),
		"ring_timeout: 15s", "ring_timeout: 100s", 1))
	w := watchLegs(h, "op1002", 300*time.Millisecond)
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.fake.AddEndpoint("PJSIP/op1002", true, aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.start()
	h.eventually("both operators available", func() bool {
		return h.operatorState("op1001") == acd.Available && h.operatorState("op1002") == acd.Available
	})
	first := h.call("0312345678", "0901234567")
	h.eventually("both phones ringing for the first caller", func() bool {
		return legOf(h, first, "op1001") != "" && legOf(h, first, "op1002") != ""
	})
	second := h.call("0312345678", "0907654321")
	h.eventually("the second caller waiting", func() bool { return len(h.waiting("acme")) == 2 })
	loser := legOf(h, first, "op1002")
	answered := time.Now()
	if err := h.fake.RemoteAnswer(legOf(h, first, "op1001")); err != nil {
		t.Fatal(err)
	}
	h.eventually("op1002 rung for the second caller", func() bool { return legOf(h, second, "op1002") != "" })
	if _, up := h.fake.Channel(loser); up {
		t.Fatalf("op1002 rung for the second caller while its leg %s for the first is up", loser)
	}
	w.check(t)
	// Rung as the leg ended (its end reported), not after the bound.
	again := w.last()
	if d := again.Sub(answered); d >= acd.LegGoneWait {
		t.Fatalf("op1002 rung again %s after op1001 answered: the leg's end was not reported", d)
	}
	if v, _ := lookup(h, "op1002"); v.NoAnswers != 0 {
		t.Fatalf("op1002 has %d no-answers, want none", v.NoAnswers)
	}
}

// TestOperatorRungAgainOnceTheLegOfALeftCallerIsGone: the caller hangs
// up while op1001 rings; the call's actor ends, and the end of its leg,
// an event no actor owns then, frees op1001 for the next caller at once
// (not after acd.LegGoneWait), and not before that leg is gone.
func TestOperatorRungAgainOnceTheLegOfALeftCallerIsGone(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 100s", 1))
	w := watchLegs(h, "op1001", 300*time.Millisecond)
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	first := h.call("0312345678", "0901234567")
	h.eventually("op1001 ringing for the first caller", func() bool { return legOf(h, first, "op1001") != "" })
	second := h.call("0312345678", "0907654321")
	h.eventually("the second caller waiting", func() bool { return len(h.waiting("acme")) == 2 })
	left := time.Now()
	if err := h.fake.RemoteHangup(first); err != nil {
		t.Fatal(err)
	}
	h.eventually("op1001 rung for the second caller", func() bool { return legOf(h, second, "op1001") != "" })
	w.check(t)
	again := w.last()
	if d := again.Sub(left); d >= acd.LegGoneWait {
		t.Fatalf("op1001 rung again %s after the caller left: the leg's end was not reported", d)
	}
}

// lookup is operator id's view in the queue's snapshot.
func lookup(h *harness, id string) (acd.OperatorView, bool) {
	for _, v := range h.snapshot().Operators {
		if v.ID == id {
			return v, true
		}
	}
	return acd.OperatorView{}, false
}

// TestOperatorRungAgainOnceTheLegOfACallerLeftInTheWhisperIsGone: op1001
// answers the first caller, who hangs up during the whisper while a
// second caller waits. op1001, freed at once (nothing to wrap up), is
// rung for the second caller only once the leg they answered is gone,
// not while its hang-up is on its way (a phone without call waiting
// refused that ring 486: a no-answer never earned), and as it ends, not
// after acd.LegGoneWait.
func TestOperatorRungAgainOnceTheLegOfACallerLeftInTheWhisperIsGone(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 100s", 1))
	h.fake.AddSound("beep", 300*time.Second) // the whisper, 3 s of test time
	w := watchLegs(h, "op1001", 300*time.Millisecond)
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second})
	first := h.call("0312345678", "0901234567")
	h.eventually("op1001 answered the first caller, the whisper playing", func() bool { return whisperPlayed(h) })
	second := h.call("0312345678", "0907654321")
	h.eventually("the second caller waiting", func() bool { return slices.Contains(h.waiting("acme"), second) })
	left := time.Now()
	if err := h.fake.RemoteHangup(first); err != nil {
		t.Fatal(err)
	}
	h.eventually("op1001 rung for the second caller", func() bool { return legOf(h, second, "op1001") != "" })
	w.check(t)
	again := w.last()
	if d := again.Sub(left); d >= acd.LegGoneWait {
		t.Fatalf("op1001 rung again %s after the caller left: the answered leg's end was not reported", d)
	}
	if v, _ := lookup(h, "op1001"); v.NoAnswers != 0 {
		t.Fatalf("op1001 has %d no-answers, want none", v.NoAnswers)
	}
}
