// Scenarios of the callback request offered at the overflow, also across
// a controller restart (the offer's keys: callbackivr_test.go).

package controller_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// waitOffered waits until a callback offer reads number back to the caller.
func (h *harness) waitOffered(number string) {
	h.t.Helper()
	h.eventually("callback offered to "+number, func() bool {
		return slices.ContainsFunc(h.fake.Requests(), func(r aritest.RequestLog) bool { return strings.Contains(r.Body, "digits:"+number) })
	})
}

// callbackHarness: acme overflows after 200 ms to a callback offer; its
// one operator is not reachable.
func callbackHarness(t *testing.T) *harness {
	t.Helper()
	h := overflowHarness(t, `
    overflow: callback
    callback_prompt: sound:toritsugi/callback-offer`)
	for _, s := range []string{"vm-nobodyavail", "toritsugi/callback-thanks"} {
		h.fake.AddSound(s, time.Second)
	}
	// Long enough (0.3 s of test time) that the caller's digit, or a
	// restart, comes while it plays.
	h.fake.AddSound("toritsugi/callback-offer", 30*time.Second)
	return h
}

// unwritableCallbacks fails every write of a callback request, as a store
// on a full disk does, and counts them.
type unwritableCallbacks struct {
	call.CallbackStore
	writes atomic.Int32
}

func (u *unwritableCallbacks) PutCallback(store.Callback) error {
	u.writes.Add(1)
	return errors.New("write toritsugi.db: no space left on device")
}

// TestCallbackRequestNotStored: the caller presses 1 but the store cannot
// keep the request (tried three times). The caller is not thanked (nothing
// promises the call back); the record says so and keeps the number.
func TestCallbackRequestNotStored(t *testing.T) {
	h := callbackHarness(t)
	cb := &unwritableCallbacks{CallbackStore: h.store}
	h.callbacks = cb
	h.start()
	id := h.call("0312345678", "09012345678")
	h.waitOffered("09012345678")
	if err := h.fake.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultOverflow || rec.Reason != "overflow: callback requested, not stored" ||
		!strings.Contains(fmt.Sprint(rec.Events), "callback requested to +819012345678; storing the request failed") {
		t.Fatalf("%s (%s); events %v", rec.Result, rec.Reason, rec.Events)
	}
	if n := cb.writes.Load(); n != 3 {
		t.Fatalf("%d writes, want 3", n)
	}
	if strings.Contains(h.requests(), "callback-thanks") {
		t.Fatal("the caller was thanked for a request that was not stored")
	}
}

func TestOverflowOffersCallback(t *testing.T) {
	h := callbackHarness(t)
	h.start()

	// Caller 1 presses 1 during the offer: a callback request is stored.
	yes := h.call("0312345678", "09012345678")
	h.waitOffered("09012345678")
	if err := h.fake.SendDTMF(yes, "1"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(yes)
	if rec.Result != store.ResultOverflow || rec.Reason != "overflow: callback requested" {
		t.Fatalf("caller who pressed 1: %s (%s)", rec.Result, rec.Reason)
	}
	// The 1 came during the offer: the offer was cut, not played out
	// before the thanks.
	offer := offerPlaybacks(h, yes)
	if len(offer) != 1 || !containsRequest(h, "DELETE", "/playbacks/"+offer[0]) {
		t.Fatalf("offer playbacks %v; the one playing when the caller pressed 1 was not stopped:\n%s", offer, h.requests())
	}
	cbs, err := h.store.Callbacks(store.CallbackPending)
	if err != nil || len(cbs) != 1 || cbs[0].ID != yes || cbs[0].Number != "+819012345678" || cbs[0].ClientID != "acme" {
		t.Fatalf("callbacks %+v, %v", cbs, err)
	}

	// A withheld caller cannot be called back: plain overflow.
	anon := h.record(h.call("0312345678", "anonymous"))
	if anon.Result != store.ResultOverflow || strings.Contains(anon.Reason, "callback") {
		t.Fatalf("withheld caller: %s (%s)", anon.Result, anon.Reason)
	}
	if cbs, _ := h.store.Callbacks(""); len(cbs) != 1 {
		t.Fatalf("callbacks after the withheld caller: %+v", cbs)
	}
	// Nor one from abroad (+1 212…): its digits said back start with no
	// sound for the +, and the client may not call abroad.
	abroad := h.call("0312345678", "+12125550123")
	if rec := h.record(abroad); rec.Result != store.ResultOverflow || strings.Contains(rec.Reason, "callback") {
		t.Fatalf("caller from abroad: %s (%s)", rec.Result, rec.Reason)
	}
	if offer := offerPlaybacks(h, abroad); len(offer) != 0 {
		t.Fatalf("a caller from abroad was offered a callback: %v", offer)
	}
	if cbs, _ := h.store.Callbacks(""); len(cbs) != 1 {
		t.Fatalf("callbacks after the caller from abroad: %+v", cbs)
	}
}

// TestRestartDuringCallbackOffer: the controller restarts while a caller
// hears the callback offer (their digit may be lost with it): the new
// controller offers again, and the caller's 1 stores the request.
func TestRestartDuringCallbackOffer(t *testing.T) {
	h := callbackHarness(t)
	first := h.start()
	id := h.call("0312345678", "09012345678")
	plays := func(media string) int {
		n := 0
		for _, r := range h.fake.Requests() {
			if strings.Contains(r.Path, id) && strings.Contains(r.Body, media) {
				n++
			}
		}
		return n
	}
	offers := func() int { return plays("digits:09012345678") }
	h.eventually("callback offered, state saved", func() bool {
		ch, ok := h.fake.Channel(id)
		return offers() == 1 && ok && strings.Contains(ch.Vars["TORITSUGI_STATE"], "s=callback")
	})
	first.stop()
	old := offerPlaybacks(h, id)
	h.start()
	h.eventually("callback offered again", func() bool { return offers() == 2 })
	// The old offer was still playing (0.3 s): it was stopped, or Asterisk
	// would have played the new one after it.
	if len(old) != 1 || !containsRequest(h, "DELETE", "/playbacks/"+old[0]) {
		t.Fatalf("old offer %v not stopped after the restart:\n%s", old, h.requests())
	}
	if err := h.fake.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultOverflow || rec.Reason != "overflow: callback requested" || rec.Billable {
		t.Fatalf("after a restart during the offer: %s (%s) billable %v; events %v", rec.Result, rec.Reason, rec.Billable, rec.Events)
	}
	cbs, err := h.store.Callbacks(store.CallbackPending)
	if err != nil || len(cbs) != 1 || cbs[0].ID != id || cbs[0].Number != "+819012345678" {
		t.Fatalf("callbacks %+v, %v", cbs, err)
	}
	// The offer resumed: the caller was not greeted and queued again.
	if n := plays("toritsugi/acme-greeting"); n != 1 {
		t.Fatalf("greeting played %d times, want once (before the restart)", n)
	}
}

// TestRestartAfterCallbackStored: the restart came after the caller's 1
// was stored but before the call was hung up: the new controller does not
// offer again, and the call ends as a requested callback, the request
// unchanged. A client that no longer offers callbacks (configuration
// changed meanwhile) gets its caller a plain overflow instead of an offer.
func TestRestartAfterCallbackStored(t *testing.T) {
	h := callbackHarness(t)
	first := h.start()
	stored := h.call("0312345678", "09012345678")
	other := h.call("0312345678", "09087654321")
	for _, id := range []string{stored, other} {
		h.eventually("callback offered, state saved", func() bool {
			ch, ok := h.fake.Channel(id)
			return ok && strings.Contains(ch.Vars["TORITSUGI_STATE"], "s=callback")
		})
	}
	first.stop()
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	if err := h.store.PutCallback(store.Callback{ID: stored, ClientID: "acme", Number: "+819012345678", RequestedAt: at}); err != nil {
		t.Fatal(err)
	}
	// The second caller's client stops offering callbacks.
	h.cfg.Clients[0].Overflow = config.OverflowHangup
	h.start()
	rec := h.record(stored)
	if rec.Result != store.ResultOverflow || rec.Reason != "overflow: callback requested" {
		t.Fatalf("stored request, restart: %s (%s); events %v", rec.Result, rec.Reason, rec.Events)
	}
	var thanks int
	for _, r := range h.fake.Requests() {
		if strings.Contains(r.Path, stored) && strings.Contains(r.Body, "toritsugi/callback-thanks") {
			thanks++
		}
	}
	if thanks != 1 {
		t.Fatalf("the caller whose request was stored heard the thanks %d times, want once", thanks)
	}
	if c, err := h.store.Callback(stored); err != nil || !c.RequestedAt.Equal(at) || c.State != store.CallbackPending {
		t.Fatalf("the request after the restart: %+v, %v", c, err)
	}
	rec = h.record(other)
	if rec.Result != store.ResultOverflow || strings.Contains(rec.Reason, "callback") {
		t.Fatalf("callbacks no longer offered, restart: %s (%s)", rec.Result, rec.Reason)
	}
	if _, err := h.store.Callback(other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a request was stored for the caller who was not offered again: %v", err)
	}
}

// offerPlaybacks lists the ids of the callback offers played to call id.
func offerPlaybacks(h *harness, id string) []string {
	var out []string
	for _, r := range h.fake.Requests() {
		if pb, ok := strings.CutPrefix(r.Path, "/channels/"+id+"/play/"); ok && strings.Contains(r.Body, "toritsugi/callback-offer") {
			out = append(out, pb)
		}
	}
	return out
}

// TestCallbackKeyLostWithTheLink: the caller presses 1 while the ARI link
// is down (Asterisk keeps no events meanwhile: the key is lost). After the
// re-sync the offer is made again, and the caller's 1 then is stored: the
// silence timer used to decline for them.
func TestCallbackKeyLostWithTheLink(t *testing.T) {
	h := callbackHarness(t)
	h.confirmWait = time.Second
	h.start()
	id := h.call("0312345678", "09012345678")
	h.waitOffered("09012345678")
	h.fake.DropWebSockets()
	if err := h.fake.SendDTMF(id, "1"); err != nil { // lost
		t.Fatal(err)
	}
	h.eventually("the offer made again", func() bool {
		n := 0
		for _, r := range h.fake.Requests() {
			if strings.Contains(r.Body, "digits:09012345678") {
				n++
			}
		}
		return n >= 2
	})
	if err := h.fake.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	cbs, _ := h.store.Callbacks("")
	if rec.Reason != "overflow: callback requested" || len(cbs) != 1 {
		t.Fatalf("%s (%s), %d callbacks; events %v", rec.Result, rec.Reason, len(cbs), rec.Events)
	}
}

// TestCallbackOfferOfTheNumberAloneAcrossARestart: with no callback_prompt
// the offer is the caller's number said alone, which Asterisk cannot stop
// once it plays (500). A controller restarted while it is said offers
// again, the new offer waiting behind the old; the caller's 1 during the
// old one cancels the waiting offer (a playback waiting its turn is
// stopped), and the request is stored: the number is not said twice.
func TestCallbackOfferOfTheNumberAloneAcrossARestart(t *testing.T) {
	// The fake at half of Asterisk's speed (not the harness's 100):
	// the number, 0.5 s a digit, outlasts a restart.
	h := overflowHarnessFake(t, `
    overflow: callback
    callback_prompt: ""`, aritest.Options{Clock: aritest.ScaledClock(2)})
	fake := h.fake
	for _, s := range []string{"toritsugi/acme-greeting", "vm-nobodyavail", "toritsugi/callback-thanks"} {
		fake.AddSound(s, 200*time.Millisecond)
	}
	first := h.start()
	id := h.call("0312345678", "09012345678")
	h.eventually("the number being said, the offer saved", func() bool {
		c, ok := fake.Channel(id)
		return ok && len(c.Playing) > 0 && strings.HasPrefix(c.Playing[0], "digits:") && strings.Contains(c.Vars[call.StateVar], "s=callback")
	})
	first.stop()
	h.start()
	offers := func() (ids []string) {
		for _, r := range fake.Requests() {
			if pb, ok := strings.CutPrefix(r.Path, "/channels/"+id+"/play/"); ok && strings.Contains(r.Body, "digits:09012345678") {
				ids = append(ids, pb)
			}
		}
		return ids
	}
	h.eventually("offered again", func() bool { return len(offers()) == 2 })
	if err := fake.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.Result != store.ResultOverflow || rec.Reason != "overflow: callback requested" {
		t.Fatalf("%s (%s)", rec.Result, rec.Reason)
	}
	again := offers()[1]
	for _, r := range fake.Requests() {
		if r.Method == http.MethodDelete && r.Path == "/playbacks/"+again && r.Status != http.StatusNoContent {
			t.Fatalf("cancelling the waiting offer: %d", r.Status)
		}
	}
	if !slices.ContainsFunc(fake.Requests(), func(r aritest.RequestLog) bool {
		return r.Method == http.MethodDelete && r.Path == "/playbacks/"+again
	}) {
		t.Fatal("the waiting offer was not cancelled at the caller's 1")
	}
}
