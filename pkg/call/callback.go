package call

import (
	"errors"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Callback request instead of waiting: the caller hears the offer and their
// own number, presses 1 to confirm (2 or silence declines), and the request
// is stored for an operator to call back. A withheld number cannot be
// called back: the caller gets the plain overflow. The offer is saved on
// the channel (StepCallback): a controller restarted during the offer
// makes it again (the caller's digit may have been lost with the old
// one), and once the request is stored the step says so.

// callbackConfirmWait is how long we wait for the caller's 1 or 2, unless
// the manager is told otherwise.
const callbackConfirmWait = 10 * time.Second

// CallbackStore keeps callback requests.
type CallbackStore interface {
	PutCallback(store.Callback) error
	// Callback returns the request of a call (store.ErrNotFound if none).
	Callback(id string) (store.Callback, error)
}

func (a *actor) offerCallback() {
	cid := phone.ParseCallerID(a.rec.CallerID)
	if !cid.Domestic() || a.m.callbacks == nil {
		a.note("no number to call back (none, or one from abroad)")
		a.hangup(a.rec.Reason)
		return
	}
	a.callbackNumber = cid.E164
	a.awaitingDigit = true
	a.offeredAt = time.Now() // wall clock, as pbx.Resync.Began
	a.state.Step, a.state.Then = StepCallback, ""
	a.state.Playback = a.nextPlaybackID()
	if !a.saveState() {
		return
	}
	a.note("callback offered")
	media := []string{}
	if a.client.CallbackPrompt != "" {
		media = append(media, a.client.CallbackPrompt)
	}
	media = append(media, "digits:"+cid.National())
	a.playList(a.id, media, func(string) {
		if a.awaitingDigit {
			a.after(a.m.confirmWait, func() { a.callbackAnswer("") })
		}
	})
}

// resumeCallbackOffer continues a callback offer a restart interrupted:
// if the caller's 1 was already stored (the restart came between storing
// and hanging up) the call just ends so; if the client no longer offers
// callbacks, the call ends as a plain overflow; otherwise the offer is
// made again (the caller's digit may have been lost with the old
// controller).
func (a *actor) resumeCallbackOffer() {
	if id := a.state.Playback; id != "" {
		// The old controller's offer may still be playing: Asterisk
		// would play the new one after it.
		a.state.Playback = ""
		a.stopPlayback(id)
	}
	if a.m.callbacks != nil {
		_, err := a.m.callbacks.Callback(a.id)
		switch {
		case err == nil:
			a.note("callback already stored before the restart")
			a.thankAndHangUp()
			return
		case !errors.Is(err, store.ErrNotFound):
			a.log.Error("reading the callback request failed", "error", err)
		}
	}
	if a.client.Overflow != config.OverflowCallback {
		a.note("the client no longer offers callbacks")
		a.hangup(a.rec.Reason)
		return
	}
	a.note("callback offered again after the restart")
	a.offerCallback()
}

// callbackAnswer handles the caller's digit ("" = no answer in time).
func (a *actor) callbackAnswer(digit string) {
	if !a.awaitingDigit || (digit != "1" && digit != "2" && digit != "") {
		return
	}
	a.awaitingDigit = false
	a.stopTimer()
	if a.playbackID != "" && digit != "" {
		// Answered during the offer: cut it (the thanks would follow it).
		// Asterisk cannot stop the number said alone once it plays (the
		// thanks then follow its end), but cancels an offer still waiting
		// its turn (behind the one a controller before this started).
		a.stopPlayback(a.forgetPlayback())
	}
	if digit != "1" {
		a.note("callback declined")
		a.hangup(a.rec.Reason)
		return
	}
	if err := a.storeCallback(); err != nil {
		// Not thanked: nothing promises the call back. The record keeps
		// the number for whoever reads it.
		a.log.Error("storing the callback request failed", "number", phone.Masked(a.callbackNumber), "error", err)
		a.rec.Reason = "overflow: callback requested, not stored"
		a.note("callback requested to " + a.callbackNumber + "; storing the request failed: " + err.Error())
		a.hangup(a.rec.Reason)
		return
	}
	a.note("callback requested to " + a.callbackNumber)
	a.thankAndHangUp()
}

// storeCallback stores the caller's request to be called back, trying
// twice more (after 50 and 100 ms) if the store fails.
func (a *actor) storeCallback() error {
	req := store.Callback{ID: a.id, ClientID: a.client.ID, Number: a.callbackNumber, RequestedAt: a.m.clock.Now()}
	var err error
	for wait := 50 * time.Millisecond; ; wait *= 2 {
		if err = a.m.callbacks.PutCallback(req); err == nil || wait > 100*time.Millisecond {
			return err
		}
		a.log.Warn("storing the callback request failed; trying again", "in", wait, "error", err)
		time.Sleep(wait)
	}
}

// thankAndHangUp ends a call whose callback request is stored: the
// client's thanks (if any), then hang-up.
func (a *actor) thankAndHangUp() {
	a.rec.Reason = "overflow: callback requested"
	a.state.Step, a.state.Playback = StepHangup, ""
	if a.client.CallbackThanks != "" {
		a.state.Playback = a.nextPlaybackID()
	}
	if !a.saveState() {
		return
	}
	if a.client.CallbackThanks == "" {
		a.hangup(a.rec.Reason)
		return
	}
	a.play(a.id, a.client.CallbackThanks, func(string) { a.hangup(a.rec.Reason) })
}
