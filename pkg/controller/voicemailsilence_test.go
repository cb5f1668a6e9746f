package controller_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// recordBody is the body of call id's request to record its message.
func (h *harness) recordBody(id string) string {
	h.t.Helper()
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodPost && r.Path == "/channels/"+id+"/record" {
			return r.Body
		}
	}
	h.t.Fatalf("call %s: no record request", id)
	return ""
}

// TestSilentVoicemailIsNoMessage: a caller who hears the beep and hangs up
// without a word (common) was recorded as a voicemail, and the client told
// 留守番電話にメッセージが残されました with a recording of silence. Asterisk
// is asked to detect silence (maxSilenceSeconds, voicemail_max_silence) and
// reports the talking it heard: nothing said is no voicemail; the record
// keeps the recording and says why (voicemail_silent).
func TestSilentVoicemailIsNoMessage(t *testing.T) {
	h := overflowHarness(t, `
    overflow: voicemail
    voicemail_prompt: ""
    voicemail_max: 60s
    voicemail_max_silence: 30s`)
	h.start()
	id := h.call("0312345678", "09012345678")
	h.waitRecording(id)
	if body := h.recordBody(id); !strings.Contains(body, `"maxSilenceSeconds":30`) {
		t.Fatalf("record body %s, want maxSilenceSeconds 30", body)
	}
	if err := h.fake.Silence(id, true); err != nil {
		t.Fatal(err)
	}
	rec := h.hangUpAfterAMessage(id)
	if rec.Result != store.ResultOverflow || !rec.VoicemailSilent || rec.Recording == "" {
		t.Fatalf("silent message: %s (%q), silent %v, recording %q; want overflow, silent, the recording kept", rec.Result, rec.Reason, rec.VoicemailSilent, rec.Recording)
	}
}

// TestOpenLineVoicemailEndsAfterSilence: a line left open after the beep
// (a caller who put the phone down without hanging up) was recorded for
// the whole voicemail_max, two minutes of silence by default. Asterisk
// ends it after voicemail_max_silence; the call ends, no voicemail.
func TestOpenLineVoicemailEndsAfterSilence(t *testing.T) {
	h := overflowHarness(t, `
    overflow: voicemail
    voicemail_prompt: ""
    voicemail_max: 10m
    voicemail_max_silence: 5s`)
	h.start()
	id := h.call("0312345678", "09012345678")
	h.waitRecording(id)
	if err := h.fake.Silence(id, true); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id) // no hang-up from the caller
	if rec.Result != store.ResultOverflow || !rec.VoicemailSilent || rec.Recording == "" {
		t.Fatalf("open line: %s (%q), silent %v, recording %q; want overflow, silent, the recording kept", rec.Result, rec.Reason, rec.VoicemailSilent, rec.Recording)
	}
	if d := rec.EndedAt.Sub(rec.StartedAt); d > 5*time.Minute {
		t.Fatalf("the call lasted %v of Asterisk's time: the silence did not end it", d)
	}
}

// TestVoicemailSpokenIsAMessage: a caller who speaks after the beep leaves
// a voicemail, silence detection on; and with voicemail_max_silence: 0 no
// detection is asked for and a silent message is a voicemail, as before.
func TestVoicemailSpokenIsAMessage(t *testing.T) {
	for _, tc := range []struct {
		name, setting string
		silent        bool
	}{
		{"spoken", "", false},
		{"detection off, silent", "\n    voicemail_max_silence: 0s", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := overflowHarness(t, `
    overflow: voicemail
    voicemail_prompt: ""
    voicemail_max: 60s`+tc.setting)
			h.start()
			id := h.call("0312345678", "09012345678")
			h.waitRecording(id)
			if tc.silent {
				if body := h.recordBody(id); strings.Contains(body, `"maxSilenceSeconds":`) && !strings.Contains(body, `"maxSilenceSeconds":0`) {
					t.Fatalf("record body %s: detection asked for", body)
				}
				if err := h.fake.Silence(id, true); err != nil {
					t.Fatal(err)
				}
			}
			rec := h.hangUpAfterAMessage(id)
			if rec.Result != store.ResultVoicemail || rec.VoicemailSilent || rec.Recording == "" {
				t.Fatalf("%s: %s (%q), silent %v, recording %q; want a voicemail", tc.name, rec.Result, rec.Reason, rec.VoicemailSilent, rec.Recording)
			}
		})
	}
}

// TestRestartAfterSilenceDetectionTurnedOn: a message recorded without
// silence detection (voicemail_max_silence: 0s), a reload turning it on,
// and a restart during the message. The restarted controller took the
// client's setting of now: the message's end, which then reports no
// talking (none was asked for), made every such message a silent one (a
// review). It keeps what the recording was asked for.
func TestRestartAfterSilenceDetectionTurnedOn(t *testing.T) {
	h := overflowHarness(t, `
    overflow: voicemail
    voicemail_prompt: ""
    voicemail_max: 60s
    voicemail_max_silence: 0s`)
	first := h.start()
	id := h.call("0312345678", "09012345678")
	h.waitRecording(id)
	first.stop()
	h.cfg.Clients[0].VoicemailMaxSilence = 10 * time.Second
	h.start()
	rec := h.hangUpAfterAMessage(id)
	if rec.Result != store.ResultVoicemail || rec.VoicemailSilent {
		t.Fatalf("a spoken message across the restart: %s (%q), silent %v; want a voicemail", rec.Result, rec.Reason, rec.VoicemailSilent)
	}
}

// TestRestartAfterASilentMessageEnded: the message ended with nothing
// said in it (its state saved so) and the controller stopped before the
// hang-up. The next one found the recording stored and made the call a
// voicemail, 留守番電話にメッセージが残されました (a review). It ends as
// the silent message it was.
func TestRestartAfterASilentMessageEnded(t *testing.T) {
	h := overflowHarness(t, `
    overflow: voicemail
    voicemail_prompt: ""
    voicemail_max: 60s
    voicemail_max_silence: 5s`)
	first := h.start()
	id := h.call("0312345678", "09012345678")
	h.waitRecording(id)
	first.stop()
	// What messageRecordedSilent saves before its hang-up.
	ch, _ := h.fake.Channel(id)
	cl := first.c.Link.Client()
	if err := cl.Channel().SetVariable(ari.NewKey(ari.ChannelKey, id), call.StateVar, ch.Vars[call.StateVar]+"&vs=1"); err != nil {
		t.Fatal(err)
	}
	if err := h.fake.Silence(id, true); err != nil {
		t.Fatal(err)
	}
	h.eventually("the silent message ended", func() bool { return h.fake.ChannelRecording(id) == "" })
	h.start()
	rec := h.record(id)
	if rec.Result != store.ResultOverflow || !rec.VoicemailSilent || rec.Recording == "" {
		t.Fatalf("after a restart: %s (%q), silent %v, recording %q; want the silent message", rec.Result, rec.Reason, rec.VoicemailSilent, rec.Recording)
	}
}

// TestHangupDuringTheBeepIsNoMessage: a caller who hangs up while the beep
// plays leaves no message (Asterisk writes no file, and its end reports
// neither duration nor talking). Taken for a silent message, the client
// was told of one, with a recording that does not exist (a review).
func TestHangupDuringTheBeepIsNoMessage(t *testing.T) {
	// A long beep: on a busy machine Asterisk's 990 ms could end before
	// the hang-up is sent.
	h := overflowHarnessFake(t, `
    overflow: voicemail
    voicemail_prompt: ""
    voicemail_max: 60s`, aritest.Options{BeepLength: time.Minute})
	h.start()
	id := h.call("0312345678", "09012345678")
	h.eventually("the beep playing", func() bool { return h.fake.ChannelRecording(id) == "queued" })
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultOverflow || rec.VoicemailSilent || rec.Recording != "" {
		t.Fatalf("hung up during the beep: %s (%q), silent %v, recording %q; want the overflow, no message", rec.Result, rec.Reason, rec.VoicemailSilent, rec.Recording)
	}
}
