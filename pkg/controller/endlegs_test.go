package controller_test

import (
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

// TestOperatorRungAgainOnceTheLegOfATalkTheCallerEndedIsGone: op1001
// talks with the first caller, who hangs up while a second caller waits.
// toritsugi hangs op1001's leg up after the call ends; with a 0 s
// wrap-up, or one shorter than that hang-up, op1001 was free with the
// leg still up, and rung for the second caller at once: a phone without
// call waiting refused that ring (486), a no-answer never earned. op1001
// is now rung only once that leg is gone, and as it goes, not after
// acd.LegGoneWait.
func TestOperatorRungAgainOnceTheLegOfATalkTheCallerEndedIsGone(t *testing.T) {
	for _, wrapup := range []string{"0s", "100ms"} {
		t.Run("wrapup "+wrapup, func(t *testing.T) {
			h := newHarness(t, strings.Replace(strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 100s", 1),
				"wrapup: 0s", "wrapup: "+wrapup, 1))
			w := watchLegs(h, "op1001", 300*time.Millisecond)
			h.startOp1001(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second})
			first := h.call("0312345678", "0901234567")
			h.eventually("the first caller bridged with op1001", func() bool { c, ok := h.fake.Channel(first); return ok && c.BridgeID != "" })
			second := h.call("0312345678", "0907654321")
			h.eventually("the second caller waiting", func() bool { return slices.Contains(h.waiting("acme"), second) })
			left := time.Now()
			if err := h.fake.RemoteHangup(first); err != nil {
				t.Fatal(err)
			}
			h.eventually("op1001 rung for the second caller", func() bool { return legOf(h, second, "op1001") != "" })
			w.check(t)
			if d := w.last().Sub(left); d >= acd.LegGoneWait {
				t.Fatalf("op1001 rung again %s after the caller left: the leg's end was not reported", d)
			}
			if v, _ := lookup(h, "op1001"); v.NoAnswers != 0 {
				t.Fatalf("op1001 has %d no-answers, want none", v.NoAnswers)
			}
		})
	}
}

// TestOperatorRungAgainOnceTheLegOfAReadoptedTalkIsGone: the same after a
// restart, for a call the new controller re-adopted while op1001 talked
// (the queue never rang that leg).
func TestOperatorRungAgainOnceTheLegOfAReadoptedTalkIsGone(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 100s", 1))
	_, id := h.bridgeThenStop(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second})
	w := watchLegs(h, "op1001", 300*time.Millisecond)
	h.start()
	h.eventually("op1001 on the re-adopted call and registered", func() bool {
		v, _ := lookup(h, "op1001")
		return v.State == acd.OnCall && v.CallID == id && v.Reachable
	})
	second := h.call("0312345678", "0907654321")
	h.eventually("the second caller waiting", func() bool { return slices.Contains(h.waiting("acme"), second) })
	left := time.Now()
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	h.eventually("op1001 rung for the second caller", func() bool { return legOf(h, second, "op1001") != "" })
	w.check(t)
	if d := w.last().Sub(left); d >= acd.LegGoneWait {
		t.Fatalf("op1001 rung again %s after the caller left: the leg's end was not reported", d)
	}
}

// TestRestartRingsAnOperatorOnceTheLeftOverLegIsGone: the controller dies
// while op1001's phone rings for a caller (its hang-up of the leg at the
// stop fails: a crash leaves it so), or after op1001 answered, during
// the whisper. The new controller re-adopts the caller and hangs the old
// leg up, which Asterisk ends a while after the DELETE's answer
// (aritest's HangupWindow); it rang op1001 again at once, while the old
// leg was still up. op1001 is now rung only once the old leg is gone
// (destroyed; one in the whisper: out of Stasis, its StasisEnd is when a
// leg counts as gone), and as it goes, not after acd.LegGoneWait.
func TestRestartRingsAnOperatorOnceTheLeftOverLegIsGone(t *testing.T) {
	for _, tc := range []struct {
		name    string
		phone   aritest.EndpointBehavior
		ringing bool
	}{
		{"ringing", aritest.EndpointBehavior{Answer: aritest.NoAnswer}, true},
		{"in the whisper", aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each stage of a hang-up 200 ms: the leg is destroyed
			// 400 ms after the DELETE.
			h := newHarnessFake(t, strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 1000s", 1),
				aritest.Options{HangupWindow: 20 * time.Second})
			h.fake.AddSound("beep", 1000*time.Second) // the whisper, 10 s of test time
			h.failThrough(func(r *http.Request) bool {
				return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "-op-op1001-")
			})
			first := h.startOp1001(tc.phone)
			id := h.call("0312345678", "0901234567")
			h.eventually("op1001's leg "+tc.name, func() bool {
				c, ok := h.fake.Channel(legOf(h, id, "op1001"))
				if tc.ringing {
					return ok && c.State == "Ringing"
				}
				return ok && whisperPlayed(h)
			})
			old := legOf(h, id, "op1001")
			first.stop()
			if _, up := h.fake.Channel(old); !up {
				t.Fatalf("the old leg %s is gone at the stop: nothing left over", old)
			}
			// The originates to op1001 by the new controller, and whether
			// the old leg was still up (not destroyed; in Stasis) then.
			var mu sync.Mutex
			var rung []time.Time
			var overlap bool
			h.intercept(func(_ http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPost || r.URL.Path != "/ari/channels" {
					return false
				}
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(strings.NewReader(string(body)))
				if !strings.Contains(string(body), "PJSIP/op1001") {
					return false
				}
				c, up := h.fake.Channel(old)
				mu.Lock()
				rung = append(rung, time.Now())
				overlap = overlap || up && (tc.ringing || c.InStasis)
				mu.Unlock()
				return false
			})
			started := time.Now()
			h.start()
			h.eventually("op1001 rung again", func() bool { mu.Lock(); defer mu.Unlock(); return len(rung) > 0 })
			mu.Lock()
			again, over := rung[0], overlap
			mu.Unlock()
			if over {
				t.Fatalf("op1001 rung again while the old leg %s was still up", old)
			}
			if d := again.Sub(started); d >= acd.LegGoneWait {
				t.Fatalf("op1001 rung again %s after the restart: the old leg's end was not reported", d)
			}
		})
	}
}

// TestOperatorWhoHungUpInTheWhisperRungAgainAtOnce: op1001 hangs up during
// the whisper; the caller is back in line and, with a 0 s wrap-up, op1001
// is rung for them again as soon as the queue hears of that leg's end,
// which came before the call's end: not acd.LegGoneWait later.
func TestOperatorWhoHungUpInTheWhisperRungAgainAtOnce(t *testing.T) {
	h := newHarness(t, strings.Replace(oneClient, "ring_timeout: 15s", "ring_timeout: 100s", 1))
	h.fake.AddSound("beep", 300*time.Second) // the whisper: 3 s of test time
	w := watchLegs(h, "op1001", 0)
	h.startOp1001(aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 2 * time.Second})
	h.call("0312345678", "0901234567")
	h.eventually("op1001 answered, then hung up in the whisper", func() bool {
		return whisperPlayed(h) && h.operatorLeg("op1001") == ""
	})
	if err := h.fake.SetEndpointBehavior("PJSIP/op1001", aritest.EndpointBehavior{Answer: aritest.NoAnswer}); err != nil {
		t.Fatal(err)
	}
	h.eventually("op1001 rung again for the caller", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.rung) >= 2
	})
	w.mu.Lock()
	d := w.rung[1].Sub(w.rung[0])
	w.mu.Unlock()
	if d >= acd.LegGoneWait {
		t.Fatalf("op1001 rung again %s after the first ring: the end of the leg they hung up was not reported", d)
	}
}
