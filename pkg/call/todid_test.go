package call_test

import (
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
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

// toReadFails is a channel API whose read of the To header meets a caller
// hanging up (404, the channel gone) or fails (500: Asterisk could not
// read it).
type toReadFails struct {
	ari.Channel
	fake   *aritest.Server
	hangUp bool
}

func (c toReadFails) GetVariable(key *ari.Key, name string) (string, error) {
	if name != "PJSIP_HEADER(read,To)" {
		return c.Channel.GetVariable(key, name)
	}
	if c.hangUp {
		if err := c.fake.RemoteHangup(key.ID); err != nil {
			return "", err
		}
		return "", ariError{404, "Not Found: Provided channel was not found"}
	}
	return "", ariError{500, "Internal Server Error: Unable to read provided function"}
}

// TestToHeaderUnreadable: a caller who hangs up before the To header is
// read is a missed call (of no known client), not a call to an unknown
// number; a read that fails ends the call as failed, without telling the
// caller the number is not in service.
func TestToHeaderUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hangUp     bool
		wantResult store.Result
		wantReason string
	}{
		{"the caller hangs up", true, store.ResultAbandoned, "caller hung up before the dialled number was read"},
		{"Asterisk cannot read it", false, store.ResultFailed, "reading the dialled number from the To header failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddSound("ss-noservice", 3*time.Second)
			h.wrap = func(c ari.Client) ari.Client {
				return channelsOf{c, func(ch ari.Channel) ari.Channel { return toReadFails{ch, h.fake, tc.hangUp} }}
			}
			h.start()
			h.waitConnected(1)
			id := h.hgwCall("<sip:0312345678@192.168.1.1>")
			rec := h.waitRecord(id)
			if rec.Result != tc.wantResult || rec.Reason != tc.wantReason || rec.DID != "" {
				t.Fatalf("record %s (%s) DID %q, want %s (%s); events %v", rec.Result, rec.Reason, rec.DID, tc.wantResult, tc.wantReason, rec.Events)
			}
			if h.plays(id) != 0 {
				t.Fatalf("the caller was played something: %v", h.requestLines(id))
			}
		})
	}
}

// TestUnknownNumberAcrossARestart: a call no client takes (a gateway's To
// header without a number, a trunk DID nobody has) re-adopted during its
// announcement ends as that, after the announcement; it used to end as
// failed, "client  no longer configured".
func TestUnknownNumberAcrossARestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		call   func(h *harness) string
		reason string
	}{
		{"gateway", func(h *harness) string { return h.hgwCall("<sip:3@192.168.1.1>") }, "no dialled number in the To header"},
		{"trunk", func(h *harness) string {
			id, err := h.fake.IncomingCall("0399999999", "0901234567")
			if err != nil {
				h.t.Fatal(err)
			}
			return id
		}, "no client has DID 0399999999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddSound("ss-noservice", 20*time.Second) // 0.4 s of test time
			first := h.start()
			h.waitConnected(1)
			id := tc.call(h)
			h.waitPlaying(id)
			first.stop()
			h.start()
			h.waitConnected(2)
			rec := h.waitRecord(id)
			if rec.Result != store.ResultUnknownDID || !strings.HasPrefix(rec.Reason, tc.reason) {
				t.Fatalf("re-adopted during the announcement: %s (%s), want unknown-did (%s…)", rec.Result, rec.Reason, tc.reason)
			}
			if h.plays(id) != 1 {
				t.Fatalf("the announcement was played %d times, want once", h.plays(id))
			}
		})
	}
}
