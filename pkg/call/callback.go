package call

import (
	"errors"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Callback request instead of waiting: the caller hears the offer and their
// own number, presses 1 to confirm, and the request is stored for an
// operator to call back. A caller who presses nothing, or another key,
// hears the offer once more; then, as one who declines, the client's
// goodbye (callback_goodbye) and the hang-up. With callback_enter_prompt
// set, 2 asks for another number (an office line showing its main number,
// a mobile to be called on), keyed and ended with # (or after its 11th
// digit, or a pause), and read back for the 1; so does a caller whose
// number cannot be called back (withheld, a payphone, abroad); without
// it, 2 declines and such a caller gets the plain overflow. The offer is
// saved on the channel (StepCallback): a controller restarted during it
// makes it again from the start (the caller's digits may have been lost
// with the old one), and once the request is stored the step says so.

// callbackConfirmWait is how long we wait for the caller's key after the
// offer or the number prompt, unless the manager is told otherwise.
const callbackConfirmWait = 10 * time.Second

// How many times the caller hears the offer of one number, and is asked to
// key a number, before the call ends as declined (app_voicemail and Read
// give three tries; two keep a caller who is not there from a minute of
// prompts).
const (
	callbackOffers  = 2
	callbackEntries = 2
)

// interDigitWait ends a number being keyed after a pause (Read's and
// app_voicemail's 5 s between digits), or sooner if the confirm wait is.
const interDigitWait = 5 * time.Second

// maxKeyedDigits is the longest Japanese number (a mobile's 11): the
// entry ends by itself at it.
const maxKeyedDigits = 11

// CallbackStore keeps callback requests.
type CallbackStore interface {
	PutCallback(store.Callback) error
	// Callback returns the request of a call (store.ErrNotFound if none).
	Callback(id string) (store.Callback, error)
}

// callbackIVR is where a callback offer stands.
type callbackIVR struct {
	offers, entries int    // offers of the current number; entries asked for
	entering        bool   // keying a number: digits so far in digits
	digits          string //
	keyed           bool   // the number offered is one the caller keyed
	// hashDue: the entry ended at its 11th digit, and the # the prompt
	// asked for may still come: not a key of the offer that follows.
	hashDue bool
}

// callbackRefusal is why offerCallback offers this caller nothing, ""
// when it offers their number (a Japanese one) or asks them to key one
// (callback_enter_prompt). overflowSays asks it too.
func (a *actor) callbackRefusal() string {
	switch {
	case a.m.callbacks == nil:
		return "no callback store"
	case phone.ParseCallerID(a.rec.CallerID).Domestic(), a.client.CallbackEnterPrompt != "":
		return ""
	}
	return "no number to call back (none, or one from abroad)"
}

func (a *actor) offerCallback() {
	if why := a.callbackRefusal(); why != "" {
		a.note(why)
		a.hangup(a.rec.Reason)
		return
	}
	a.cb = callbackIVR{}
	cid := phone.ParseCallerID(a.rec.CallerID)
	if cid.Domestic() {
		a.offerNumber(cid.E164, cid.National())
		return
	}
	a.note("no number to call back: asked to key one")
	a.askNumber()
}

// callbackStep saves the call as in its callback offer, about to play.
func (a *actor) callbackStep() bool {
	a.offeredAt = time.Now() // wall clock, as pbx.Resync.Began
	a.state.Step, a.state.Then = StepCallback, ""
	a.state.Playback = a.nextPlaybackID()
	return a.saveState()
}

// offerNumber reads number (national: as said) back to the caller and
// waits for their key.
func (a *actor) offerNumber(e164, national string) {
	a.callbackNumber = e164
	a.cb.entering = false
	a.cb.offers++
	a.awaitingDigit = true
	if !a.callbackStep() {
		return
	}
	switch {
	case a.cb.offers > 1:
		a.note("callback offered again")
	case a.cb.keyed:
		a.note("callback offered to the number keyed")
	default:
		a.note("callback offered")
	}
	media := []string{}
	if a.client.CallbackPrompt != "" {
		media = append(media, a.client.CallbackPrompt)
	}
	media = append(media, "digits:"+national)
	if a.client.CallbackAfterNumber != "" {
		media = append(media, a.client.CallbackAfterNumber)
	}
	a.playList(a.id, media, func(string) {
		if a.awaitingDigit && !a.cb.entering {
			a.after(a.m.confirmWait, func() { a.callbackAnswer("") })
		}
	})
}

// askNumber asks the caller to key the number to be called back on.
func (a *actor) askNumber() {
	a.cb.entries++
	a.cb.entering, a.cb.digits = true, ""
	a.awaitingDigit = true
	if !a.callbackStep() {
		return
	}
	a.note("asked to key the number to call back")
	a.play(a.id, a.client.CallbackEnterPrompt, func(string) {
		if a.cb.entering && a.cb.digits == "" {
			a.after(a.m.confirmWait, func() { a.numberKeyed("") })
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

// cutPrompt stops the offer or prompt playing, the caller having keyed
// during it. Asterisk cannot stop the number said alone once it plays
// (what follows then waits for its end), but cancels one still waiting
// its turn (behind the one a controller before this started).
func (a *actor) cutPrompt() {
	if a.playbackID != "" {
		a.stopPlayback(a.forgetPlayback())
	}
}

// callbackAnswer handles the caller's key during the offer ("" = none in
// time).
func (a *actor) callbackAnswer(digit string) {
	if a.cb.hashDue && digit != "" {
		a.cb.hashDue = false
		if digit == "#" {
			// The end of the 11 digits just keyed: no key of the offer
			// of that number, nor of the entry asked for again.
			return
		}
	}
	if a.cb.entering {
		a.numberKeyed(digit)
		return
	}
	if !a.awaitingDigit {
		return
	}
	a.awaitingDigit = false
	a.stopTimer()
	if digit != "" {
		a.cutPrompt()
	}
	switch {
	case digit == "1":
		a.callbackConfirmed()
	case digit == "2" && a.client.CallbackEnterPrompt != "" && a.cb.entries < callbackEntries:
		a.note("another number asked for")
		a.askNumber()
	case digit == "2":
		a.note("callback declined")
		a.callbackGoodbye()
	case a.cb.offers < callbackOffers:
		if digit == "" {
			a.note("no key pressed")
		} else {
			a.note("key " + digit + " pressed: not an answer")
		}
		a.offerNumber(a.callbackNumber, phone.ParseCallerID(a.callbackNumber).National())
	default:
		a.note("callback declined (no answer)")
		a.callbackGoodbye()
	}
}

// numberKeyed takes a digit of the number being keyed ("" = none in
// time): # or the 11th digit ends it, * starts it again.
func (a *actor) numberKeyed(digit string) {
	if !a.cb.entering {
		return
	}
	switch {
	case digit == "":
	case digit == "#":
	case digit == "*":
		a.stopTimer()
		a.cutPrompt()
		a.cb.digits = ""
		a.after(a.m.confirmWait, func() { a.numberKeyed("") })
		return
	case len(digit) == 1 && digit[0] >= '0' && digit[0] <= '9':
		if a.cb.digits == "" {
			a.cutPrompt()
		}
		a.cb.digits += digit
		if len(a.cb.digits) < maxKeyedDigits {
			a.after(min(interDigitWait, a.m.confirmWait), func() { a.numberKeyed("") })
			return
		}
	default:
		return // A-D: no key of a phone's
	}
	a.stopTimer()
	a.cb.entering, a.awaitingDigit = false, false
	keyed := a.cb.digits
	a.cb.hashDue = digit != "#" && len(keyed) == maxKeyedDigits
	n := phone.ParseCallerID(keyed)
	switch {
	case len(keyed) >= 10 && keyed[0] == '0' && n.Domestic():
		a.cb.offers, a.cb.keyed = 0, true
		a.offerNumber(n.E164, n.National())
	case a.cb.entries < callbackEntries:
		a.note("number keyed not a Japanese number to call back: " + phone.Masked(keyed))
		a.askNumber()
	default:
		a.note("callback declined (no number keyed)")
		a.callbackGoodbye()
	}
}

// callbackConfirmed stores the request the caller confirmed with 1.
func (a *actor) callbackConfirmed() {
	a.rec.CallbackNumber, a.state.CallbackNumber = a.callbackNumber, a.callbackNumber
	if err := a.storeCallback(); err != nil {
		// Not thanked: nothing promises the call back. The record keeps
		// the number for whoever reads it, across a restart too.
		a.log.Error("storing the callback request failed", "number", phone.Masked(a.callbackNumber), "error", err)
		a.rec.Reason = store.ReasonCallbackNotStored
		a.note("callback requested to " + a.callbackNumber + "; storing the request failed: " + err.Error())
		a.state.Step, a.state.Playback = StepHangup, ""
		a.saveState()
		a.hangup(a.rec.Reason)
		return
	}
	a.note("callback requested to " + a.callbackNumber)
	a.thankAndHangUp()
}

// callbackGoodbye ends a declined offer: the client's goodbye, if any
// (its overflow message was heard before the offer), then the hang-up.
func (a *actor) callbackGoodbye() { a.sayThenHangUp(a.client.CallbackGoodbye) }

// sayThenHangUp ends the call: media ("" none), then the hang-up. The
// step is saved first: a controller restarted meanwhile waits for the
// playback's end, then hangs up.
func (a *actor) sayThenHangUp(media string) {
	a.state.Step, a.state.Playback = StepHangup, ""
	if media != "" {
		a.state.Playback = a.nextPlaybackID()
	}
	if !a.saveState() {
		return
	}
	if media == "" {
		a.hangup(a.rec.Reason)
		return
	}
	a.play(a.id, media, func(string) { a.hangup(a.rec.Reason) })
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
	a.rec.Reason = store.ReasonCallbackRequested
	a.sayThenHangUp(a.client.CallbackThanks)
}
