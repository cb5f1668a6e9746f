package aritest

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// TestRecordingSilenceDetection: a channel recording with
// maxSilenceSeconds ends once the far end has been silent longer than
// that, and its RecordingFinished reports talking_duration and
// silence_duration as main/app.c __ast_play_and_record counts them (whole
// seconds; every silence but its first 200 ms taken from the talking, the
// trailing one from the duration); without maxSilenceSeconds neither is
// reported and silence never ends it.
func TestRecordingSilenceDetection(t *testing.T) {
	type step struct {
		after  time.Duration
		silent bool
	}
	tests := []struct {
		name       string
		maxSilence string // "" sends none
		beep       bool
		steps      []step // far end's changes, from the recording's start
		hangupAt   time.Duration
		want       string // the recording's end, as reported
	}{
		{"talks, then silent until the limit", "3", false, []step{{2 * time.Second, true}}, 0,
			`"duration":3,"talking_duration":3,"silence_duration":0`},
		{"silent from the start, hangs up", "10", false, []step{{0, true}}, 1500 * time.Millisecond,
			`"duration":0,"talking_duration":0,"silence_duration":0`},
		{"silent 10.3 s, hangs up: the trailing silence takes the duration to 0", "30", false, []step{{0, true}}, 10300 * time.Millisecond,
			`"duration":0,"talking_duration":0,"silence_duration":0`},
		{"silent 10.1 s, hangs up: 1 s each", "30", false, []step{{0, true}}, 10100 * time.Millisecond,
			`"duration":1,"talking_duration":1,"silence_duration":0`},
		{"a pause, then talking until the hang-up", "10", false, []step{{time.Second, true}, {4 * time.Second, false}}, 6 * time.Second,
			`"duration":6,"talking_duration":4,"silence_duration":2`},
		{"silent from the beep (not recorded), hangs up", "10", true, []step{{0, true}}, 3 * time.Second,
			`"duration":1,"talking_duration":1,"silence_duration":0`},
		{"no detection asked: nothing reported, silence goes on", "", false, []step{{0, true}}, 20 * time.Second,
			`"duration":20}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hw := answeredInHangupWindow(t, 0)
			s, clock, ws, id := hw.s, hw.clock, hw.ws, hw.id
			q := url.Values{"name": {"vm"}, "format": {"wav"}}
			if tc.beep {
				q.Set("beep", "true")
			}
			if tc.maxSilence != "" {
				q.Set("maxSilenceSeconds", tc.maxSilence)
			}
			if got := hw.req("POST", "/channels/"+id+"/record", q); got != 201 {
				t.Fatalf("record = %d", got)
			}
			clock.Advance(0)
			waitEvent(t, ws, "RecordingStarted vm recording")
			at := time.Duration(0)
			for _, st := range tc.steps {
				clock.Advance(st.after - at)
				at = st.after
				if err := s.Silence(id, st.silent); err != nil {
					t.Fatal(err)
				}
			}
			if tc.hangupAt > 0 {
				clock.Advance(tc.hangupAt - at)
				if err := s.RemoteHangup(id); err != nil {
					t.Fatal(err)
				}
			} else {
				clock.Advance(time.Minute)
			}
			got := finished(t, ws)
			if !strings.Contains(got, tc.want) {
				t.Fatalf("RecordingFinished %s, want %s", got, tc.want)
			}
		})
	}
}

// finished waits for a RecordingFinished and returns its recording's JSON.
func finished(t *testing.T, ws *evClient) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, e := range ws.events() {
			var ev struct {
				Type      string          `json:"type"`
				Recording json.RawMessage `json:"recording"`
			}
			if json.Unmarshal([]byte(e), &ev) == nil && ev.Type == "RecordingFinished" {
				return string(ev.Recording)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no RecordingFinished among %v", ws.events())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestDTMFNeedsMedia: a digit from the far end needs the call answered
// (RFC 4733 travels in the media; a caller hearing ringback has none) and
// is one of a phone's keys (ARI's digit: 0-9, A-D, * and #).
func TestDTMFNeedsMedia(t *testing.T) {
	s, _ := startFake(t)
	id, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendDTMF(id, "1"); err == nil {
		t.Fatal("a digit on a channel not answered was taken")
	}
	cl := restClient(s)
	key := ari.NewKey(ari.ChannelKey, id)
	if err := cl.Channel().Answer(key); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "12", "x", "E"} {
		if err := s.SendDTMF(id, bad); err == nil {
			t.Errorf("digit %q taken", bad)
		}
	}
	for _, d := range []string{"1", "#", "*", "D"} {
		if err := s.SendDTMF(id, d); err != nil {
			t.Errorf("digit %q on an answered call: %v", d, err)
		}
	}
}
