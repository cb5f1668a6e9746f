// Scenarios of VIP callers: warm transfer to the client's own phone.

package controller_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/store"
)

const vipClient = `
queue: {ring_timeout: 15s, max_wait: 5m, wrapup: 0s}
clients:
  - id: acme
    name: 株式会社ACME
    short_name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    transfer_to: 03-9999-0000
    transfer_timeout: 5s
    callers:
      - {match: "090-1111-1111", action: vip, name: 山田社長}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`

// clientTalks: the client's phone answers a transfer after 1 s and talks
// 60 s (0.6 s of test time): long enough that the whisper and the bridge
// come first on a loaded machine (with answers' 5 s, 50 ms, the client
// sometimes hung up before the bridge and the caller went to an operator).
var clientTalks = aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 60 * time.Second}

// TestVIPTransferredToClient: the VIP is put through to the client's own
// number, through the trunk. The call presents the number the VIP dialled
// (Japanese carriers pass only their subscriber's own numbers), or the
// VIP's number or another of the service's when transfer_caller_id says.
func TestVIPTransferredToClient(t *testing.T) {
	for _, tc := range []struct{ setting, caller, want string }{
		{"", "09011111111", `"ACME" <0312345678>`},
		{"    transfer_caller_id: caller\n", "+819011111111", `"ACME" <09011111111>`}, // in the national form carriers take
		{"    transfer_caller_id: 050-1111-2222\n", "09011111111", `"ACME" <05011112222>`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			cfg := strings.Replace(vipClient, "    transfer_timeout: 5s\n", "    transfer_timeout: 5s\n"+tc.setting, 1)
			h := newHarness(t, cfg)
			h.fake.AddEndpoint("PJSIP/op1001", true, answers)
			h.fake.SetRemoteNumber("0399990000", clientTalks)
			h.start()
			rec := h.record(h.call("0312345678", tc.caller))
			if rec.Result != store.ResultTransferred || !rec.Billable || rec.OperatorID != "" || rec.WaitMS <= 0 {
				t.Fatalf("%q: VIP call: %s (%s) op %q billable %v wait %d ms, want transferred to the client after a wait", tc.setting, rec.Result, rec.Reason, rec.OperatorID, rec.Billable, rec.WaitMS)
			}
			og := h.originates()
			if len(og) != 1 || og[0].Endpoint != "PJSIP/0399990000@trunk" || og[0].CallerID != tc.want {
				t.Fatalf("%q: originates %+v: want the client's number through the trunk, showing %s", tc.setting, og, tc.want)
			}
		})
	}
}

// TestVIPTransferConfirm: with transfer_confirm the client's answered
// phone is asked to press 1. Pressing it puts the VIP through; a phone
// that never presses it (a mobile's voicemail picking up) is hung up and
// the VIP goes to the operators.
func TestVIPTransferConfirm(t *testing.T) {
	cfg := strings.Replace(vipClient, "    transfer_timeout: 5s\n", "    transfer_timeout: 5s\n    transfer_confirm: sound:toritsugi/acme-transfer-confirm\n", 1)
	transferLeg := func(h *harness) string {
		for _, c := range h.fake.Channels() {
			if strings.Contains(c.ID, "-tx-") && c.State == "Up" && c.InStasis {
				return c.ID
			}
		}
		return ""
	}
	t.Run("pressed", func(t *testing.T) {
		h := newHarness(t, cfg)
		h.fake.AddEndpoint("PJSIP/op1001", true, answers)
		h.fake.SetRemoteNumber("0399990000", clientTalks)
		h.start()
		vip := h.call("0312345678", "09011111111")
		var leg string
		h.eventually("the client's phone answered", func() bool { leg = transferLeg(h); return leg != "" })
		if err := h.fake.SendDTMF(leg, "1"); err != nil {
			t.Fatal(err)
		}
		rec := h.record(vip)
		if rec.Result != store.ResultTransferred {
			t.Fatalf("VIP call: %s (%s), want transferred after the client pressed 1", rec.Result, rec.Reason)
		}
		if !strings.Contains(fmt.Sprint(h.fake.Requests()), "sound:toritsugi/acme-transfer-confirm") {
			t.Error("the confirm prompt was never played")
		}
	})
	// 2 declines at once: the VIP waited out the whole confirm wait (a
	// review), now goes back to the operators as the client says no.
	t.Run("declined", func(t *testing.T) {
		h := newHarness(t, cfg)
		h.confirmWait = time.Hour
		h.fake.AddEndpoint("PJSIP/op1001", true, answers)
		h.fake.SetRemoteNumber("0399990000", clientTalks)
		h.start()
		vip := h.call("0312345678", "09011111111")
		var leg string
		h.eventually("the client's phone answered", func() bool { leg = transferLeg(h); return leg != "" })
		if err := h.fake.SendDTMF(leg, "3"); err != nil { // not an answer
			t.Fatal(err)
		}
		if err := h.fake.SendDTMF(leg, "2"); err != nil {
			t.Fatal(err)
		}
		rec := h.record(vip)
		if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" || !strings.Contains(fmt.Sprint(rec.Events), "the client pressed 2: declined") {
			t.Fatalf("VIP call: %s (%s) op %q, events %v; want answered by the operator after the client's 2", rec.Result, rec.Reason, rec.OperatorID, rec.Events)
		}
		if _, ok := h.fake.Channel(leg); ok {
			t.Error("the client's phone was not hung up")
		}
	})
	t.Run("voicemail", func(t *testing.T) {
		h := newHarness(t, cfg)
		h.confirmWait = 300 * time.Millisecond
		h.fake.AddEndpoint("PJSIP/op1001", true, answers)
		h.fake.SetRemoteNumber("0399990000", clientTalks) // answers, never presses 1
		h.start()
		rec := h.record(h.call("0312345678", "09011111111"))
		if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
			t.Fatalf("VIP call: %s (%s) op %q, want answered by the operator", rec.Result, rec.Reason, rec.OperatorID)
		}
		if !strings.Contains(fmt.Sprint(rec.Events), "no 1 pressed") {
			t.Errorf("VIP timeline: %v", rec.Events)
		}
	})
}

func TestVIPDeclinedByClientKeepsPlaceInQueue(t *testing.T) {
	h := newHarness(t, vipClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.SetRemoteNumber("0399990000", aritest.EndpointBehavior{Answer: aritest.NoAnswer})
	h.start()
	vip := h.call("0312345678", "09011111111")
	h.eventually("transfer attempted", func() bool { return len(h.originates()) == 1 })
	other := h.call("0312345678", "09022222222")
	h.eventually("both waiting", func() bool { return len(h.waiting("acme")) == 2 })
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	vr, or := h.record(vip), h.record(other)
	if vr.Result != store.ResultAnswered || or.Result != store.ResultAnswered {
		t.Fatalf("VIP %s (%s), other %s (%s): want both answered by the operator", vr.Result, vr.Reason, or.Result, or.Reason)
	}
	if got := strings.Join(h.firstRings(), ","); got != vip+","+other {
		t.Fatalf("operator rung for %s; want the VIP (who waited longer, from the transfer on) first: %s,%s", got, vip, other)
	}
	if !strings.Contains(fmt.Sprint(vr.Events), "transfer to the client failed (no answer)") {
		t.Fatalf("VIP timeline: %v", vr.Events)
	}
	// The operator's screen says which caller is the VIP back from the
	// transfer (a script may ask them other questions).
	h.eventually("both screens popped", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.connected) == 2 })
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.connected {
		if c.VIP != (c.CallID == vip) || c.Known {
			t.Errorf("screen pop of %s: VIP %v, known %v; want the VIP %s only", c.CallID, c.VIP, c.Known, vip)
		}
	}
}

// TestVIPClientHangsUpDuringWhisper: the client answers the transfer and
// hangs up at once; the caller must reach an operator (a fresh bridge, not
// the one prepared for the client).
// TestVIPTransferLongerThanMaxWaitStillRings: the client's phone answers
// a VIP's transfer and is asked for 1, which never comes, for longer than
// the client's max_wait (a mobile's voicemail answering: the ringing,
// the prompt, the wait for 1). Back in line at their place, the VIP
// overflowed at once and heard the overflow message, an operator free (a
// review found it): the operators get the client's whole max_wait from
// the return, and the VIP is answered.
func TestVIPTransferLongerThanMaxWaitStillRings(t *testing.T) {
	h := vipNeverConfirmed(t, 2500*time.Millisecond) // longer than max_wait
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	rec := h.record(h.call("0312345678", "09011111111"))
	if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("VIP whose client did not press 1: %s (%s), op1001 rung %d times; want answered by op1001", rec.Result, rec.Reason, h.ringsOf("op1001"))
	}
}

// vipNeverConfirmed is a harness (not started) of a VIP client with a
// max_wait of 2 s whose phone answers the transfer and never presses the
// confirm key (waited for confirmWait), op1001 registered.
func vipNeverConfirmed(t *testing.T, confirmWait time.Duration) *harness {
	t.Helper()
	cfg := strings.Replace(vipClient, "max_wait: 5m", "max_wait: 2s", 1)
	cfg = strings.Replace(cfg, "    transfer_timeout: 5s\n", "    transfer_timeout: 5s\n    transfer_confirm: sound:toritsugi/acme-transfer-confirm\n", 1)
	h := newHarness(t, cfg)
	h.confirmWait = confirmWait
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.SetRemoteNumber("0399990000", aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 1000 * time.Second})
	return h
}

// TestVIPTransferCutByARestartStillRings: the controller restarts during
// a VIP's transfer (the client's phone asked for 1) and comes back after
// longer than max_wait from the transfer's start: the re-adopted VIP is
// queued at their place with the client's whole max_wait from the
// restart, and answered (a review found the overflow at once here too).
func TestVIPTransferCutByARestartStillRings(t *testing.T) {
	h := vipNeverConfirmed(t, 30*time.Second)
	first := h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	id := h.call("0312345678", "09011111111")
	h.eventually("transfer attempted", func() bool { return len(h.originates()) == 1 })
	time.Sleep(500 * time.Millisecond) // the client's phone answered, asked for 1
	first.stop()
	time.Sleep(2500 * time.Millisecond) // longer than max_wait from the transfer's start
	h.start()
	if rec := h.record(id); rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("VIP re-adopted during the transfer: %s (%s), op1001 rung %d times; want answered by op1001", rec.Result, rec.Reason, h.ringsOf("op1001"))
	}
}

func TestVIPClientHangsUpDuringWhisper(t *testing.T) {
	h := newHarness(t, vipClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.SetRemoteNumber("0399990000", aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 10 * time.Millisecond})
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	rec := h.record(h.call("0312345678", "09011111111"))
	if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
		t.Fatalf("VIP whose client hung up during the whisper: %s (%s) op %q; events %v", rec.Result, rec.Reason, rec.OperatorID, rec.Events)
	}
	if !strings.Contains(fmt.Sprint(rec.Events), "the client answered, then hung up") {
		t.Errorf("the timeline does not say the client answered and hung up: %v", rec.Events)
	}
	h.eventually("no channels left", func() bool { return len(h.fake.Channels()) == 0 })
}

// TestTransferFailedDropsItsBridge: the client answers a VIP's transfer;
// Asterisk, busy, refuses the add of the client's leg to the bridge (a
// 503: tried again shortly), and the client hangs up before the next try.
// The caller, added already, goes back in line: the bridge made for the
// client is destroyed with the transfer, not left up with the caller in
// it (a controller restarted meanwhile read the caller as put through to
// the client, hung them up as "the client hung up" and billed the call as
// transferred); the VIP is put through to the operator.
func TestTransferFailedDropsItsBridge(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprint("restart ", restart), func(t *testing.T) {
			h := newHarness(t, vipClient)
			h.fake.AddEndpoint("PJSIP/op1001", false, answers)
			h.fake.SetRemoteNumber("0399990000", clientTalks)
			var mu sync.Mutex
			var clientBridge string // the bridge the client's leg was refused
			h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/addChannel") {
					return false
				}
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(strings.NewReader(string(body)))
				if !strings.Contains(string(body), "-tx-") {
					return false // the caller's own add
				}
				mu.Lock()
				defer mu.Unlock()
				if !strings.Contains(string(body), "[") {
					// The client's leg alone (after both in one request,
					// refused): the client hangs up as it is refused.
					if clientBridge != "" {
						return false
					}
					clientBridge = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/ari/bridges/"), "/addChannel")
					for _, c := range h.fake.Channels() {
						if strings.Contains(c.ID, "-tx-") {
							if err := h.fake.RemoteHangup(c.ID); err != nil {
								t.Errorf("hanging up the client: %v", err)
							}
						}
					}
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"message":"Service Unavailable"}`)
				return true
			})
			h.start()
			id := h.call("0312345678", "09011111111")
			bridge := func() string { mu.Lock(); defer mu.Unlock(); return clientBridge }
			h.eventually("the client's leg refused as it was added", func() bool { return bridge() != "" })
			h.eventually("the VIP back in line", func() bool { return len(h.waiting("acme")) == 1 })
			if restart {
				h.last.stop()
				h.start()
				h.eventually("the VIP in line after the restart", func() bool { return len(h.waiting("acme")) == 1 })
			} else {
				h.eventually("the bridge made for the client destroyed", func() bool {
					_, ok := h.fake.Bridge(bridge())
					return !ok
				})
			}
			if err := h.fake.Register("PJSIP/op1001"); err != nil {
				t.Fatal(err)
			}
			h.eventually("the VIP put through to op1001", func() bool {
				c, ok := h.fake.Channel(id)
				return ok && c.BridgeID != "" && h.operatorState("op1001") == acd.OnCall
			})
			if err := h.fake.RemoteHangup(id); err != nil {
				t.Fatal(err)
			}
			rec := h.record(id)
			if rec.Result != store.ResultAnswered || rec.OperatorID != "op1001" {
				t.Fatalf("VIP whose client hung up as the bridge was retried: %s (%s) op %q; events %v", rec.Result, rec.Reason, rec.OperatorID, rec.Events)
			}
			if !restart && !strings.Contains(fmt.Sprint(rec.Events), "the client answered, then hung up") {
				t.Errorf("the timeline does not say the client answered and hung up: %v", rec.Events)
			}
			h.eventually("the bridge made for the client destroyed", func() bool {
				_, ok := h.fake.Bridge(bridge())
				return !ok
			})
		})
	}
}

// TestVIPOwnWhisper: a VIP rule with its own whisper ("山田社長からのお電話
// です") is what the client hears before the bridge, instead of the
// client's transfer_whisper.
func TestVIPOwnWhisper(t *testing.T) {
	h := newHarness(t, strings.Replace(vipClient,
		`{match: "090-1111-1111", action: vip, name: 山田社長}`,
		`{match: "090-1111-1111", action: vip, name: 山田社長, whisper: "sound:toritsugi/yamada-whisper"}`, 1))
	h.fake.AddSound("toritsugi/yamada-whisper", time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.SetRemoteNumber("0399990000", clientTalks)
	h.start()
	id := h.call("0312345678", "09011111111")
	if rec := h.record(id); rec.Result != store.ResultTransferred {
		t.Fatalf("VIP call: %s (%s)", rec.Result, rec.Reason)
	}
	var whispers []string
	for _, r := range h.fake.Requests() {
		if strings.HasPrefix(r.Path, "/channels/"+id+"-tx-") && strings.Contains(r.Path, "/play") {
			whispers = append(whispers, r.Body)
		}
	}
	if len(whispers) != 1 || !strings.Contains(whispers[0], "sound:toritsugi/yamada-whisper") {
		t.Fatalf("plays on the client's leg: %q, want the VIP's own whisper once", whispers)
	}
}

// TestVIPTransferRecordedAfterTheNotice: a client who records calls has
// its VIP transfers recorded too, and the VIP hears the recording notice
// before the bridge, as any caller does.
func TestVIPTransferRecordedAfterTheNotice(t *testing.T) {
	h := newHarness(t, strings.Replace(vipClient, "    transfer_timeout: 5s\n",
		"    transfer_timeout: 5s\n    record: true\n    record_announcement: sound:toritsugi/recorded\n", 1))
	h.fake.AddSound("toritsugi/recorded", time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.SetRemoteNumber("0399990000", clientTalks)
	h.start()
	id := h.call("0312345678", "09011111111")
	rec := h.record(id)
	if rec.Result != store.ResultTransferred || rec.Recording == "" {
		t.Fatalf("VIP call: %s (%s) recording %q", rec.Result, rec.Reason, rec.Recording)
	}
	notice, bridge, recording := -1, -1, -1
	for i, r := range h.fake.Requests() {
		switch {
		case strings.HasPrefix(r.Path, "/channels/"+id+"/play") && strings.Contains(r.Body, "toritsugi/recorded"):
			notice = i
		case strings.HasPrefix(r.Path, "/bridges/") && strings.HasSuffix(r.Path, "/addChannel") && bridge < 0:
			bridge = i
		case strings.HasPrefix(r.Path, "/bridges/") && strings.HasSuffix(r.Path, "/record") && recording < 0:
			recording = i
		}
	}
	if notice < 0 || bridge < notice || recording < bridge {
		t.Fatalf("request order: notice %d, bridge %d, recording %d; want the notice first", notice, bridge, recording)
	}
}

// TestTransferOriginateTimesOut: the originate of a VIP transfer reaches
// Asterisk, which answers it after the request timeout (a slow trunk).
// The VIP goes to the queue; the client's leg, when it comes up, is hung
// up rather than taken for the transfer; an operator who answers is put
// through. (It used to become the call's transfer leg, left silent, and
// every operator who answered was hung up.)
func TestTransferOriginateTimesOut(t *testing.T) {
	h := newHarness(t, vipClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	h.fake.SetRemoteNumber("0399990000", aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 30 * time.Second})
	fakeURL := h.fake.URL()
	h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || r.URL.Path != "/ari/channels" {
			return false
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		if !strings.Contains(string(body), "transfer,") {
			return false
		}
		req, _ := http.NewRequest(http.MethodPost, fakeURL+"/channels", strings.NewReader(string(body)))
		req.Header = r.Header.Clone()
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		time.Sleep(2500 * time.Millisecond) // the controller's RequestTimeout is 2 s
		w.WriteHeader(http.StatusOK)
		return true
	})
	h.start()
	id := h.call("0312345678", "09011111111")
	h.eventually("VIP queued for an operator", func() bool { return len(h.waiting("acme")) == 1 })
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.eventually("the VIP put through to op1001", func() bool {
		c, ok := h.fake.Channel(id)
		return ok && c.BridgeID != "" && h.operatorState("op1001") == acd.OnCall
	})
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodDelete && strings.Contains(r.Path, id+"-op-op1001") {
			t.Fatalf("an operator leg was hung up by the call itself: %s", r.Path)
		}
	}
	for _, c := range h.fake.Channels() {
		if strings.Contains(c.ID, id+"-tx-") {
			t.Fatalf("the client's leg %s (%s) is still up", c.ID, c.State)
		}
	}
}
