package call_test

import (
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// hgwCall places a call as an NTT ひかり電話 home gateway sends it to an
// extension: Request-URI user "3", the dialled number in the To header,
// and the dialplan's Stasis(toritsugi,inbound,${EXTEN},to).
func (h *harness) hgwCall(to string) string {
	h.t.Helper()
	id, err := h.fake.IncomingCall("3", "0901234567",
		aritest.WithStasisArgs("inbound", "3", "to"), aritest.WithSIPHeader("To", to))
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// TestDIDFromTheToHeader: with Stasis(app,inbound,${EXTEN},to) the call's
// client is the one whose number is in the To header, whatever the
// extension; a To header with no number in it is an unknown DID that says
// so.
func TestDIDFromTheToHeader(t *testing.T) {
	for _, tt := range []struct {
		name, to   string
		wantResult store.Result
		wantClient string
		wantDID    string
		wantReason string
	}{
		{"national", "<sip:0312345678@192.168.1.1>", store.ResultCompleted, "acme", "0312345678", "greeting played"},
		{"E.164 with a display name", `"acme" <sip:+81312345678@ntt-east.ne.jp;user=phone>`, store.ResultCompleted, "acme", "+81312345678", "greeting played"},
		{"another client's number", "<sip:0399999999@192.168.1.1>", store.ResultUnknownDID, "", "0399999999", "no client has DID 0399999999"},
		{"the extension again", "<sip:3@192.168.1.1>", store.ResultUnknownDID, "", "", `no dialled number in the To header: phone: "<sip:3@192.168.1.1>": its user part is not a dialled number`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddSound("ss-noservice", 3*time.Second)
			h.start()
			h.waitConnected(1)
			id := h.hgwCall(tt.to)
			rec := h.waitRecord(id)
			if rec.Result != tt.wantResult || rec.ClientID != tt.wantClient || rec.DID != tt.wantDID || !strings.HasPrefix(rec.Reason, tt.wantReason) {
				t.Fatalf("record = %s/%s/%q/%q, want %s/%s/%q/%q…", rec.Result, rec.ClientID, rec.DID, rec.Reason, tt.wantResult, tt.wantClient, tt.wantDID, tt.wantReason)
			}
			if lines := h.requestLines(id); len(lines) == 0 || lines[0] != "GET /channels/ID/variable" {
				t.Fatalf("requests for the call %v, want the To header read first", lines)
			}
		})
	}
}

// TestDIDFromTheToHeaderAfterARestart: a controller that starts while a
// gateway's call is being greeted finds its client again from the To
// header (the dialplan's arguments say where the number is).
func TestDIDFromTheToHeaderAfterARestart(t *testing.T) {
	h := newHarness(t)
	first := h.start()
	h.waitConnected(1)
	id := h.hgwCall("<sip:0312345678@192.168.1.1>")
	h.waitPlaying(id)
	first.stop()
	h.start()
	h.waitConnected(2)
	rec := h.waitRecord(id)
	if rec.Result != store.ResultCompleted || rec.ClientID != "acme" || rec.DID != "0312345678" {
		t.Fatalf("re-adopted call ended %s (%s) client %q did %q", rec.Result, rec.Reason, rec.ClientID, rec.DID)
	}
}
