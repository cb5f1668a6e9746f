package controller_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
)

const holdMusic = `
queue: {ring_timeout: 15s, max_wait: 50m, wrapup: 0s}
clients:
  - id: acme
    name: 株式会社ACME
    short_name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    queue: {moh_class: acme-jazz}
  - id: beta
    name: 株式会社ベータ
    short_name: ベータ
    dids: ["03-1234-9999"]
    greeting: sound:toritsugi/beta-greeting
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`

// TestOperatorHoldPlaysTheClientsMusic: an operator's softphone puts a
// caller on hold. Asterisk plays the held caller the music of their
// channel's CHANNEL(musicclass) first, of the operator endpoint's
// moh_suggest ("default") otherwise: the caller of a client with a class
// of its own hears it on hold as in line, set once before the bridge; a
// client of the default class costs no request.
func TestOperatorHoldPlaysTheClientsMusic(t *testing.T) {
	h := newHarness(t, holdMusic)
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	h.start()
	for _, tc := range []struct{ did, caller, class string }{
		{"0312345678", "0901234567", "acme-jazz"},
		{"0312349999", "0901234568", "default"},
	} {
		id := h.call(tc.did, tc.caller)
		op := h.bridgedPeer(id)
		if err := h.fake.RemoteHold(op, true); err != nil {
			t.Fatal(err)
		}
		if c, _ := h.fake.Channel(id); c.MOHClass != tc.class {
			t.Fatalf("%s's caller on hold hears %q, want %q", tc.did, c.MOHClass, tc.class)
		}
		if err := h.fake.RemoteHold(op, false); err != nil {
			t.Fatal(err)
		}
		if c, _ := h.fake.Channel(id); c.MOHClass != "" {
			t.Fatalf("music on hold %q after the unhold", c.MOHClass)
		}
		sets := 0
		for _, r := range h.fake.Requests() {
			if r.Path == "/channels/"+id+"/variable" && strings.Contains(r.Body, "CHANNEL(musicclass)") {
				sets++
			}
		}
		if want := map[bool]int{true: 0, false: 1}[tc.class == "default"]; sets != want {
			t.Fatalf("%s: CHANNEL(musicclass) set %d times, want %d:\n%s", tc.did, sets, want, h.requests())
		}
		if err := h.fake.RemoteHangup(id); err != nil {
			t.Fatal(err)
		}
		h.record(id)
	}
}

// TestHoldMusicFollowsAReload: a caller of acme waits in line (the
// channel's CHANNEL(musicclass) set to acme-jazz); a reload changes the
// class. Asterisk prefers the channel's class to the one asked for, so
// the channel's is set again before the bridge: on hold the caller hears
// the new class, not the one set before the reload.
func TestHoldMusicFollowsAReload(t *testing.T) {
	h := newHarness(t, holdMusic)
	h.updates = make(chan *config.Config, 1)
	h.fake.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	h.start()
	id := h.call("0312345678", "0901234567")
	h.eventually("on hold in line", func() bool { c, ok := h.fake.Channel(id); return ok && c.MOHClass == "acme-jazz" })
	cfg, err := config.Parse("test.yaml", fmt.Appendf(nil, "ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s",
		h.cfg.ARI.URL, strings.Replace(holdMusic, "moh_class: acme-jazz", "moh_class: acme-bossa", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.reload(cfg)
	time.Sleep(100 * time.Millisecond)
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	op := h.bridgedPeer(id)
	if err := h.fake.RemoteHold(op, true); err != nil {
		t.Fatal(err)
	}
	if c, _ := h.fake.Channel(id); c.MOHClass != "acme-bossa" {
		t.Fatalf("on hold after the reload the caller hears %q, want acme-bossa", c.MOHClass)
	}
}

// bridgedPeer waits until channel id is bridged and returns the other
// channel in its bridge (the operator's leg).
func (h *harness) bridgedPeer(id string) string {
	h.t.Helper()
	var peer string
	h.eventually("bridged", func() bool {
		c, ok := h.fake.Channel(id)
		if !ok || c.BridgeID == "" {
			return false
		}
		for _, o := range h.fake.Channels() {
			if o.ID != id && o.BridgeID == c.BridgeID {
				peer = o.ID
			}
		}
		return peer != ""
	})
	return peer
}

// TestHoldInARecordedCallPlaysMusicToTheBridge: a client whose calls are
// recorded: the recorder makes the bridge softmix, which passes no hold
// on, so the call plays the client's music on hold to the bridge while
// either phone holds: the operator's, then the caller's as well; it stops
// once neither does. A controller that starts after a hold ended while
// none watched stops the music its predecessor started.
func TestHoldInARecordedCallPlaysMusicToTheBridge(t *testing.T) {
	h := newHarness(t, strings.Replace(holdMusic, "    queue: {moh_class: acme-jazz}\n", "    queue: {moh_class: acme-jazz}\n    record: true\n", 1))
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	first := h.start()
	id := h.call("0312345678", "0901234567")
	op := h.bridgedPeer(id)
	c, _ := h.fake.Channel(id)
	bridge := func() aritest.BridgeSnapshot { b, _ := h.fake.Bridge(c.BridgeID); return b }
	h.eventually("recorded", func() bool { return bridge().Recorded })
	hold := func(ch string, held bool) {
		t.Helper()
		if err := h.fake.RemoteHold(ch, held); err != nil {
			t.Fatal(err)
		}
	}

	hold(op, true)
	h.eventually("music on hold in the bridge", func() bool { return bridge().MOHClass == "acme-jazz" })
	if c, _ := h.fake.Channel(id); c.MOHClass != "" {
		t.Fatalf("the caller's own channel plays %q: softmix passes no hold on", c.MOHClass)
	}
	hold(id, true)
	hold(op, false)
	time.Sleep(50 * time.Millisecond)
	if got := bridge().MOHClass; got != "acme-jazz" {
		t.Fatalf("the caller still holds: the bridge plays %q", got)
	}
	hold(id, false)
	h.eventually("music on hold stopped", func() bool { return bridge().MOHClass == "" })

	// The unhold comes while no controller watches: the next one stops
	// the music at once, or it would play over the conversation.
	hold(op, true)
	h.eventually("music on hold again", func() bool { return bridge().MOHClass == "acme-jazz" })
	h.waitStoredStep(id, call.StepConnected)
	first.stop()
	hold(op, false)
	if got := bridge().MOHClass; got != "acme-jazz" {
		t.Fatalf("with no controller the bridge plays %q", got)
	}
	h.start()
	h.eventually("music on hold stopped by the next controller", func() bool { return bridge().MOHClass == "" })

	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultAnswered || rec.Recording == "" {
		t.Fatalf("record %s (%s), recording %q", rec.Result, rec.Reason, rec.Recording)
	}
	if ev := fmt.Sprint(rec.Events); !strings.Contains(ev, "off hold: music on hold stopped") {
		t.Fatalf("the timeline does not say the unhold: %v", rec.Events)
	}
}

// TestHoldInAnUnrecordedCallLeavesItToAsterisk: without a recording the
// bridge has two members and Asterisk passes the hold on: the call plays
// nothing to the bridge. So too when the client records but the request
// got no answer (the recording is named in case Asterisk made it): the
// bridge's technology decides, and an announcer would make it softmix,
// which would not pass the unhold on to the caller's own music.
func TestHoldInAnUnrecordedCallLeavesItToAsterisk(t *testing.T) {
	t.Run("not recorded", func(t *testing.T) { holdLeftToAsterisk(t, false) })
	t.Run("recording unanswered", func(t *testing.T) { holdLeftToAsterisk(t, true) })
}

func holdLeftToAsterisk(t *testing.T, recordUnanswered bool) {
	conf := holdMusic
	if recordUnanswered {
		conf = strings.Replace(holdMusic, "    queue: {moh_class: acme-jazz}\n", "    queue: {moh_class: acme-jazz}\n    record: true\n", 1)
	}
	h := newHarness(t, conf)
	if recordUnanswered {
		h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/record") {
				return false
			}
			c, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = c.Close() // written, never answered
			}
			return true
		})
	}
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	h.start()
	id := h.call("0312345678", "0901234567")
	op := h.bridgedPeer(id)
	if err := h.fake.RemoteHold(op, true); err != nil {
		t.Fatal(err)
	}
	h.eventually("the caller hears the client's music", func() bool { c, _ := h.fake.Channel(id); return c.MOHClass == "acme-jazz" })
	if err := h.fake.RemoteHold(op, false); err != nil {
		t.Fatal(err)
	}
	h.eventually("the caller's music stopped", func() bool { c, _ := h.fake.Channel(id); return c.MOHClass == "" })
	time.Sleep(50 * time.Millisecond)
	for _, r := range h.fake.Requests() {
		if strings.HasSuffix(r.Path, "/moh") && strings.HasPrefix(r.Path, "/bridges/") {
			t.Fatalf("%s %s in a call Asterisk passes holds on in", r.Method, r.Path)
		}
	}
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(id); recordUnanswered != (rec.Recording != "") {
		t.Fatalf("recording %q (record unanswered: %v)", rec.Recording, recordUnanswered)
	}
}

// TestHoldMusicStopIsAskedAgain: Asterisk fails the stop of the bridge's
// music twice (500): it is asked again until it stops, not left playing
// over the conversation.
func TestHoldMusicStopIsAskedAgain(t *testing.T) {
	h := newHarness(t, strings.Replace(holdMusic, "    queue: {moh_class: acme-jazz}\n", "    queue: {moh_class: acme-jazz}\n    record: true\n", 1))
	var stops atomic.Int32
	h.failThrough(func(r *http.Request) bool {
		return r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/ari/bridges/") && strings.HasSuffix(r.URL.Path, "/moh") && stops.Add(1) <= 2
	})
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	h.start()
	id := h.call("0312345678", "0901234567")
	op := h.bridgedPeer(id)
	c, _ := h.fake.Channel(id)
	bridge := func() aritest.BridgeSnapshot { b, _ := h.fake.Bridge(c.BridgeID); return b }
	h.eventually("recorded", func() bool { return bridge().Recorded })
	for _, held := range []bool{true, false} {
		if err := h.fake.RemoteHold(op, held); err != nil {
			t.Fatal(err)
		}
		if held {
			h.eventually("music on hold in the bridge", func() bool { return bridge().MOHClass == "acme-jazz" })
		}
	}
	h.eventually("music on hold stopped at the third stop", func() bool { return bridge().MOHClass == "" })
	if n := stops.Load(); n != 3 {
		t.Fatalf("%d stops sent, want 3 (two failed)", n)
	}
}
