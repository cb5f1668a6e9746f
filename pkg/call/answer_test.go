package call_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// requestOf returns the first request whose method and path start as
// given, with its media or reason read from its query or JSON body.
func (h *harness) requestOf(method, pathPrefix string) (query url.Values, body string, ok bool) {
	for _, r := range h.fake.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			q, _ := url.ParseQuery(r.Query)
			return q, r.Body, true
		}
	}
	return nil, "", false
}

// TestAnswerLeadIn: what a caller just answered hears first is
// answer_silence (default sound:silence/1), in the same playback as the
// greeting: ARI's answer does not wait for the audio path, and a greeting
// played at once loses its first syllables. "" plays the greeting alone.
func TestAnswerLeadIn(t *testing.T) {
	for _, tt := range []struct {
		name, silence, want string
	}{
		{"default", "sound:silence/1", `"sound:silence/1","sound:toritsugi/acme-greeting"`},
		{"none", "", `"sound:toritsugi/acme-greeting"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if h.cfg.AnswerSilence != "sound:silence/1" {
				t.Fatalf("default answer_silence %q", h.cfg.AnswerSilence)
			}
			h.cfg.AnswerSilence = tt.silence
			h.start()
			h.waitConnected(1)
			id, err := h.fake.IncomingCall("0312345678", "0901234567")
			if err != nil {
				t.Fatal(err)
			}
			rec := h.waitRecord(id)
			if rec.Result != store.ResultCompleted {
				t.Fatalf("record %s/%q", rec.Result, rec.Reason)
			}
			_, body, ok := h.requestOf("POST", "/channels/"+id+"/play/")
			if !ok {
				t.Fatalf("no playback; requests:\n%s", h.requests())
			}
			if !strings.Contains(body, `"media":[`+tt.want+`]`) {
				t.Fatalf("greeting playback %s, want media [%s]", body, tt.want)
			}
		})
	}
}
