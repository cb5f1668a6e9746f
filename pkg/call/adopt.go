package call

import (
	"slices"
	"strings"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/reception"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// resync reconciles the call after the event link came back: events raised
// meanwhile were lost.
func (a *actor) resync(r *pbx.Resync) {
	if !r.Live[a.id] {
		a.note("channel gone while the ARI link was down")
		a.callerLeft()
		a.finish()
		return
	}
	for _, l := range a.legs {
		switch {
		case l.gone:
		case !r.Live[l.id] && (l.answered || l.cancelled):
			a.legGone(l.id, 0)
		case !l.answered && !l.cancelled:
			// Its StasisStart or ChannelDestroyed may have been lost.
			ch, err := a.m.ari.Channel().Data(ari.NewKey(ari.ChannelKey, l.id))
			switch {
			case pbx.IsNotFound(err):
				a.legGone(l.id, 0)
			case err == nil && ch.State == "Up" && ch.Dialplan != nil && ch.Dialplan.AppName == "Stasis":
				a.legAnswered(l.id)
			}
		}
	}
	if a.awaitingDigit && a.offeredAt.Before(r.Began) {
		// The caller's 1 or 2 may have been lost with the link (Asterisk
		// keeps no events while no websocket is connected): offered again,
		// as after a restart. What still plays of the first offer stops.
		// (An offer made since, by a call adopted in this re-sync, was not
		// cut.)
		a.note("the ARI link dropped during the callback offer: offered again")
		a.awaitingDigit = false
		a.stopTimer()
		if id := a.forgetPlayback(); id != "" {
			a.stopPlayback(id)
		}
		a.offerCallback()
		return
	}
	if a.vmName != "" {
		// Its RecordingFinished may have been lost ('#' pressed, or the
		// maximum reached, while the link was down).
		if _, err := a.m.ari.LiveRecording().Data(ari.NewKey(ari.LiveRecordingKey, a.vmName)); pbx.IsNotFound(err) {
			a.note("the recording ended while the ARI link was down")
			a.messageRecorded(a.messageStored(a.vmName))
		}
	}
	for _, id := range []string{a.playbackID, a.announceID} {
		if id == "" {
			continue
		}
		_, err := a.m.ari.Playback().Data(ari.NewKey(ari.PlaybackKey, id))
		if !pbx.IsNotFound(err) {
			continue
		}
		a.note("playback ended while the ARI link was down")
		if id == a.playbackID {
			a.playbackEnded("done")
		} else {
			a.announcementEnded()
		}
	}
}

// endpointOf is the endpoint of a channel named as Asterisk names them,
// "PJSIP/op1001-00000046" → "PJSIP/op1001" ("" if the name is not so).
func endpointOf(channelName string) string {
	i := strings.LastIndexByte(channelName, '-')
	if i <= 0 || !strings.Contains(channelName[:i], "/") {
		return ""
	}
	return channelName[:i]
}

// adopt takes over a channel found in our application after a controller
// restart, continuing from the step saved on the channel.
func (a *actor) adopt(ch *ari.ChannelData) {
	if _, err := a.m.rec.Call(a.id); err == nil {
		// Recorded already: its controller finished it but could not hang
		// it up (Asterisk failed the DELETE). Run again, the caller would
		// be greeted and queued anew and the record replaced.
		a.log.Warn("re-adopt: the call is recorded already (its hang-up had failed): hanging it up")
		a.done = true
		if err := a.m.ari.Channel().Hangup(a.key(), "normal"); err != nil && !pbx.IsNotFound(err) {
			a.log.Error("hanging up a recorded call failed; the next start tries again", "error", err)
		}
		return
	}
	p, found := a.savedState()
	if !found && a.adoptLeg(ch) {
		return
	}
	if !found {
		if ch.Dialplan != nil {
			if parsed, aerr := argsFromAppData(ch.Dialplan.AppData); aerr == nil && parsed.Leg != LegInbound {
				// An operator or transfer leg whose call is not bridged
				// with it (in the whisper at the restart): the re-adopted
				// call rings again; this leg just goes. (One still
				// ringing is not in Stasis: the manager hangs it up.)
				a.log.Info("hanging up a leg left over from before the restart", "owner", parsed.CallID)
				a.done = true
				// Its end goes to no actor, so that an operator's is
				// told to the queue (see hangupLeftOverLeg).
				a.m.disp.UnbindChannel(a.id, a.inbox)
				a.m.hangupLeftOverLeg(a.log, a.id)
				return
			}
		}
	}
	if !found {
		// We never saved state: the previous controller died right after
		// StasisStart. Start over from the dialplan's arguments.
		var args []string
		if ch.Dialplan != nil {
			if parsed, aerr := argsFromAppData(ch.Dialplan.AppData); aerr == nil {
				args = parsed.inbound()
			}
		}
		a.log.Info("re-adopting call without saved state", "args", args)
		if at, ok := channelCreated(ch, a.m.clock.Now()); ok {
			a.startedAt = at
		}
		a.begin(args, ch)
		a.note("re-adopted after controller restart, before any step was saved")
		return
	}
	if peer, ok := a.bridgedPeer(); ok && p.Step != StepConnected && p.Step != StepHangup {
		// In the bridge named for it: talking with the peer, or the peer
		// left while no controller watched. A peer still up but not in
		// the bridge never joined it: the bridge was half made, and the
		// caller waits again (the leg is hung up as a left-over).
		if slices.Contains(a.bridgeIn.ChannelIDs, peer.State.OpChannel) || !a.peerLive {
			p.Step, p.OpID, p.OpChannel, p.Bridge = StepConnected, peer.State.OpID, peer.State.OpChannel, a.bridgeIn.ID
			p.Waited, p.BridgedAt = peer.State.Waited, peer.State.BridgedAt
			if p.AnsweredAt.IsZero() {
				p.AnsweredAt = peer.State.AnsweredAt
			}
			if _, ls, _, err := parseLiveState(a.saved); err == nil && ls.Step == StepConnected && ls.Bridge == p.Bridge {
				// The conversation's, named in the store only, or why
				// there is none.
				p.Recording, p.RecordingFailed = ls.Recording, ls.RecordingFailed
				if p.AnsweredAt.IsZero() {
					// A ringback caller answered as the bridge was made:
					// the store's state has it, the bridge's name not.
					p.AnsweredAt = ls.AnsweredAt
				}
			}
		}
	}
	for _, b := range a.bridgesFor {
		if p.Step == StepConnected && b.ID == p.Bridge {
			continue
		}
		// Created, but the controller stopped before both joined it.
		a.log.Info("destroying a bridge left over from before the restart", "bridge", b.ID)
		a.m.destroyBridge(a.log, b.ID)
	}
	a.state = p
	a.rec = store.CallRecord{ID: a.id, DID: p.DID, ClientID: p.ClientID, StartedAt: p.StartedAt, WaitMS: p.Waited.Milliseconds(),
		AnsweredAt: p.AnsweredAt, VoicemailFailed: p.VoicemailFailed, CallbackNumber: p.CallbackNumber}
	if a.rec.AnsweredAt.IsZero() && ch.State == "Up" {
		// Answered before the answer time was saved (a controller of an
		// earlier version): now is the best we know. An answered caller
		// is never answered again, nor rung back.
		a.rec.AnsweredAt = a.m.clock.Now()
	}
	if ch.Caller != nil {
		a.rec.CallerID = phone.FromChannel(ch.Caller.Number, ch.Caller.Name)
	}
	cid := phone.ParseCallerID(a.rec.CallerID)
	a.rec.CallerKind = cid.Kind.String()
	if p.Step == StepConnected {
		a.rec.Recording, a.rec.BridgedAt = p.Recording, p.BridgedAt
		if p.RecordingFailed != "" {
			a.note(recordingFailedNote(p.RecordingFailed) + " (before the restart)")
		}
	}
	a.note("re-adopted after controller restart at step " + string(p.Step))
	a.log.Info("re-adopted call", "step", p.Step, "client", p.ClientID)
	var peer *leg
	if p.Step == StepConnected {
		// Ours from now on: whatever follows, the end of the call hangs the
		// peer up and destroys the bridge.
		peer = &leg{id: p.OpChannel, opID: p.OpID, answered: true, transfer: p.OpID == "", joined: true}
		if !peer.transfer {
			// The queue did not ring it: named so that its end, as the
			// call ends, is told to the queue (leaveQueue, ringLegGone).
			peer.ring = a.m.foreignLeg()
		}
		a.legs = map[string]*leg{p.OpChannel: peer}
		if peer.transfer {
			a.xfer = peer
		} else {
			a.op = peer
		}
		a.bridgeID = p.Bridge
		a.opReleased = true
		a.callerJoined = true // talking in it when the controller stopped
		a.m.disp.BindChannel(p.OpChannel, a.inbox)
		a.m.disp.BindBridge(p.Bridge, a.inbox)
	}
	if p.ClientID == "" && p.Step == StepHangup {
		// No client's call (an unknown DID), re-adopted during its
		// announcement: it ends as decided, once that is over.
		a.savedOutcome(p, store.ResultUnknownDID, "no client has DID "+p.DID)
		a.endAfterPlayback(p.Playback)
		return
	}
	client, ok := a.m.config().Client(p.ClientID)
	if !ok && p.Step == StepConnected {
		// Talking with an operator (or the client) when the controller
		// restarted on a configuration without the client (a contract
		// ended at the month's end): the conversation goes on and is
		// recorded as answered, as a reload that removes the client
		// leaves it. The client's settings are the defaults meanwhile.
		a.note("client " + p.ClientID + " no longer configured after restart: the conversation goes on")
		client = a.m.config().StandIn(p.ClientID)
		ok = true
	}
	if !ok {
		// Waiting for (or greeted by) a client the restart's
		// configuration no longer has: told the number is not in
		// service (unknown_did_sound), as a caller of it would be now,
		// not hung up in silence.
		a.rec.Result, a.rec.Reason = store.ResultFailed, "client "+p.ClientID+" no longer configured after restart"
		a.announceAndHangup(ch.State != "Up", a.m.config().UnknownDIDSound)
		return
	}
	a.client = client
	// The client's bill_after_hours as the decision before the restart
	// read it (saved with the state; the configuration's now for a state
	// of an earlier version).
	a.afterHoursBillable = client.BillAfterHours
	if p.BillAfterHours != BillUnknown {
		a.afterHoursBillable = p.BillAfterHours == BillYes
	}
	// What the caller rules said of the caller (the call was accepted
	// then; only who they are is taken again): the operator's screen pop
	// names a known contact, a VIP's transfer whispers its own words.
	d := reception.Decide(client.Rules(), reception.Call{CallerE164: cid.E164, CallerKind: cid.Kind.String(), At: p.StartedAt})
	a.knownName, a.vipWhisper = d.KnownName, d.Whisper
	a.known = d.Known
	switch {
	case p.Step == StepHangup && p.Then != "":
		// The after-hours or overflow message was playing: what was to
		// follow it (a voicemail, a callback offer) follows now.
		a.savedOutcome(p, store.ResultOverflow, "overflow")
		a.note("re-adopted during the message before " + p.Then)
		if ch.State != "Up" && !a.answer() { // stopped before the answer
			return
		}
		var next func()
		if why, ok := strings.CutPrefix(p.Then, ThenVoicemail); ok {
			next = func() { a.voicemail(why) }
			if p.Prompt { // the prompt plays: the recording follows it
				next = func() { a.recordMessage(why) }
			}
		} else if why, ok := strings.CutPrefix(p.Then, thenRecordOld); ok {
			next = func() { a.recordMessage(why) }
		} else if p.Then == ThenCallback {
			next = a.offerCallback
		} else {
			// A state this binary does not know (a newer one's): the call
			// ends as decided rather than as something else.
			a.log.Warn("re-adopted call with an unknown next step: hanging up", "then", p.Then)
			next = func() { a.hangup("re-adopted with an unknown next step " + p.Then) }
		}
		// The message (or the prompt) may still be playing: what follows
		// waits for its end, as it would have.
		if p.Playback == "" || !a.awaitPlayback(p.Playback, next) {
			next()
		}
	case p.Step == StepHangup:
		a.savedOutcome(p, store.ResultCompleted, "re-adopted while hanging up")
		a.endAfterPlayback(p.Playback)
	case p.Step == StepConnected:
		// Caller and operator keep talking in their bridge; we only need
		// to see the end of it. The restarted queue must know the operator
		// is talking, or it would ring them for another caller. The end of
		// the call (finish → leaveQueue) then sends CallEnded once, as for
		// any call.
		leg, err := a.m.ari.Channel().Data(ari.NewKey(ari.ChannelKey, p.OpChannel))
		if !peer.transfer && a.m.queue != nil {
			// The phone the operator talks on (a changed configuration
			// may have given it to another).
			phone := ""
			if err == nil {
				phone = endpointOf(leg.Name)
			}
			a.m.queue.Occupy(a.id, a.client.ID, p.OpID, phone)
			a.opReleased = false
		}
		a.rec.Result, a.rec.Reason, a.rec.OperatorID, a.rec.Billable = store.ResultAnswered, "talked with "+p.OpID, p.OpID, true
		// Music its predecessor played into the bridge for a hold (see
		// hold.go) whose end came while no controller watched would play
		// over the conversation to its end: stopped (409 when none
		// plays). A party still holding leaves the other in silence
		// until their next hold.
		a.stopBridgeMOH(p.Bridge, 1)
		if peer.transfer {
			a.rec.Result, a.rec.Reason = a.transferResult()
		}
		if pbx.IsNotFound(err) {
			a.legGone(p.OpChannel, 0)
		}
	case p.Step == StepVoicemail && p.Recording != "":
		a.resumeVoicemail(p)
	case p.Step == StepCallback:
		a.savedOutcome(p, store.ResultOverflow, "overflow")
		a.resumeCallbackOffer()
	case p.Step == StepTransfer && a.m.queue != nil:
		// The client's phone may still ring; its leg is no longer ours
		// (it is hung up if answered). Queue with the original place, and
		// the client's whole max_wait from now (see transferFailed).
		a.state.WaitFrom = a.m.clock.Now()
		a.enqueue()
	case p.Step == StepQueued && a.m.queue != nil && ch.State != "Up":
		a.ringback() // still unanswered: keep ringing, same place in line
	case p.Step == StepQueued && a.m.queue != nil && p.Ungreeted:
		// Answered when an operator answered, who left with the
		// controller before the bridge: greeted, in line at their place.
		a.greetInLine()
	case p.Step == StepQueued && a.m.queue != nil:
		// Back in line with the original enqueue time: same place. A
		// position announcement the controller before started may
		// still play: stopped, or the bridge would wait behind it.
		a.stopPlayback(announcementID(a.id))
		a.enqueue()
	case a.m.queue == nil:
		a.greet(ch.State != "Up", func() {
			a.rec.Result, a.rec.Reason = store.ResultCompleted, "greeting played"
			a.hangup(a.rec.Reason)
		})
	default:
		// The greeting may have been cut by the restart: play it again.
		a.greet(ch.State != "Up", a.enqueue)
	}
}

// endAfterPlayback hangs up a re-adopted call whose outcome is decided,
// once the message it was hearing (after hours, blocked, overflow, unknown
// number, a callback's thanks; playback) has played to its end: a restart
// does not cut it.
func (a *actor) endAfterPlayback(playback string) {
	bye := func() { a.hangup("re-adopted while hanging up") }
	if playback == "" || !a.awaitPlayback(playback, bye) {
		bye()
	}
}

// bridgedPeer is whom the adopted caller talks with: its bridge is named
// for it (BridgeName).
func (a *actor) bridgedPeer() (bridgePeer, bool) {
	if a.bridgeIn == nil {
		return bridgePeer{}, false
	}
	p, ok := parseBridgeName(a.bridgeIn.Name)
	return p, ok && p.Call == a.id
}

// adoptLeg handles an operator or transfer leg found after a restart. The
// live leg of a bridged call (in one bridge with its caller) belongs to
// that call's actor (which binds it when it re-adopts the call): it must
// not be hung up, and this actor ends quietly, without a record. It
// reports whether ch was such a leg; any other leg is hung up as a channel
// nobody owns.
func (a *actor) adoptLeg(ch *ari.ChannelData) bool {
	if ch.Dialplan == nil {
		return false
	}
	args, err := argsFromAppData(ch.Dialplan.AppData)
	if err != nil || args.Leg == LegInbound {
		return false
	}
	if a.bridgeIn == nil || !slices.Contains(a.bridgeIn.ChannelIDs, args.CallID) {
		return false
	}
	a.done = true
	a.log.Info("re-adopted leg left to its bridged call", "owner", args.CallID)
	// The manager bound this channel to us; if the owner already bound it
	// to itself, give it back (our release only unbinds our own binding).
	a.m.mu.Lock()
	owner := a.m.calls[args.CallID]
	a.m.mu.Unlock()
	if owner != nil {
		a.m.disp.BindChannel(a.id, owner.inbox)
	}
	return true
}

// savedState reads the state the call saved on its channel; found is false
// when it saved none (it starts over). A read that fails other than with
// a 404 is tried again; if Asterisk still does not answer, the copy the
// store kept stands in for it (a call that started over would greet and
// queue a caller who is talking, or lose a message being left). So does
// it for a 404: Asterisk answers 404 for a variable never set and for a
// channel gone, and a caller who hung up between the re-sync's list and
// this read had a state.
func (a *actor) savedState() (p Persisted, found bool) {
	var raw string
	var err error
	for wait := 100 * time.Millisecond; ; wait *= 2 {
		raw, err = a.m.ari.Channel().GetVariable(a.key(), StateVar)
		if err == nil || pbx.IsNotFound(err) || wait > 200*time.Millisecond {
			break
		}
		a.log.Warn("re-adopt: reading call state failed; trying again", "in", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-a.m.ctx.Done():
			t.Stop()
		}
	}
	switch {
	case err == nil && raw == "":
		return Persisted{}, false
	case err == nil:
		p, err := DecodePersisted(raw)
		if err != nil {
			a.log.Error("re-adopt: the call's saved state cannot be read", "state", raw, "error", err)
			return Persisted{}, false
		}
		return p, true
	case pbx.IsNotFound(err):
		if ls, ok := a.storedState(); ok {
			a.log.Info("re-adopt: the channel has no saved state (gone?): taking the store's")
			return ls, true
		}
		return Persisted{}, false
	}
	a.log.Error("re-adopt: reading call state failed", "error", err)
	if ls, ok := a.storedState(); ok {
		return ls, true
	}
	return Persisted{}, false
}

// storedState is the call's live state as the store kept it, when it got
// past its first step.
func (a *actor) storedState() (Persisted, bool) {
	if _, ls, _, err := parseLiveState(a.saved); err == nil && ls.Step != StepNew {
		a.note("state taken from the store: Asterisk did not give the channel's")
		return ls, true
	}
	return Persisted{}, false
}

// savedOutcome gives the record the outcome the state p saved, or result
// and reason when it saved none (an older version's state).
func (a *actor) savedOutcome(p Persisted, result store.Result, reason string) {
	a.rec.Result, a.rec.Reason = store.Result(p.Result), p.Reason
	if !a.rec.Result.Valid() {
		a.rec.Result, a.rec.Reason = result, reason
	}
}
