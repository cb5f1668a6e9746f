package call

import (
	"fmt"
	"net/http"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/reception"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// toHeader is the dialplan function that reads an inbound PJSIP call's To
// header (the value without "To: ").
const toHeader = "PJSIP_HEADER(read,To)"

// begin starts a call we saw enter Stasis (or adopted before any step).
func (a *actor) begin(args []string, ch *ari.ChannelData) {
	now := a.m.clock.Now()
	if !a.startedAt.IsZero() {
		now = a.startedAt // re-adopted: when the call came in
	}
	parsed, err := ParseArgs(args)
	a.rec = store.CallRecord{ID: a.id, StartedAt: now}
	if ch.Caller != nil {
		a.rec.CallerID = phone.FromChannel(ch.Caller.Number, ch.Caller.Name)
	}
	cid := phone.ParseCallerID(a.rec.CallerID)
	a.rec.CallerKind = cid.Kind.String()
	if err != nil || parsed.Leg != LegInbound {
		a.rec.Result, a.rec.Reason = store.ResultFailed, fmt.Sprintf("bad Stasis arguments %q", args)
		a.log.Warn("hanging up channel with unexpected Stasis arguments", "args", args)
		a.hangup(a.rec.Reason)
		return
	}
	cfg := a.m.config()
	did := parsed.DID
	if parsed.DIDInTo {
		header, err := a.m.ari.Channel().GetVariable(a.key(), toHeader)
		switch {
		case pbx.IsNotFound(err):
			// The caller hung up first: whose call it was is unknown.
			a.rec.Result, a.rec.Reason = store.ResultAbandoned, "caller hung up before the dialled number was read"
			a.gone(err, "read the To header")
			return
		case err != nil:
			a.rec.Result, a.rec.Reason = store.ResultFailed, "reading the dialled number from the To header failed"
			a.log.Error("reading the To header failed", "extension", parsed.Exten, "error", err)
			a.hangup(a.rec.Reason)
			return
		}
		if did, err = phone.DIDFromAddress(header); err != nil {
			a.rec.Result, a.rec.Reason = store.ResultUnknownDID, "no dialled number in the To header: "+err.Error()
			a.log.Warn("call with no dialled number in its To header", "extension", parsed.Exten, "error", err, "caller", phone.Masked(a.rec.CallerID))
			a.announceAndHangup(ch.State != "Up", cfg.UnknownDIDSound)
			return
		}
		a.note("dialled number " + did + " from the To header " + header)
	}
	a.rec.DID = did
	a.state = Persisted{DID: did, Step: StepNew, StartedAt: now}
	a.note("entered Stasis for DID " + did)

	client, ok := cfg.ClientByDID(did)
	if !ok {
		a.rec.Result, a.rec.Reason = store.ResultUnknownDID, "no client has DID "+did
		a.log.Warn("call to unknown DID", "did", did, "caller", phone.Masked(a.rec.CallerID))
		a.announceAndHangup(ch.State != "Up", cfg.UnknownDIDSound)
		return
	}
	a.client = client
	a.state.ClientID, a.rec.ClientID = client.ID, client.ID
	if a.m.queue == nil {
		// Greeting-only mode (no queue): greet, then hang up.
		a.greet(ch.State != "Up", func() {
			a.rec.Result, a.rec.Reason = store.ResultCompleted, "greeting played"
			a.hangup(a.rec.Reason)
		})
		return
	}

	d := reception.Decide(client.Rules(), reception.Call{CallerE164: cid.E164, CallerKind: cid.Kind.String(), At: now})
	a.state.VIP = d.VIP
	a.vipWhisper = d.Whisper
	a.known = d.Known
	if d.KnownName != "" {
		a.knownName = d.KnownName
		a.note("known caller: " + d.KnownName)
	}
	switch d.Action {
	case reception.ActionBlock:
		a.rec.Result, a.rec.Reason = store.ResultBlocked, "blocked: "+d.Reason
		a.note(a.rec.Reason)
		sound := client.BlockedSound
		if d.Reason == reception.ReasonWithheld && client.WithheldSound != "" {
			sound = client.WithheldSound // 186 を付けておかけ直しください
		}
		if d.BlockMode == reception.BlockHangup || sound == "" {
			a.hangup(a.rec.Reason)
			return
		}
		a.announceAndHangup(ch.State != "Up", sound)
	case reception.ActionAfterHours:
		a.rec.Result, a.rec.Reason = store.ResultAfterHours, "closed: "+d.Reason
		a.afterHoursBillable = d.Billable // the client's bill_after_hours
		a.state.BillAfterHours = billOf(d.Billable)
		a.note(a.rec.Reason)
		if client.AfterHoursVoicemail {
			a.state.Then = ThenVoicemail + whyAfterHours
			a.announceThen(ch.State != "Up", client.AfterHoursSound, func() { a.voicemail(whyAfterHours) })
			return
		}
		a.announceAndHangup(ch.State != "Up", client.AfterHoursSound)
	default:
		a.rec.Billable = d.Billable
		if d.VIP && client.TransferTo != "" {
			a.note("VIP caller: " + d.Reason)
			a.greet(ch.State != "Up", a.transferToClient)
			return
		}
		if d.AnswerMode == reception.AnswerRingback && ch.State != "Up" {
			a.ringback()
			return
		}
		a.greet(ch.State != "Up", a.enqueue)
	}
}

// greet answers (if needed), saves the state and plays the client's
// greeting, then runs next. A new call's state is not saved here: a
// controller restarted during its greeting finds no state on the channel
// and starts the call again from the dialplan's arguments, which is what
// the saved step would make it do, so the first command after StasisStart
// is the answer (the store keeps the state all the same, at no request's
// cost: saveLive). A call greeted again (its ringback expired, or
// re-adopted) saves it, keeping its place in line.
func (a *actor) greet(needAnswer bool, next func()) {
	a.state.Ungreeted = false // greeted now
	if a.state.Step != StepNew {
		a.state.Step = StepGreeting
		if !a.saveState() {
			return
		}
	} else {
		a.saveLive() // in the store only: a caller who hangs up during a restart is recorded
	}
	if needAnswer && !a.answer() {
		return
	}
	// The recording notice follows the greeting in the same playback: at
	// the bridge it would keep the operator waiting, their first words
	// lost. A greeting stopped (an operator free) leaves it to the bridge.
	media := []string{a.client.Greeting}
	notice := a.client.Record && a.client.RecordAnnouncement != ""
	if notice {
		media = append(media, a.client.RecordAnnouncement)
	}
	a.playList(a.id, media, func(state string) {
		a.greetingEnded(state)
		if state == "failed" {
			a.note("greeting media failed to play")
			if a.m.queue == nil {
				a.rec.Result, a.rec.Reason = store.ResultFailed, "greeting media could not be played"
				a.hangup(a.rec.Reason)
				return
			}
		} else {
			a.note("greeting finished")
		}
		next()
	})
	a.greetingID, a.greetingNotice = a.playbackID, notice
}

// greetingEnded notes the greeting's end (state: PlaybackFinished's): one
// played to its end with the recording notice after it makes the notice
// heard, not to be played again at the bridge.
func (a *actor) greetingEnded(state string) {
	if a.greetingNotice && state != "failed" {
		a.state.NoticeHeard = true
	}
	a.greetingID, a.greetingNotice = "", false
}

// announceAndHangup answers, plays media and hangs up; with no media, a
// caller not answered yet is not: answered only to hear nothing and be
// hung up, their carrier would bill them a connected call.
func (a *actor) announceAndHangup(needAnswer bool, media string) {
	if media == "" && needAnswer {
		a.hangup(a.rec.Reason)
		return
	}
	a.announceThen(needAnswer, media, func() { a.hangup(a.rec.Reason) })
}

// announceThen answers, plays media (if any), then runs next.
func (a *actor) announceThen(needAnswer bool, media string, next func()) {
	a.state.Step, a.state.Playback, a.state.Prompt = StepHangup, "", false
	if media != "" {
		a.state.Playback = a.nextPlaybackID()
	}
	if !a.saveState() {
		return
	}
	if needAnswer && !a.answer() {
		return
	}
	if media == "" {
		next()
		return
	}
	a.play(a.id, media, func(string) { next() })
}

// answerTries bounds the tries of an answer; answerPause is the pause
// before the next try after Asterisk answered 5xx (a timeout or a request
// never sent has waited its request timeout already).
const (
	answerTries = 3
	answerPause = 100 * time.Millisecond
)

// answer answers the caller; false when the call is over. An answer that
// never reached Asterisk (every REST connection busy in a burst of calls,
// each wait bounded by the request timeout), got no answer in time
// (Asterisk, busy, answered the channel late) or was refused 5xx (an
// overloaded proxy, Asterisk failing inside) is sent again: answering a
// channel that is up is harmless (204), and failing the call would hang
// up a caller Asterisk was about to serve.
func (a *actor) answer() bool {
	err := a.m.ari.Channel().Answer(a.key())
	for try := 2; err != nil && answerAgain(err) && try <= answerTries; try++ {
		a.log.Warn("answer failed: trying again", "error", err, "try", try)
		if pbx.StatusCode(err) != 0 {
			time.Sleep(answerPause)
		}
		err = a.m.ari.Channel().Answer(a.key())
	}
	if err != nil {
		if a.gone(err, "answer") {
			return false
		}
		a.fail("answer failed", err)
		return false
	}
	a.rec.AnsweredAt = a.m.clock.Now()
	a.state.AnsweredAt = a.rec.AnsweredAt // saved with the next step
	a.leadIn = a.m.config().AnswerSilence
	a.note("answered")
	return true
}

// answerAgain reports whether an answer that failed with err is sent
// again: not sent, not answered in time, or refused 5xx. A 500 is also what
// Asterisk answers for a caller hanging up (ast_raw_answer fails): asked
// again, it answers 404 once the channel is gone, or 500 again, and the
// call ends as before.
func answerAgain(err error) bool {
	code := pbx.StatusCode(err)
	return pbx.NotSent(err) || code == 0 || code >= http.StatusInternalServerError
}

func playbackID(callID, instance string, n int) string {
	return fmt.Sprintf("%s-pb-%s-%d", callID, instance, n)
}

// waited is how long the caller has been in the queue.
func (a *actor) waited() time.Duration {
	if a.state.EnqueuedAt.IsZero() {
		return 0
	}
	return a.m.clock.Now().Sub(a.state.EnqueuedAt)
}
