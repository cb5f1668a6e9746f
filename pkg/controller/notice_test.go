package controller_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/store"
)

const ringbackRecorded = `
queue: {ring_timeout: 15s, max_wait: 50m, wrapup: 0s, auto_pause_after: 2}
clients:
  - id: acme
    name: 株式会社ACME
    short_name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    whisper_sound: sound:toritsugi/whisper
    record: true
    record_announcement: sound:toritsugi/recorded
    answer_mode: ringback
    ringback_max: 2s
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`

// noticeOnce fails t unless the caller heard the recording notice once.
func noticeOnce(t *testing.T, h *harness, id string) {
	t.Helper()
	n := 0
	for _, p := range callerPlays(h, id) {
		n += strings.Count(p, "toritsugi/recorded")
	}
	if n != 1 {
		t.Fatalf("recording notice played %d times to the caller: %q", n, callerPlays(h, id))
	}
}

// callerPlays lists the bodies of the playbacks started on the caller.
func callerPlays(h *harness, id string) []string {
	var plays []string
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodPost && strings.Contains(r.Path, "/channels/"+id+"/play") {
			plays = append(plays, r.Body)
		}
	}
	return plays
}

// TestNoticeHeardKeptAcrossARestart: a ringback caller greeted at
// ringback_max hears the greeting and the recording notice; the controller
// restarts while they are on hold. At the bridge the notice is not played
// again (the operator would wait through it): that it was heard is kept on
// the channel.
func TestNoticeHeardKeptAcrossARestart(t *testing.T) {
	h := newHarness(t, ringbackRecorded)
	h.fake.AddSound("toritsugi/recorded", 20*time.Second)
	h.fake.AddSound("toritsugi/whisper", 2*time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	first := h.start()
	id := h.call("0312345678", "0901234567")
	h.eventually("greeted, then on hold", func() bool {
		c, ok := h.fake.Channel(id)
		return ok && c.MOHClass != "" && len(c.Playing) == 0
	})
	first.stop()
	h.start()
	h.eventually("re-adopted in line", func() bool { return len(h.waiting("acme")) == 1 })
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.eventually("bridged", func() bool { c, ok := h.fake.Channel(id); return ok && c.BridgeID != "" })
	noticeOnce(t, h, id)
}

// TestRestartDuringTheWhisperOfARingbackCaller: a ringback caller is
// answered at the connect; the controller restarts during the whisper. The
// re-adopted caller, who has heard nothing yet, is greeted before waiting
// again, and the record keeps the time of the answer, not the restart's.
func TestRestartDuringTheWhisperOfARingbackCaller(t *testing.T) {
	h := newHarness(t, strings.Replace(ringbackRecorded, "ringback_max: 2s", "ringback_max: 50m", 1))
	h.fake.AddSound("toritsugi/recorded", 100*time.Second)
	h.fake.AddSound("toritsugi/whisper", 200*time.Second) // 2 s test time
	h.fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: time.Hour})
	first := h.start()
	id := h.call("0312345678", "0901234567")
	h.eventually("answered at the connect", func() bool {
		return strings.Contains(h.requests(), "/channels/"+id+"/answer")
	})
	time.Sleep(300 * time.Millisecond)
	restartedAt := time.Now() // the answer's time is kept, not this
	first.stop()
	h.start()
	rec := func() store.CallRecord {
		h.eventually("bridged again", func() bool { c, ok := h.fake.Channel(id); return ok && c.BridgeID != "" })
		if err := h.fake.RemoteHangup(id); err != nil {
			t.Fatal(err)
		}
		return h.record(id)
	}()
	greeted := false
	for _, p := range callerPlays(h, id) {
		greeted = greeted || strings.Contains(p, "acme-greeting")
	}
	if !greeted || !rec.AnsweredAt.Before(restartedAt.Add(-200*time.Millisecond)) {
		t.Fatalf("greeted %v; AnsweredAt %v, restarted at %v: want the answer's time, 300 ms before", greeted, rec.AnsweredAt, restartedAt)
	}
}

// TestNoticeHeardWhenTheGreetingEndsDuringTheWhisper: a ringback caller
// greeted at ringback_max (greeting and notice in one playback) is taken
// by an operator during it; the greeting ends during the whisper, while
// the whisper is the playback waited for: its end still counts, and the
// notice is not played again at the bridge.
func TestNoticeHeardWhenTheGreetingEndsDuringTheWhisper(t *testing.T) {
	h := newHarness(t, strings.Replace(strings.Replace(ringbackRecorded, "ringback_max: 2s", "ringback_max: 1s", 1), "ring_timeout: 15s", "ring_timeout: 1000s", 1))
	h.fake.AddSound("toritsugi/acme-greeting", 100*time.Second) // 1 s
	h.fake.AddSound("toritsugi/recorded", 20*time.Second)       // 0.2 s
	h.fake.AddSound("toritsugi/whisper", 200*time.Second)       // 2 s
	h.fake.AddEndpoint("PJSIP/op1001", false, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: 150 * time.Second, HangupAfter: time.Hour})
	h.start()
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	id := h.call("0312345678", "0901234567")
	h.eventually("bridged", func() bool { c, ok := h.fake.Channel(id); return ok && c.BridgeID != "" })
	noticeOnce(t, h, id)
}
