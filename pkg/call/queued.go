package call

import (
	"fmt"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/reception"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// enqueue puts the caller on music on hold and in the queue.
func (a *actor) enqueue() { a.joinQueue(true) }

// joinQueue puts the caller in line, at their place when they had one
// (EnqueuedAt kept), with music on hold or (moh false) what plays now.
func (a *actor) joinQueue(moh bool) {
	first := a.state.EnqueuedAt.IsZero()
	if first {
		a.state.EnqueuedAt = a.m.clock.Now()
	}
	a.state.Step = StepQueued
	if !a.saveState() {
		return
	}
	if moh && !a.startMOH() {
		return // the caller left: finished
	}
	a.queued = true
	a.noteQueued()
	c := a.queueCall()
	c.New = first
	a.m.queue.Enqueue(c, a.inbox)
}

func (a *actor) queueCall() acd.Call {
	return acd.Call{ID: a.id, ClientID: a.client.ID, EnqueuedAt: a.state.EnqueuedAt, WaitFrom: a.state.WaitFrom, VIP: a.state.VIP}
}

// noteQueued puts the time the queue orders by on the timeline.
func (a *actor) noteQueued() {
	a.rec.Events = append(a.rec.Events, store.CallEvent{At: a.state.EnqueuedAt, What: "queued"})
}

// mohClass is the client's music on hold class in the configuration now
// (a reload may have changed it since the call began), or as the call
// began if the client is gone from it.
func (a *actor) mohClass() string {
	if cl, ok := a.m.config().Client(a.client.ID); ok {
		return cl.QueueSettings().MOHClass
	}
	return a.client.QueueSettings().MOHClass
}

// startMOH plays the client's music on hold to the caller; false when
// the call is over (the caller's channel gone).
func (a *actor) startMOH() bool { return a.holdMusic(1) }

// holdMusic asks Asterisk for the caller's music on hold (try: the
// request's); a request that fails is asked again later while the caller
// waits in line (callerMediaFailed). False when the call is over.
func (a *actor) holdMusic(try int) bool {
	class := a.mohClass()
	if !a.preferClientMusic(class) {
		return false
	}
	if err := a.m.ari.Channel().MOH(a.key(), class); err != nil {
		if a.gone(err, "music on hold") {
			return false
		}
		a.callerMediaFailed("music on hold", err, try)
		return true
	}
	a.stopMediaRetry()
	a.moh = true
	return true
}

// preferClientMusic makes the client's music on hold class the caller
// channel's CHANNEL(musicclass), before a bridge and before music on
// hold in line: a phone in a two-party bridge that puts the call on hold
// (an operator's softphone, the client's phone after a transfer) has
// Asterisk play the caller music on hold of that class first, and of the
// holding endpoint's moh_suggest ("default") only when it is not set.
// Set once, and again if a reload changed the class (Asterisk prefers
// the channel's class to the one music on hold asks for); a client of
// the default class needs no request. class is the client's class now
// (mohClass). False when the call is over.
func (a *actor) preferClientMusic(class string) bool {
	if class == "default" {
		class = ""
	}
	if class == a.musicClass {
		return true
	}
	if err := a.m.ari.Channel().SetVariable(a.key(), "CHANNEL(musicclass)", class); err != nil {
		if a.gone(err, "music class") {
			return false
		}
		a.log.Warn("setting the caller's music class failed", "class", class, "error", err)
		return true
	}
	a.musicClass = class
	return true
}

// stopMOH stops the hold music if it plays; false when the call is over.
func (a *actor) stopMOH() bool {
	if !a.moh {
		return true
	}
	a.moh = false
	if err := a.m.ari.Channel().StopMOH(a.key()); err != nil && a.gone(err, "stop music on hold") {
		return false
	}
	return true
}

// ringBackstop is how many seconds Asterisk's originate timeout exceeds
// the queue's ring timeout.
const ringBackstop = 3

// ring originates an operator leg. Its id is chosen here and bound to our
// inbox before the originate, so the Dial and state events that precede its
// StasisStart (recording 03) reach us.
func (a *actor) ring(r *queue.RingOperator) {
	if a.ending() {
		return
	}
	if a.legs == nil {
		a.legs = map[string]*leg{}
	}
	a.plays++
	l := &leg{id: fmt.Sprintf("%s"+operatorLegMark+"%s-%s-%d", a.id, r.OpID, a.m.instance, a.plays), opID: r.OpID, ring: r.Ring, timeout: r.Timeout}
	a.legs[l.id] = l
	a.m.disp.BindChannel(l.id, a.inbox)
	// The queue's own ring timer decides when to give up (CancelRing);
	// Asterisk's originate timeout is only a backstop, set a little later
	// so that its ChannelDestroyed (cause 19) never races the queue's
	// decision and fails a newer ring to the same operator.
	timeout := int(r.Timeout.Seconds()) + ringBackstop
	if timeout < 1 {
		timeout = 1
	}
	name := a.client.ShortName
	_, err := a.m.ari.Channel().Originate(nil, ari.OriginateRequest{
		Endpoint:  r.Endpoint,
		App:       a.m.app,
		AppArgs:   "operator," + a.id,
		ChannelID: l.id,
		Timeout:   timeout,
		// The operator's phone shows whom the call is for and who calls.
		CallerID: callerID(name, a.rec.CallerID),
	})
	if err != nil {
		a.log.Warn("ringing operator failed", "operator", r.OpID, "endpoint", r.Endpoint, "error", err)
		a.note("could not ring " + r.OpID)
		if pbx.StatusCode(err) == 500 {
			// "Allocation failed": the softphone has no contact.
			l.gone = true
			a.m.disp.UnbindChannel(l.id, a.inbox)
			a.m.queue.RingFailed(a.id, r.OpID, r.Ring, acd.Unreachable)
			if a.m.noChannel != nil {
				a.m.noChannel(r.Endpoint)
			}
			return
		}
		if pbx.NotSent(err) {
			// Asterisk never got the originate (every REST connection
			// busy, or Asterisk not answering): the phone did not ring
			// and there is no channel to hang up.
			l.gone = true
			a.m.disp.UnbindChannel(l.id, a.inbox)
			a.m.queue.RingFailed(a.id, r.OpID, r.Ring, acd.NotRung)
			return
		}
		// A timeout or a transient error: the channel may exist all the
		// same. Keep it bound and cancelled, so that a late StasisStart
		// hangs it up. Asterisk's trouble is not the operator's: no
		// no-answer is counted (three would pause every operator during
		// an Asterisk hiccup), and the operator rests a moment as for a
		// ring that was not sent.
		l.cancelled = true
		a.m.hangupLateLeg(a.log, l.id)
		a.m.queue.RingFailed(a.id, r.OpID, r.Ring, acd.NotRung)
		return
	}
	a.note("ringing " + r.OpID)
}

// legAnswered handles an operator leg's StasisStart: the operator picked up.
func (a *actor) legAnswered(id string) {
	l, ok := a.legs[id]
	if !ok || l.answered {
		// Told twice: the re-sync after a link outage found it answered,
		// and its StasisStart came after all.
		return
	}
	if l.gone {
		// Given up as never created (its originate not sent, or
		// refused), yet here: hung up, whatever hangupLeg thinks.
		a.m.hangupChannel(a.log, l.id, "normal")
		return
	}
	if l.cancelled || a.ending() || a.op != nil || a.xfer != nil {
		a.hangupLeg(l)
		return
	}
	if l.transfer {
		a.transferAnswered(l)
		return
	}
	l.answered = true
	a.note(l.opID + " answered")
	a.m.queue.RingAnswered(a.id, l.opID, l.ring)
}

// legGone handles an operator leg leaving (StasisEnd) or being destroyed,
// how long it lived unknown.
func (a *actor) legGone(id string, cause int) { a.legEnded(id, cause, 0) }

// legEnded handles an operator leg leaving or destroyed with cause, after
// living lived in Asterisk's time (0: unknown).
func (a *actor) legEnded(id string, cause int, lived time.Duration) {
	l, ok := a.legs[id]
	if !ok || l.gone {
		return
	}
	l.gone = true
	a.m.disp.UnbindChannel(id, a.inbox)
	if a.op == l && a.opReleased {
		// The queue freed the operator before this leg ended (the
		// caller left during the whisper): their phone is free now.
		a.ringLegGone(l)
	}
	switch {
	case l.cancelled:
		a.ringLegGone(l)
	case l.transfer && a.xfer == l && a.rec.Result == store.ResultTransferred && a.neverJoined(l):
		a.unbridge(l, "the client hung up as the bridge was made")
		a.transferFailed("the client hung up as the bridge was made") // drops the bridge
	case a.op == l && a.rec.Result == store.ResultAnswered && a.neverJoined(l):
		a.unbridge(l, l.opID+" hung up as the bridge was made")
		a.operatorLost("hung up as the bridge was made")
	case l.transfer && a.xfer == l && a.rec.Result == store.ResultTransferred:
		a.note("the client hung up")
		a.rec.Reason += "; the client hung up"
		a.hangup("the client hung up")
	case l.transfer && l.answered:
		// Its StasisEnd comes before the cause: answered, then gone
		// (declined at the confirm prompt, or hung up during the whisper).
		a.transferFailed("the client answered, then hung up")
	case l.transfer:
		a.transferFailed(transferCause(cause))
	case a.op == l && a.rec.Result == store.ResultAnswered:
		a.note(l.opID + " hung up")
		a.rec.Reason += "; operator hung up"
		a.hangup("operator hung up")
	case a.op == l:
		a.operatorLost("hung up before the bridge")
	case !l.answered:
		why := ringFailure(cause, lived, l.timeout)
		a.note(fmt.Sprintf("%s did not answer (%s, cause %d)", l.opID, why, cause))
		a.m.queue.RingFailed(a.id, l.opID, l.ring, why)
	default:
		// Answered, but gone before the queue connected it.
		a.m.queue.RingFailed(a.id, l.opID, l.ring, acd.NoAnswer)
	}
}

// ringFailure reads how an operator leg ended unanswered before the queue
// gave it up: its hang-up cause, how long it lived (Asterisk's time; 0:
// unknown) and the queue's ring timeout. Cause 19 (no answer) is
// Asterisk's own dial timeout, which comes 3 s after the queue's, or a
// phone's 480 (do-not-disturb on many desk phones), which comes at once:
// it is a no-answer after the ring timeout, a refusal before it; so is an
// end without a cause (0). Any other cause is the phone or its network
// refusing the ring: busy (486, cause 17, recording 06), declined (603,
// cause 21), forbidden, unreachable. After a refusal the operator rests
// acd.BusyRest, so that a phone refusing at once is not rung in a loop.
func ringFailure(cause int, lived, timeout time.Duration) acd.RingFailure {
	if cause == 19 || cause == 0 {
		if lived > 0 && lived < timeout {
			return acd.Busy
		}
		return acd.NoAnswer
	}
	return acd.Busy
}

// joinGrace bounds how soon after the bridge a peer's end can mean it
// never joined: its ChannelEnteredBridge may only have been lost with
// the link, and a peer that has talked for a while has joined.
const joinGrace = 2 * time.Second

// neverJoined reports whether the peer l, whose bridge was made, left
// without ever being in it: it hung up as it was added (Asterisk answers
// the add 204 and adds nothing), so the caller never heard it.
func (a *actor) neverJoined(l *leg) bool {
	return !l.joined && a.m.clock.Now().Sub(a.rec.BridgedAt) < joinGrace
}

// popScreen shows the operator the call: their leg has joined the bridge.
func (a *actor) popScreen() {
	c := a.pendingPop
	a.pendingPop, a.popFor = nil, nil
	if c != nil && a.m.onConnected != nil {
		a.m.onConnected(*c)
	}
}

// unbridge undoes bridged for a peer l that never joined: the caller was
// not put through. The recording of the caller alone is discarded (its
// name is used again at the next bridge).
func (a *actor) unbridge(l *leg, why string) {
	a.note(why + ": back in line")
	a.pendingPop, a.popFor = nil, nil
	if name := a.rec.Recording; name != "" {
		if err := a.m.ari.LiveRecording().Scrap(ari.NewKey(ari.LiveRecordingKey, name)); err != nil && !pbx.IsNotFound(err) {
			a.log.Warn("discarding the recording of a bridge nobody joined failed", "recording", name, "error", err)
		}
		a.rec.Recording, a.state.Recording = "", ""
	}
	a.state.RecordingFailed = "" // no conversation: nothing to record
	a.rec.Result, a.rec.Reason = "", ""
	a.rec.BridgedAt, a.state.BridgedAt = time.Time{}, time.Time{}
}

func (a *actor) cancelRing(opID string, ring uint64, reason string) {
	for _, l := range a.legs {
		if l.opID != opID || l.ring != ring || a.op == l {
			continue
		}
		switch {
		case l.gone:
			// It ended as the queue gave it up (its failure, reported
			// meanwhile, was ignored): the phone is free now.
			a.ringLegGone(l)
		case !l.cancelled:
			a.note(fmt.Sprintf("stop ringing %s (%s)", opID, reason))
			// Another operator took the call (ring-all): said so, the
			// softphones show "answered elsewhere", not a missed call
			// each operator would go back to.
			cause := "normal"
			if reason == "answered-elsewhere" {
				cause = "answered_elsewhere"
			}
			a.hangupLegWith(l, cause)
		}
	}
}

// ringLegGone tells the queue that the leg of an operator's ring that it
// gave up (CancelRing), or that we hung up, or the answered leg of an
// operator it freed as the call ended (CallEndedBeforeTalk), has left
// Asterisk: the queue rings that operator again only then (or after
// acd.LegGoneWait), so that the next ring's originate never reaches the
// phone while this leg's hang-up is on its way (a phone without call
// waiting refuses it 486, a no-answer the operator never earned).
func (a *actor) ringLegGone(l *leg) {
	if l.transfer || l.ring == 0 || a.m.queue == nil {
		return
	}
	a.m.queue.RingLegGone(a.id, l.opID, l.ring)
}

func (a *actor) hangupLeg(l *leg) { a.hangupLegWith(l, "normal") }

// hangupLegWith hangs a leg up with an ARI hangup reason ("normal",
// "answered_elsewhere").
func (a *actor) hangupLegWith(l *leg, reason string) {
	l.cancelled = true
	if l.gone {
		return
	}
	a.m.hangupChannel(a.log, l.id, reason)
}

// connect: the queue gave this call to the operator who answered ring.
// The operator hears the whisper (who the call is for), then both are
// bridged.
func (a *actor) connect(opID string, ring uint64) {
	var l *leg
	for _, x := range a.legs {
		if x.opID == opID && x.ring == ring && x.answered && !x.gone && !x.cancelled {
			l = x
		}
	}
	if l == nil || a.ending() {
		a.note("connect to " + opID + " impossible: leg gone")
		a.holdQueueUntilRequeued()
		defer a.m.queue.Release()
		if l == nil {
			// The operator's leg is gone: they hung up as they answered
			// (they chose to leave, and keep their wrap-up, as during
			// the whisper), or this call cancelled it on its way out
			// (then the queue heard of the caller leaving first).
			a.m.queue.CallEnded(a.id)
			for _, x := range a.legs {
				if x.opID == opID && x.ring == ring && x.gone {
					// The queue waits for the end of the leg they
					// answered: it came first.
					a.ringLegGone(x)
				}
			}
		} else {
			// The caller is leaving: never put through, nothing to
			// wrap up.
			a.m.queue.CallEndedBeforeTalk(a.id)
		}
		if !a.ending() {
			a.queued = false
			a.requeue() // back in line with the original time
		}
		return
	}
	a.queued = false
	a.stopRingback()
	a.stopMediaRetry()
	a.op = l
	a.rec.OperatorID = opID
	a.rec.WaitMS = a.waited().Milliseconds()
	a.note("connecting " + opID)
	notice := a.client.Record && a.client.RecordAnnouncement != ""
	whisper := a.client.WhisperSound
	if a.rec.AnsweredAt.IsZero() {
		// Ringback: the caller is answered now, while the whisper plays
		// to the operator, not at the bridge: ARI's answer does not wait
		// for the audio path, and the operator's first words would be
		// cut. The whisper's time is the wait; with no whisper, the
		// notice's lead-in is, or else the bridge follows at once.
		if !a.answer() {
			return
		}
		// Kept on the channel: a controller restarted before the bridge
		// finds the caller answered, and greets them.
		a.state.Ungreeted = true
		if !a.saveState() {
			return
		}
		if whisper != "" || !notice {
			a.leadIn = ""
		}
	}
	if whisper == "" {
		a.noticeThenBridge(l)
		return
	}
	a.play(l.id, whisper, func(string) { a.noticeThenBridge(l) })
}

// noticeThenBridge plays the recording notice to the caller (when the
// client records calls, has one, and the caller has not heard it after
// the greeting: a ringback caller), then bridges.
func (a *actor) noticeThenBridge(l *leg) {
	if !a.client.Record || a.client.RecordAnnouncement == "" || a.state.NoticeHeard || a.ending() || l.gone {
		a.bridgeWith(l)
		return
	}
	if a.rec.AnsweredAt.IsZero() && !a.answer() {
		return
	}
	a.stopCallerMedia()
	if !a.stopMOH() {
		return
	}
	a.play(a.id, a.client.RecordAnnouncement, func(string) { a.bridgeWith(l) })
}

// bridged: caller and peer are in bridge br. The step is not written on
// the channel: the bridge's name says it (BridgeName); the store keeps it.
func (a *actor) bridged(br *ari.Key, peer *leg) {
	a.state.Step, a.state.OpID, a.state.OpChannel, a.state.Bridge = StepConnected, peer.opID, peer.id, a.bridgeID
	a.holding, a.bridgeMOH = nil, false // a new bridge: the last one's holds went with it
	a.rec.BridgedAt = a.m.clock.Now()
	a.state.BridgedAt = a.rec.BridgedAt
	a.leadIn = "" // talking now
	if peer.transfer {
		a.rec.Result, a.rec.Reason = a.transferResult()
		a.note("bridged with the client")
	} else {
		a.rec.Result, a.rec.Reason = store.ResultAnswered, "talked with "+peer.opID
		a.note("bridged with " + peer.opID)
		if a.m.onConnected != nil {
			// The screen pop waits for the operator's leg to join (its
			// ChannelEnteredBridge, or joinGrace if that was lost): an
			// operator who hung up as the bridge was made gets none, nor
			// the wrap-up held for its message.
			a.pendingPop = &Connected{
				CallID: a.id, OperatorID: peer.opID, ClientID: a.client.ID, CallerNumber: a.rec.CallerID,
				KnownName: a.knownName, VIP: a.state.VIP, Known: a.known, Waited: a.waited(), At: a.m.clock.Now(), Client: a.client,
			}
			a.popFor = peer
			a.after(joinGrace, func() {
				if a.popFor == peer && !peer.gone && !peer.hangingUp && !peer.cancelled && !a.callerGone {
					a.popScreen()
				}
			})
		}
	}
	a.rec.Billable = true
	if a.client.Record {
		name := RecordingName(a.id, false, a.m.recordingTag)
		_, err := a.m.ari.Bridge().Record(br, name, &ari.RecordingOptions{Format: "wav"})
		switch {
		case err != nil && !recordingMayRun(err):
			a.log.Warn("starting the recording failed", "error", err)
			a.recordingFailed(err.Error())
		case err != nil:
			a.log.Warn("the recording's request got no answer; naming it in case Asterisk made it", "recording", name, "error", err)
			a.note("the recording's request got no answer: named in case Asterisk made it")
			fallthrough
		default:
			a.rec.Recording = name
			a.state.Recording, a.state.RecordingFailed = name, ""
			a.note("recording " + name)
		}
	}
	a.saveLive() // answered: should Asterisk lose the bridge too, the call still counts
}

// recordingFailed notes that Asterisk could not record the conversation,
// and why, in the record and in the state saved for a restart (written
// by the caller's next saveLive).
func (a *actor) recordingFailed(cause string) {
	if cause == "" {
		cause = "no cause given"
	}
	a.state.RecordingFailed = cause
	a.note(recordingFailedNote(cause))
}

// recordingFailedNote is the timeline's line of a conversation Asterisk
// could not record.
func recordingFailedNote(cause string) string {
	return "the conversation could not be recorded: " + cause
}

// recordingMayRun reports whether a recording whose request failed with
// err may run all the same: an answer from Asterisk (any status) or a
// request never sent started nothing; a request that got no answer (timed
// out under load) may have, even after a look finds none (Asterisk may
// run it later). Such a recording is named in the record, so that the
// retention deletes it at its client's time (the retention takes a
// recording gone as deleted); the name may then stand for no recording.
func recordingMayRun(err error) bool {
	return pbx.StatusCode(err) == 0 && !pbx.NotSent(err)
}

// overflow: the caller waited longer than the client allows.
func (a *actor) overflow(reason string) {
	if a.done || a.callerGone || a.op != nil {
		return
	}
	a.queued = false
	a.m.queue.Leave(a.id)
	a.rec.Result, a.rec.Reason = store.ResultOverflow, "overflow: "+reason
	a.rec.WaitMS = a.waited().Milliseconds()
	a.rec.Billable = false
	for _, l := range a.legs {
		a.hangupLeg(l)
	}
	a.stopRingback()
	a.stopMediaRetry()
	if a.rec.AnsweredAt.IsZero() && !a.overflowSays() {
		// A ringback caller with nothing to hear: not answered only to be
		// hung up (the caller's carrier would bill a connected call).
		a.note(a.rec.Reason)
		a.hangup(a.rec.Reason)
		return
	}
	if a.rec.AnsweredAt.IsZero() && !a.answer() { // ringback: answer to say goodbye
		return
	}
	a.stopCallerMedia()
	if !a.stopMOH() {
		return
	}
	a.note(a.rec.Reason)
	next := func() { a.hangup(a.rec.Reason) }
	switch a.client.Overflow {
	case config.OverflowVoicemail:
		next, a.state.Then = func() { a.voicemail(whyOverflow) }, ThenVoicemail+whyOverflow
	case config.OverflowCallback:
		next, a.state.Then = a.offerCallback, ThenCallback
	}
	a.state.Step, a.state.Playback, a.state.Prompt = StepHangup, "", false
	if a.client.OverflowSound != "" {
		a.state.Playback = a.nextPlaybackID()
	}
	if !a.saveState() {
		return
	}
	if a.client.OverflowSound == "" {
		next()
		return
	}
	a.play(a.id, a.client.OverflowSound, func(string) { next() })
}

// overflowSays reports whether the overflow has anything for the caller to
// hear: a message, a voicemail, or a callback offer (offerCallback): of
// their number, or, with callback_enter_prompt, of one they key (a
// withheld, payphone or overseas caller).
func (a *actor) overflowSays() bool {
	switch {
	case a.client.OverflowSound != "", a.client.Overflow == config.OverflowVoicemail:
		return true
	case a.client.Overflow == config.OverflowCallback:
		return a.callbackRefusal() == ""
	}
	return false
}

// operatorLost: the operator given this call left before the bridge was
// up. They go to wrap-up; the caller goes back in line with the original
// enqueue time, so they keep their place.
func (a *actor) operatorLost(why string) {
	l := a.op
	a.note(fmt.Sprintf("%s lost: %s", l.opID, why))
	// The whisper to the lost operator or the recording notice to the
	// caller: what was to follow it (the bridge) will not, and the next
	// operator's connect plays the notice again.
	if id := a.forgetPlayback(); id != "" {
		a.stopPlayback(id)
	}
	a.hangupLeg(l)
	a.holdQueueUntilRequeued()
	defer a.m.queue.Release()
	a.m.queue.CallEnded(a.id)
	if l.gone {
		// It ended first: the queue waits for this report (one still
		// up is reported as it ends: cancelled, see legEnded).
		a.ringLegGone(l)
	}
	a.op, a.rec.OperatorID, a.rec.WaitMS = nil, "", 0
	a.dropBridge()
	a.requeue()
}

// holdQueueUntilRequeued holds the queue's ringing (queue.Owner.Hold;
// the caller Releases it once back in line, in the same handling): the
// operator the call frees must not be given, before the caller is back in
// line, to a caller who phoned after them.
func (a *actor) holdQueueUntilRequeued() { a.m.queue.Hold() }

// dropBridge destroys a bridge that will not be used (the caller leaves
// it with it).
func (a *actor) dropBridge() {
	if a.bridgeID == "" {
		return
	}
	a.stopBridgeRetry()
	a.m.destroyBridge(a.log, a.bridgeID)
	a.m.disp.UnbindBridge(a.bridgeID, a.inbox)
	a.bridgeID = ""
	// Out of it: a caller who hangs up as the next bridge is made never
	// joins that one.
	a.callerJoined = false
}

// requeue puts the caller back in line with their original place: ringing
// again if they were never answered (ringback), on hold otherwise.
func (a *actor) requeue() {
	if a.rec.AnsweredAt.IsZero() && a.client.AnswerMode == reception.AnswerRingback {
		a.ringback()
		return
	}
	if a.state.Ungreeted {
		// A ringback caller answered for an operator who left before the
		// bridge has heard nothing yet: greeted.
		a.greetInLine()
		return
	}
	a.enqueue()
}

// greetInLine greets a caller answered but never greeted (Ungreeted) back
// in line at their place while the greeting plays, as when ringback_max
// passes: out of line for the greeting, they lost the next free operator
// to a caller who phoned after them. An operator free meanwhile cuts the
// greeting (the recording notice then comes at the bridge).
func (a *actor) greetInLine() {
	a.greet(false, a.greetedInLine)
	a.joinQueue(false)
}

// greetedInLine follows a greeting played to a caller in line: music on
// hold, unless an operator took them meanwhile.
func (a *actor) greetedInLine() {
	if a.state.NoticeHeard {
		a.saveState() // a restart must not play it again at the bridge
	}
	if a.queued && a.op == nil {
		a.startMOH()
	}
}
