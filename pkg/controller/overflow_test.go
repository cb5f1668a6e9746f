// Scenarios of callers waiting too long: the overflow message and
// voicemail, also across a controller restart (callback requests:
// callback_test.go).

package controller_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
)

func TestOverflowToVoicemail(t *testing.T) {
	h := newHarness(t, `
queue: {max_wait: 200ms}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    overflow: voicemail
    voicemail_max: 30s
  - id: closed
    name: 休業中
    dids: ["03-1111-1111"]
    greeting: sound:toritsugi/closed-greeting
    after_hours_sound: sound:toritsugi/closed-message
    after_hours_voicemail: true
    voicemail_max: 30s
    hours: {weekly: {mon: []}}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.fake.AddSound("toritsugi/closed-message", time.Second)
	h.fake.AddSound("vm-nobodyavail", time.Second)
	h.fake.AddSound("vm-intro", time.Second)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.start()
	for _, tc := range []struct{ did, why string }{{"0312345678", "overflow"}, {"0311111111", "after hours"}} {
		rec := h.record(h.call(tc.did, "0901234567"))
		if rec.Result != store.ResultVoicemail || rec.Recording == "" || rec.Reason != "voicemail left ("+tc.why+")" {
			t.Fatalf("%s: %s (%s) recording %q, want a voicemail", tc.why, rec.Result, rec.Reason, rec.Recording)
		}
	}
	if !strings.Contains(h.requests(), "/record") {
		t.Fatalf("no recording request:\n%s", h.requests())
	}
}

// TestRestartWhileLeavingVoicemail: the controller restarts while a caller
// records a message; the message is still recorded as a voicemail.
func TestRestartWhileLeavingVoicemail(t *testing.T) {
	h := voicemailHarness(t)
	first := h.start()
	id := h.call("0312345678", "09012345678")
	h.waitRecording(id)
	first.stop()
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultVoicemail || rec.Recording == "" {
		t.Fatalf("after a restart during the message: %s (%s) recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
	}
}

// TestRestartAfterCallerLeftVoicemail: the caller finishes their message
// by hanging up while no controller runs. Asterisk stores the recording;
// the next controller records the call as a voicemail with it (to be
// relayed like any), from the state the call kept in the store.
func TestRestartAfterCallerLeftVoicemail(t *testing.T) {
	h := voicemailHarness(t)
	first := h.start()
	id := h.call("0312345678", "09012345678")
	h.waitSpeaking(id)
	h.waitStoredStep(id, call.StepVoicemail)
	first.stop()
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultVoicemail || rec.Recording == "" || rec.Reason != "voicemail left (overflow)" || rec.Billable {
		t.Fatalf("message left while no controller ran: %+v", rec)
	}
}

// voicemailHarness: acme overflows after 200 ms straight to recording a
// message (no prompts); its one operator is not reachable.
func voicemailHarness(t *testing.T) *harness {
	t.Helper()
	return overflowHarness(t, `
    overflow: voicemail
    overflow_sound: ""
    voicemail_prompt: ""
    voicemail_max: 60s`)
}

// overflowHarness: acme overflows after 200 ms as overflow (lines of the
// client) says; its one operator is not reachable.
func overflowHarness(t *testing.T, overflow string) *harness {
	t.Helper()
	return overflowHarnessFake(t, overflow, aritest.Options{})
}

// overflowHarnessFake is overflowHarness with the fake's options.
func overflowHarnessFake(t *testing.T, overflow string, opts aritest.Options) *harness {
	t.Helper()
	h := newHarnessFake(t, `
queue: {max_wait: 200ms}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting`+overflow+`
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`, opts)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	return h
}

// TestRestartWhileLeavingAfterHoursVoicemail: a message left after hours
// across a restart is still an after-hours voicemail, billed as the
// client's bill_after_hours says (the re-adopted call knew neither).
func TestRestartWhileLeavingAfterHoursVoicemail(t *testing.T) {
	h := closedHarness(t, time.Second, `
    after_hours_voicemail: true
    voicemail_prompt: ""
    voicemail_max: 60s`)
	first := h.start()
	id := h.call("0311111111", "09012345678")
	h.waitRecording(id)
	first.stop()
	h.start()
	rec := h.hangUpAfterAMessage(id)
	if rec.Result != store.ResultVoicemail || rec.Reason != "voicemail left (after hours)" || !rec.Billable || rec.Recording == "" {
		t.Fatalf("after-hours message across a restart: %+v", rec)
	}
}

// TestRestartDuringAfterHoursMessageBills: a call re-adopted during the
// after-hours message is billed as its client's bill_after_hours says.
//
// The message is heard to its end: the new controller waits for it before
// it hangs up (it used to hang up at once, cutting it).
func TestRestartDuringAfterHoursMessageBills(t *testing.T) {
	h := closedHarness(t, 30*time.Second, "") // 0.3 s of test time: the restart comes while it plays
	first := h.start()
	id := h.call("0311111111", "09012345678")
	h.eventually("the after-hours message playing, state saved", func() bool {
		ch, ok := h.fake.Channel(id)
		return ok && strings.Contains(ch.Vars["TORITSUGI_STATE"], "x=after-hours") && strings.Contains(h.requests(), "/play")
	})
	first.stop()
	h.start()
	if rec := h.record(id); rec.Result != store.ResultAfterHours || !rec.Billable {
		t.Fatalf("after-hours call across a restart: %s (%s) billable %v", rec.Result, rec.Reason, rec.Billable)
	}
	// The message was heard to its end: the restart did not cut it (in
	// Asterisk's time).
	played := requestTime(h, func(r aritest.RequestLog) bool { return strings.HasPrefix(r.Path, "/channels/"+id+"/play/") })
	hungUp := requestTime(h, func(r aritest.RequestLog) bool { return r.Method == "DELETE" && r.Path == "/channels/"+id })
	if hungUp.Sub(played) < 30*time.Second {
		t.Fatalf("hung up %v after the 30 s message began", hungUp.Sub(played))
	}
}

// closedHarness: client "closed" (03-1111-1111) is closed all week, bills
// after-hours calls and plays an after-hours message of the given length;
// extra adds lines to the client. Its one operator is not reachable.
func closedHarness(t *testing.T, message time.Duration, extra string) *harness {
	t.Helper()
	h := newHarness(t, `
clients:
  - id: closed
    name: 休業中
    dids: ["03-1111-1111"]
    greeting: sound:toritsugi/closed-greeting
    after_hours_sound: sound:toritsugi/closed-message
    bill_after_hours: true
    hours: {weekly: {mon: []}}`+extra+`
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.fake.AddSound("toritsugi/closed-message", message)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	return h
}

// hangUpAfterAMessage lets the caller of id speak ten seconds (in
// Asterisk's time) into the recording under way, hangs them up and
// returns the call's record.
func (h *harness) hangUpAfterAMessage(id string) store.CallRecord {
	h.t.Helper()
	h.waitSpeaking(id)
	if err := h.fake.RemoteHangup(id); err != nil {
		h.t.Fatal(err)
	}
	return h.record(id)
}

// waitSpeaking waits until call id's message records past the beep, and
// lets the caller speak ten seconds (in Asterisk's time): a hang-up during
// the beep leaves no message (Asterisk stores none), and on a loaded
// machine the recording may start late; a message of less than a second
// is none.
func (h *harness) waitSpeaking(id string) {
	h.t.Helper()
	h.eventually("the message recording", func() bool { return h.fake.ChannelRecording(id) == "recording" })
	time.Sleep(100 * time.Millisecond)
}

// waitRecording waits until call id records a message (its saved step says so).
func (h *harness) waitRecording(id string) {
	h.t.Helper()
	h.eventually("recording the message", func() bool {
		ch, ok := h.fake.Channel(id)
		if !ok || !strings.Contains(ch.Vars["TORITSUGI_STATE"], "s=voicemail") {
			return false
		}
		// The state is saved before the recording is asked for: on a
		// loaded machine the caller's hang-up could otherwise come
		// first, and there would be no message to speak of.
		for _, r := range h.fake.Requests() {
			if r.Method == http.MethodPost && r.Path == "/channels/"+id+"/record" && r.Status == http.StatusCreated {
				return true
			}
		}
		return false
	})
}

// TestMessageLeftWhenAsteriskCannotSay: a message whose recording ended
// unseen (its RecordingFinished lost with the link, or ended while no
// controller ran) is settled by asking Asterisk for the stored recording;
// when Asterisk fails to answer, the message is taken as left and relayed
// (a relay that finds no recording beats a message lost), as it is when
// the call ends first.
func TestMessageLeftWhenAsteriskCannotSay(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(h *harness, id string)
	}{
		{"re-sync after the link drops", func(h *harness, id string) {
			h.fake.DropWebSockets()
			if err := h.fake.SendDTMF(id, "#"); err != nil {
				t.Fatal(err)
			}
		}},
		{"restart", func(h *harness, id string) {
			h.last.stop()
			if err := h.fake.SendDTMF(id, "#"); err != nil {
				t.Fatal(err)
			}
			h.start()
		}},
		{"the call ends with the link down", func(h *harness, id string) {
			h.fake.DropWebSockets()
			if err := h.fake.RemoteHangup(id); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := voicemailHarness(t)
			var asked atomic.Int32
			h.failThrough(func(r *http.Request) bool {
				if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/ari/recordings/stored/") {
					asked.Add(1)
					return true
				}
				return false
			})
			h.start()
			id := h.call("0312345678", "09012345678")
			h.waitRecording(id)
			time.Sleep(100 * time.Millisecond) // ten seconds of message, in Asterisk's time
			tc.end(h, id)
			if rec := h.record(id); rec.Result != store.ResultVoicemail || rec.Recording == "" || rec.Reason != "voicemail left (overflow)" {
				t.Fatalf("%s (%s) recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
			}
			if asked.Load() == 0 {
				t.Fatal("Asterisk was never asked for the stored message")
			}
			h.eventually("the caller released", func() bool { _, up := h.fake.Channel(id); return !up })
		})
	}
}

// TestMessageEndUnseenAndUnasked: a caller presses '#' as the link drops
// (the RecordingFinished is lost) and stays on the line; the re-sync
// cannot ask Asterisk whether the recording goes on (500). The guard that
// settles a message outliving voicemail_max by 30 s asks for the stored
// recording: the message is left, not lost.
func TestMessageEndUnseenAndUnasked(t *testing.T) {
	h := voicemailHarness(t)
	h.clock = fastClock{} // the guard comes 90 s after the recording starts, in Asterisk's time
	h.fake.AddSound("toritsugi/acme-greeting", 0)
	h.failThrough(func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/ari/recordings/live/")
	})
	h.start()
	id := h.call("0312345678", "09012345678")
	h.waitRecording(id)
	time.Sleep(100 * time.Millisecond) // ten seconds of message, in Asterisk's time
	h.fake.DropWebSockets()
	if err := h.fake.SendDTMF(id, "#"); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(id); rec.Result != store.ResultVoicemail || rec.Recording == "" || rec.Reason != "voicemail left (overflow)" {
		t.Fatalf("%s (%s) recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
	}
	h.eventually("the caller released", func() bool { _, up := h.fake.Channel(id); return !up })
}

// TestCallerEndsVoicemail: a message ends by the caller hanging up (most
// do) or pressing '#' (terminateOn), also in the instant the ARI link
// drops, when its RecordingFinished is lost. Asterisk keeps the message
// either way (on a hangup it raises RecordingFinished before StasisEnd:
// the recording runs on the channel's Stasis thread); the call is a
// voicemail with it, and the caller is released. With the link down, the
// call's end (a hangup) asks Asterisk for the stored message, and the
// re-sync ('#', the caller still on the line) finds the recording ended.
func TestCallerEndsVoicemail(t *testing.T) {
	for _, tc := range []struct {
		name     string
		linkDrop bool
		end      func(h *harness, id string) error
	}{
		{"hanging up", false, func(h *harness, id string) error { return h.fake.RemoteHangup(id) }},
		{"pressing #", false, func(h *harness, id string) error { return h.fake.SendDTMF(id, "#") }},
		{"hanging up as the link drops", true, func(h *harness, id string) error { return h.fake.RemoteHangup(id) }},
		{"pressing # as the link drops", true, func(h *harness, id string) error { return h.fake.SendDTMF(id, "#") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := voicemailHarness(t)
			h.start()
			id := h.call("0312345678", "09012345678")
			h.waitRecording(id)
			time.Sleep(100 * time.Millisecond) // ten seconds of message, in Asterisk's time
			if tc.linkDrop {
				h.fake.DropWebSockets()
			}
			if err := tc.end(h, id); err != nil {
				t.Fatal(err)
			}
			if rec := h.record(id); rec.Result != store.ResultVoicemail || rec.Recording == "" || rec.Reason != "voicemail left (overflow)" {
				t.Fatalf("%s (%s) recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
			}
			h.eventually("the caller released", func() bool { _, up := h.fake.Channel(id); return !up })
		})
	}
}

// TestRestartDuringAfterHoursMessageThenVoicemail: a restart while the
// after-hours message plays, for a client that takes messages after
// hours: the caller still gets to leave one (the message was to be
// followed by the voicemail; a re-adopted call at that point used to be
// hung up).
func TestRestartDuringAfterHoursMessageThenVoicemail(t *testing.T) {
	h := closedHarness(t, 30*time.Second, `
    after_hours_voicemail: true
    voicemail_prompt: ""
    voicemail_max: 60s`)
	first := h.start()
	id := h.call("0311111111", "09012345678")
	h.eventually("the after-hours message playing, what follows saved", func() bool {
		ch, ok := h.fake.Channel(id)
		return ok && strings.Contains(ch.Vars["TORITSUGI_STATE"], "th=voicemail") && strings.Contains(h.requests(), "/play")
	})
	first.stop()
	h.start()
	h.waitRecording(id)
	rec := h.hangUpAfterAMessage(id)
	if rec.Result != store.ResultVoicemail || rec.Reason != "voicemail left (after hours)" || !rec.Billable || rec.Recording == "" || rec.AnsweredAt.IsZero() {
		t.Fatalf("after-hours message interrupted by a restart: %+v", rec)
	}
}

// TestRestartDuringTheVoicemailPrompt: a restart while the voicemail
// prompt plays. The prompt is heard once: a re-adopting controller waits
// for the one still playing, or records at once when it ended while no
// controller ran. (It used to play the prompt again, after the first.)
func TestRestartDuringTheVoicemailPrompt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prompt time.Duration // in Asterisk's time: the fake's clock runs 100 times faster
		gap    time.Duration // real time with no controller
	}{
		{"still playing", 60 * time.Second, 0},
		{"ended meanwhile", 2 * time.Second, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := overflowHarness(t, `
    overflow: voicemail
    overflow_sound: ""
    voicemail_prompt: sound:toritsugi/vm-prompt
    voicemail_max: 60s`)
			h.fake.AddSound("toritsugi/vm-prompt", tc.prompt)
			first := h.start()
			id := h.call("0312345678", "09012345678")
			h.eventually("the prompt playing, what follows saved", func() bool {
				ch, ok := h.fake.Channel(id)
				return ok && strings.Contains(ch.Vars["TORITSUGI_STATE"], "vp=1") && prompts(h, id) == 1
			})
			first.stop()
			time.Sleep(tc.gap)
			h.start()
			h.waitRecording(id)
			rec := h.hangUpAfterAMessage(id)
			if rec.Result != store.ResultVoicemail || rec.Recording == "" {
				t.Fatalf("after a restart during the prompt: %s (%s) recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
			}
			if n := prompts(h, id); n != 1 {
				t.Fatalf("the prompt was played %d times, want once:\n%s", n, h.requests())
			}
			// The message is recorded once the prompt is over (the guard
			// on its end counts from then), in Asterisk's time. (When the
			// prompt ended during the gap, only the count above tells.)
			played := requestTime(h, func(r aritest.RequestLog) bool { return isPrompt(r, id) })
			recorded := requestTime(h, func(r aritest.RequestLog) bool { return r.Path == "/channels/"+id+"/record" })
			if tc.gap == 0 && recorded.Sub(played) < tc.prompt {
				t.Fatalf("recorded %v after the prompt began, before its %v were over", recorded.Sub(played), tc.prompt)
			}
		})
	}
}

// TestRestartReadsAnIntermediateBuildsPromptState: builds between addf397
// and a4c7efe saved the playing voicemail prompt as th=record:<why>. A
// call such a build left is re-adopted into its recording, not offered a
// callback (what any unknown next step used to become).
func TestRestartReadsAnIntermediateBuildsPromptState(t *testing.T) {
	h := overflowHarness(t, `
    overflow: voicemail
    overflow_sound: ""
    voicemail_prompt: sound:toritsugi/vm-prompt
    voicemail_max: 60s`)
	h.fake.AddSound("toritsugi/vm-prompt", 60*time.Second)
	first := h.start()
	id := h.call("0312345678", "09012345678")
	var state string
	h.eventually("the prompt playing", func() bool {
		ch, ok := h.fake.Channel(id)
		state = ch.Vars["TORITSUGI_STATE"]
		return ok && strings.Contains(state, "vp=1")
	})
	first.stop()
	old := strings.Replace(strings.Replace(state, "th=voicemail%3Aoverflow", "th=record%3Aoverflow", 1), "&vp=1", "", 1)
	if old == state || strings.Contains(old, "vp=") {
		t.Fatalf("could not make the old state from %q", state)
	}
	h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/channels/"+id+"/variable") || r.URL.Query().Get("variable") != call.StateVar {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":` + strconv.Quote(old) + `}`))
		return true
	})
	h.start()
	h.waitRecording(id)
	rec := h.hangUpAfterAMessage(id)
	if rec.Result != store.ResultVoicemail || rec.Recording == "" {
		t.Fatalf("%s (%s) recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
	}
	for _, r := range h.fake.Requests() {
		if strings.HasPrefix(r.Path, "/channels/"+id+"/play/") && strings.Contains(r.Body+r.Query, "digits:") {
			t.Fatalf("the caller was offered a callback: %s %s", r.Path, r.Body)
		}
	}
}

// prompts counts the voicemail prompts played to call id.
func prompts(h *harness, id string) int {
	n := 0
	for _, r := range h.fake.Requests() {
		if isPrompt(r, id) {
			n++
		}
	}
	return n
}

// isPrompt: r plays the voicemail prompt to call id.
func isPrompt(r aritest.RequestLog, id string) bool {
	return strings.HasPrefix(r.Path, "/channels/"+id+"/play/") && strings.Contains(r.Body+r.Query, "vm-prompt")
}

// requestTime is when, in Asterisk's time, the fake got the last request
// match picks (zero if none).
func requestTime(h *harness, match func(aritest.RequestLog) bool) time.Time {
	var at time.Time
	for _, r := range h.fake.Requests() {
		if match(r) {
			at = r.Time
		}
	}
	return at
}

// TestVoicemailRecordingFails: Asterisk cannot record the message (a full
// disk): the call ends at once, without a message, saying why, instead of
// leaving the caller in silence until voicemail_max; the record says the
// message was lost (VoicemailFailed), for the client's notice.
func TestVoicemailRecordingFails(t *testing.T) {
	h := voicemailHarness(t)
	h.fake.FailRecordings("disk full")
	h.start()
	id := h.call("0312345678", "09012345678")
	rec := h.record(id)
	if rec.Result == store.ResultVoicemail || rec.Recording != "" || !rec.VoicemailFailed || !strings.Contains(fmt.Sprint(rec.Events), "the message could not be recorded: disk full") {
		t.Fatalf("a voicemail that could not be recorded: %+v", rec)
	}
}

// TestVoicemailRecordRequestFails: the request to record the caller's
// message fails. Refused (500), no message is recorded: the record says
// the message was lost (VoicemailFailed: the client's notice says so,
// not that the caller was asked to call again, and an after-hours caller
// is not left untold), its result and billing the overflow's or
// after-hours' as for any message lost (refused as the caller hangs up,
// no message was lost). Not answered in time, Asterisk
// may record it all the same: the caller is not hung up at once; the
// message it recorded is a voicemail, and none stored when the caller
// hangs up is a message lost.
func TestVoicemailRecordRequestFails(t *testing.T) {
	afterHours := func(t *testing.T) *harness {
		return closedHarness(t, time.Second, `
    after_hours_voicemail: true
    voicemail_prompt: ""
    voicemail_max: 60s`)
	}
	isRecord := func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/ari/channels/") && strings.HasSuffix(r.URL.Path, "/record")
	}
	refused := func(h *harness) {
		h.failThrough(isRecord)
	}
	// refusedAsTheCallerLeaves: Asterisk refuses the record request as
	// the caller hangs up (it refuses commands then): no message lost.
	refusedAsTheCallerLeaves := func(h *harness) {
		h.failThrough(func(r *http.Request) bool {
			if !isRecord(r) {
				return false
			}
			if err := h.fake.RemoteHangup(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/ari/channels/"), "/record")); err != nil {
				h.t.Errorf("hanging up the caller: %v", err)
			}
			return true
		})
	}
	// unanswered answers the record request only after the controller
	// gave it up, having passed it to Asterisk (recorded) or not; then the
	// caller, when nothing was recorded, hangs up.
	unanswered := func(recorded bool) func(h *harness) {
		return func(h *harness) {
			fakeURL := h.fake.URL()
			h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if !isRecord(r) {
					return false
				}
				id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/ari/channels/"), "/record")
				if recorded {
					req, _ := http.NewRequest(http.MethodPost, fakeURL+strings.TrimPrefix(r.URL.Path, "/ari")+"?"+r.URL.RawQuery, r.Body)
					req.Header = r.Header.Clone()
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						h.t.Errorf("passing the record request on: %v", err)
						return true
					}
					resp.Body.Close()
				}
				time.Sleep(2500 * time.Millisecond) // the controller's RequestTimeout is 2 s
				if !recorded {
					if err := h.fake.RemoteHangup(id); err != nil {
						h.t.Errorf("hanging up the caller: %v", err)
					}
				}
				return true
			})
		}
	}
	for _, tc := range []struct {
		name    string
		harness func(*testing.T) *harness
		did     string
		fail    func(*harness)
		result  store.Result
		lost    bool // VoicemailFailed
		billed  bool
		note    string
	}{
		{"refused, overflow", voicemailHarness, "0312345678", refused, store.ResultOverflow, true, false, "the message could not be recorded: "},
		{"refused, after hours", afterHours, "0311111111", refused, store.ResultAfterHours, true, true, "the message could not be recorded: "},
		{"refused as the caller leaves", voicemailHarness, "0312345678", refusedAsTheCallerLeaves, store.ResultOverflow, false, false, "the failure came with the caller's hangup"},
		{"unanswered, recorded", voicemailHarness, "0312345678", unanswered(true), store.ResultVoicemail, false, false, "message recorded: "},
		{"unanswered, nothing recorded", voicemailHarness, "0312345678", unanswered(false), store.ResultOverflow, true, false,
			"the message could not be recorded: its record request got no answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.harness(t)
			tc.fail(h)
			h.start()
			rec := h.record(h.call(tc.did, "09012345678"))
			if rec.Result != tc.result || rec.VoicemailFailed != tc.lost || rec.Billable != tc.billed || (rec.Recording != "") != (tc.result == store.ResultVoicemail) {
				t.Fatalf("%s (%s) voicemail_failed %v billable %v recording %q; want %s, voicemail_failed %v, billable %v; events %v",
					rec.Result, rec.Reason, rec.VoicemailFailed, rec.Billable, rec.Recording, tc.result, tc.lost, tc.billed, rec.Events)
			}
			if !strings.Contains(fmt.Sprint(rec.Events), tc.note) {
				t.Fatalf("the timeline does not say %q: %v", tc.note, rec.Events)
			}
		})
	}
}

// TestHangupRetriedUntilItWorks: Asterisk refuses to hang the caller up
// (500) more times than the quick retries: the call is not given up with
// the caller left on a line nobody serves; the hangup is asked again
// until it works, and then the call is recorded.
func TestHangupRetriedUntilItWorks(t *testing.T) {
	h := closedHarness(t, 0, "")
	h.clock = fastClock{} // retries 1 s and 10 s apart, in Asterisk's time
	var refused atomic.Int32
	h.failThrough(func(r *http.Request) bool {
		return r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/ari/channels/") && refused.Add(1) <= 5
	})
	h.start()
	id := h.call("0311111111", "09012345678")
	rec := h.record(id)
	if rec.Result != store.ResultAfterHours || refused.Load() < 6 {
		t.Fatalf("%s (%s) after %d hangups", rec.Result, rec.Reason, refused.Load())
	}
	if _, up := h.fake.Channel(id); up {
		t.Fatal("the call was recorded with the caller still on the line")
	}
}

// TestHangupRetryOutlivesAStoppedGreeting: a ringback caller overflows
// while their greeting plays; the greeting is stopped and the hangup
// refused once. The stopped greeting's PlaybackFinished must not cancel
// the hangup's retry (it shared the call's one timer): the caller is hung
// up and the call recorded.
func TestHangupRetryOutlivesAStoppedGreeting(t *testing.T) {
	h := newHarness(t, `
queue: {max_wait: 1500ms}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/long-greeting
    answer_mode: ringback
    ringback_max: 1s
    overflow_sound: ""
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddSound("toritsugi/long-greeting", 5*time.Minute) // 3 s of test time: still playing at the overflow
	var refused atomic.Int32
	h.failThrough(func(r *http.Request) bool {
		return r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/ari/channels/") && refused.Add(1) == 1
	})
	h.start()
	id := h.call("0312345678", "09012345678")
	rec := h.record(id)
	if rec.Result != store.ResultOverflow || refused.Load() < 2 {
		t.Fatalf("%s (%s) after %d hangups; events %v", rec.Result, rec.Reason, refused.Load(), rec.Events)
	}
	if _, up := h.fake.Channel(id); up {
		t.Fatal("the call was recorded with the caller still on the line")
	}
}

// TestVoicemailGuardOutlivesAStoppedGreeting: a ringback caller overflows
// into voicemail while the greeting plays; the greeting is stopped. Its
// late PlaybackFinished must neither run what was to follow the greeting
// nor cancel the message's guard (they shared the call's one timer).
// With the message's end lost (the link down as '#' is pressed, and
// Asterisk unable to say whether it is still recording), the guard ends
// the call as a voicemail.
func TestVoicemailGuardOutlivesAStoppedGreeting(t *testing.T) {
	h := newHarness(t, `
queue: {max_wait: 400ms}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/long-greeting
    answer_mode: ringback
    ringback_max: 10s
    overflow: voicemail
    overflow_sound: ""
    voicemail_prompt: ""
    voicemail_max: 60s
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	// The calls' timers in Asterisk's time: ringback 0.1 s, the guard
	// (voicemail_max + 30 s) 0.9 s; a playback's own cut 10 s.
	h.clock, h.greetingTimeout = fastClock{}, 1000*time.Second
	h.fake.AddSound("toritsugi/long-greeting", 5*time.Minute) // 3 s of test time: still playing at the overflow
	h.failThrough(func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/ari/recordings/live/")
	})
	h.start()
	id := h.call("0312345678", "09012345678")
	h.waitRecording(id)
	time.Sleep(50 * time.Millisecond) // the stopped greeting's PlaybackFinished is read
	h.fake.DropWebSockets()
	if err := h.fake.SendDTMF(id, "#"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultVoicemail || rec.Recording == "" {
		t.Fatalf("%s (%s) recording %q; events %v", rec.Result, rec.Reason, rec.Recording, rec.Events)
	}
	if n := strings.Count(fmt.Sprint(rec.Events), "greeting finished"); n != 0 {
		t.Fatalf("the stopped greeting ran what was to follow it; events %v", rec.Events)
	}
}

// TestRingbackOverflowWithNothingToSay: a ringback caller who overflows to
// a plain hang-up with no overflow_sound is not answered only to be hung
// up (their carrier would bill a connected call that said nothing), and
// is refused with no_answer (480, TestUnansweredCallerIsRefusedWith480).
func TestRingbackOverflowWithNothingToSay(t *testing.T) {
	h := newHarness(t, `
queue: {max_wait: 200ms}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    answer_mode: ringback
    ringback_max: 60s
    overflow_sound: ""
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.start()
	id := h.call("0312345678", "09012345678")
	rec := h.record(id)
	if rec.Result != store.ResultOverflow || !rec.AnsweredAt.IsZero() {
		t.Fatalf("%s (%s): answered only to hang up (answered at %v)", rec.Result, rec.Reason, rec.AnsweredAt)
	}
	refusedUnanswered(t, h, id, "no_answer")
}

const twoClientsOneServed = `
queue: {ring_timeout: 15s, max_wait: 500ms, wrapup: 0s}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
  - id: beta
    name: BETA
    dids: ["06-1111-2222"]
    greeting: sound:toritsugi/beta-greeting
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["acme"]}
`

// TestCallerOfARemovedClientStillOverflows: a reload removes client
// beta, whom no operator serves. Its caller on hold overflows at its
// maximum wait; so does its caller who was still hearing the greeting at
// the reload and reaches the queue after it, rather than waiting on hold
// for ever.
func TestCallerOfARemovedClientStillOverflows(t *testing.T) {
	h := newHarness(t, twoClientsOneServed)
	h.fake.AddSound("toritsugi/beta-greeting", 100*time.Second) // 1 s of test time
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.updates = make(chan *config.Config, 1)
	h.start()
	first := h.call("0611112222", "0901111111")
	h.eventually("the first beta caller on hold", func() bool { return len(h.waiting("beta")) == 1 })
	second := h.call("0611112222", "0902222222")
	time.Sleep(100 * time.Millisecond) // in the greeting (1 s)
	body := twoClientsOneServed[:strings.Index(twoClientsOneServed, "  - id: beta")] + "operators:\n  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: [\"acme\"]}\n"
	cfg, err := config.Parse("test.yaml", fmt.Appendf(nil, "ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s", h.cfg.ARI.URL, body), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.reload(cfg)
	for _, id := range []string{first, second} {
		if r := h.record(id); r.Result != store.ResultOverflow {
			t.Errorf("%s: %s (%s), want overflow at the maximum wait", id, r.Result, r.Reason)
		}
	}
}

// TestQueueFullOverflowsAtOnce: with queue.max_callers, a caller beyond
// that many in line overflows at once (the client's overflow: here the
// message and hang-up), as app_queue's maxlen, instead of waiting out
// max_wait in a line that cannot move; the one in line waits on. There
// was no such limit (a review of behaviour under load); a client in
// ringback mode had none after it (a review of the change).
func TestQueueFullOverflowsAtOnce(t *testing.T) {
	for _, mode := range []string{"greeting", "ringback"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, `
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:toritsugi/acme-greeting
    answer_mode: `+mode+`
    ringback_max: 50m
    queue: {max_wait: 10m, max_callers: 1}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`)
			h.fake.AddEndpoint("PJSIP/op1001", false, answers)
			h.fake.AddSound("vm-nobodyavail", time.Second)
			h.start()
			first := h.call("0312345678", "09011111111")
			h.eventually("the first caller in line", func() bool { return len(h.waiting("acme")) == 1 })
			second := h.call("0312345678", "09022222222")
			rec := h.record(second)
			if rec.Result != store.ResultOverflow || rec.Reason != "overflow: queue-full" {
				t.Fatalf("second caller: %s (%s), want the overflow of a full line", rec.Result, rec.Reason)
			}
			if !strings.Contains(fmt.Sprint(channelPlays(h, second)), "sound:vm-nobodyavail") {
				t.Errorf("the second caller heard no overflow message: %v", channelPlays(h, second))
			}
			if w := h.waiting("acme"); len(w) != 1 || w[0] != first {
				t.Fatalf("in line: %v, want the first caller still waiting", w)
			}
		})
	}
}
