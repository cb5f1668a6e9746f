package call

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// callerLeft notes that the caller hung up (ChannelHangupRequest,
// StasisEnd, or a 404 on our command) and lets the queue know at once.
func (a *actor) callerLeft() {
	if a.callerGone || a.hangupSent {
		return
	}
	a.callerGone = true
	a.note("caller hung up")
	a.leaveQueue()
	for _, l := range []*leg{a.op, a.xfer} {
		if l != nil {
			a.hangupLeg(l)
		}
	}
}

// leaveQueue tells the queue the call is no longer waiting or talking.
func (a *actor) leaveQueue() {
	if a.m.queue == nil {
		return
	}
	if a.queued {
		a.queued = false
		a.m.queue.Abandon(a.id)
	}
	if a.op != nil && !a.opReleased {
		// The operator was given this call: release them to wrap-up,
		// or at once if the caller left before they were put through
		// (during the whisper): there is nothing to wrap up.
		a.opReleased = true
		if a.op.ring&acd.ForeignLeg != 0 && !a.op.gone {
			// A call re-adopted connected: the queue never rang this
			// leg, so it is told to wait for its end (which follows
			// the hang-up below) before ringing the operator again.
			a.m.queue.AwaitLeg(a.op.opID, a.op.ring)
		}
		if a.rec.BridgedAt.IsZero() {
			a.m.queue.CallEndedBeforeTalk(a.id)
		} else {
			a.m.queue.CallEnded(a.id)
		}
		if a.op.gone {
			// Its end came first (the operator hung up): the phone is
			// free (legEnded reports a leg ending from now on). The
			// queue waits for this report after every end.
			a.ringLegGone(a.op)
		}
	}
}

// hangup asks Asterisk to hang the caller up; StasisEnd then finishes the call.
func (a *actor) hangup(reason string) {
	if a.hangupSent || a.callerGone || a.done {
		return
	}
	a.hangupSent = true
	a.leaveQueue()
	// The operator's or the client's leg goes with the caller (at once,
	// not when the caller's channel ends: that may take retries).
	for _, l := range a.legs {
		if !l.gone && !l.cancelled {
			a.hangupLeg(l)
		}
	}
	a.state.Step = StepHangup
	a.note("hanging up: " + reason)
	// Kept before the DELETE: should the controller stop before the
	// channel's end reaches it, the next one finds the outcome (a caller
	// blocked at once had saved nothing else, and would go unrecorded).
	a.saveLive()
	a.sendHangup(1)
}

// hangupReason is the cause a caller is hung up with. Once answered, a
// normal clearing. A caller never answered is refused: with "normal",
// chan_pjsip sends 603 Decline (cause 16 has no SIP code of its own), a
// final refusal that some carriers announce as the number refusing calls;
// a blocked caller is meant to get that. Anyone else (nothing to hear
// after hours, a queue given up in ringback, a failure) gets "no_answer",
// cause 19: 480 Temporarily Unavailable, as asterisk-conf's fallback.
func (a *actor) hangupReason() string {
	if !a.rec.AnsweredAt.IsZero() || a.rec.Result == store.ResultBlocked {
		return "normal"
	}
	return "no_answer"
}

// hangupTries is how often a failing DELETE is retried a second apart;
// after that, every hangupRetryEvery.
const (
	hangupTries      = 3
	hangupRetryEvery = 10 * time.Second
)

// sendHangup asks Asterisk to hang up; a failure (Asterisk busy, a
// timeout) is retried rather than leaving the caller alone on the line.
// It is never given up: the call ends (and is recorded) with its
// channel, whether our DELETE ends it at last or the caller does.
func (a *actor) sendHangup(try int) {
	err := a.m.ari.Channel().Hangup(a.key(), a.hangupReason())
	if err == nil || a.gone(err, "hangup") {
		return
	}
	in := time.Second
	if try < hangupTries {
		a.log.Warn("hangup failed: trying again", "error", err, "try", try)
	} else {
		in = hangupRetryEvery
		a.log.Error("hangup failed: the caller is still on the line; trying again", "error", err, "try", try, "in", in)
	}
	a.stopHangupRetry()
	a.hangupRetry, a.hangupTry = a.m.clock.NewTimer(in), try+1
}

func (a *actor) stopHangupRetry() {
	if a.hangupRetry != nil {
		a.hangupRetry.Stop()
		a.hangupRetry = nil
	}
}

// gone handles a REST error: a 404 means the channel has gone (the caller
// hung up before our command arrived) and the call is finished.
func (a *actor) gone(err error, what string) bool {
	if !pbx.IsNotFound(err) {
		return false
	}
	a.note(what + ": channel already gone")
	if a.failed != nil {
		a.failureWasHangup()
	}
	a.callerLeft()
	a.finish()
	return true
}

// fail ends the call after a command on it failed. Asterisk refuses some
// commands on a channel that is hanging up (answer: 500, add to a bridge:
// 422, 409 once it left Stasis): after such a refusal, if the caller turns
// out to have hung up (failureWasHangup), the call ends as if the command
// had not failed.
func (a *actor) fail(reason string, err error) {
	a.log.Error(reason, "error", err)
	if refusedWhileHangingUp(err) {
		a.failed = a.failure()
	}
	a.rec.Result, a.rec.Reason = store.ResultFailed, fmt.Sprintf("%s: %v", reason, err)
	a.rec.Billable = false
	a.hangup(reason)
}

// refusedWhileHangingUp reports whether err is what Asterisk answers a
// command on a channel that is hanging up (500, 409, 422); a timeout or
// another refusal stays a failure whatever the caller does next.
func refusedWhileHangingUp(err error) bool {
	switch pbx.StatusCode(err) {
	case http.StatusInternalServerError, http.StatusConflict, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// failure is what a call's record said before a command failed.
type failure struct {
	result          store.Result
	reason          string
	billable        bool
	voicemailFailed bool
}

// failure is what the call's record says now, kept as a command fails.
func (a *actor) failure() *failure {
	return &failure{result: a.rec.Result, reason: a.rec.Reason, billable: a.rec.Billable, voicemailFailed: a.rec.VoicemailFailed}
}

// failureWasHangup: after a failed command, the caller's own hangup
// (not the soft one our DELETE causes) or a channel already gone shows the
// command failed because the caller was leaving: a missed call, not a
// failure.
func (a *actor) failureWasHangup() {
	f := a.failed
	a.failed = nil
	a.note("the failure came with the caller's hangup")
	a.rec.Result, a.rec.Reason, a.rec.Billable = f.result, f.reason, f.billable
	a.rec.VoicemailFailed, a.state.VoicemailFailed = f.voicemailFailed, f.voicemailFailed
	a.hangupSent = false // the caller left: callerLeft records it
}

// finish releases what the call holds and stores its record, once.
func (a *actor) finish() {
	if a.done {
		return
	}
	a.done = true
	a.stopTimer()
	a.stopPlayTimer()
	a.stopHangupRetry()
	a.stopRingback()
	a.stopMediaRetry()
	a.stopBridgeRetry()
	a.leaveQueue()
	for _, l := range a.legs {
		// Unbound first: the end of a leg hung up now is an event no
		// actor owns, and the manager tells the queue of a ring leg's
		// (watchLooseLeg), as the actor would have; so is the end of
		// the operator's answered leg (CallEndedBeforeTalk waits for it).
		a.m.disp.UnbindChannel(l.id, a.inbox)
		if !l.gone {
			watched := !l.transfer && l.ring != 0
			if watched {
				a.m.watchLooseLeg(l.id, a.id, l.opID, l.ring)
			}
			l.cancelled = true
			if a.m.hangupChannelGone(a.log, l.id, "normal") && watched {
				// It had left already (hung up as the caller left): its
				// end came to this actor, which reads no more events.
				a.m.looseLegGone(l.id)
			}
		}
	}
	if a.bridgeID != "" {
		a.m.destroyBridge(a.log, a.bridgeID)
		a.m.disp.UnbindBridge(a.bridgeID, a.inbox)
	}

	now := a.m.clock.Now()
	a.rec.EndedAt = now
	if a.rec.StartedAt.IsZero() {
		a.rec.StartedAt = now
	}
	a.messageUnfinished()
	a.settleResult()
	a.note("ended: " + string(a.rec.Result))
	if err := a.m.rec.PutCall(a.rec); err != nil {
		a.log.Error("storing call record failed; tried again, and the next start records it from its live state", "error", err, "call", a.id)
		// the settled result, and until when it was watched
		a.settledIntoState()
		a.m.rec.SaveLive(a.id, withEndedAt(withWatchedUntil(LiveState(a.rec.CallerID, a.state), now), now))
		a.m.retryRecord(a.rec)
		return
	}
	reason := a.rec.Reason
	if a.rec.Result == store.ResultBlocked {
		reason = phone.Masked(reason) // a rule for one number names it
	}
	a.log.Info("call ended", "result", a.rec.Result, "reason", reason, "client", a.rec.ClientID, "operator", a.rec.OperatorID)
	if a.m.onFinished != nil {
		a.m.onFinished(a.rec)
	}
}

// settleResult decides the typed result of a call that is over.
func (a *actor) settleResult() {
	switch {
	case (a.rec.Result == store.ResultAnswered || a.rec.Result == store.ResultTransferred) && a.callerNeverJoined():
		// Added as they hung up (Asterisk answers 204 and adds nothing):
		// nobody talked with them. A missed call, not billed.
		a.rec.Result = store.ResultAbandoned
		a.rec.Reason = "caller hung up as the bridge was made"
		a.note(a.rec.Reason)
	case a.rec.Result == store.ResultAnswered || a.rec.Result == store.ResultTransferred:
		if a.callerGone {
			a.rec.Reason += "; caller hung up"
		}
	case a.rec.Result == store.ResultUnknownDID && a.callerGone:
		a.rec.Reason += "; caller hung up during the announcement"
	case a.rec.Result != "":
	case a.callerGone && !a.state.EnqueuedAt.IsZero():
		// A missed call (不在着信): the caller gave up waiting.
		a.rec.Result = store.ResultAbandoned
		a.rec.WaitMS = a.waited().Milliseconds()
		a.rec.Reason = fmt.Sprintf("caller hung up after waiting %s", a.waited().Round(time.Second))
	case a.callerGone && !a.rec.AnsweredAt.IsZero():
		a.rec.Result, a.rec.Reason = store.ResultAbandoned, "caller hung up during the greeting"
	case a.callerGone:
		a.rec.Result, a.rec.Reason = store.ResultAbandoned, "caller hung up before the answer"
	default:
		a.rec.Result, a.rec.Reason = store.ResultFailed, "call ended unexpectedly"
	}
	a.rec.Billable = billable(a.rec.Result, a.afterHoursBillable, a.vmWhy == whyAfterHours)
}

// callerNeverJoined reports whether the caller, bridged, left without ever
// being in the bridge: gone within joinGrace of it with no
// ChannelEnteredBridge (which may only have been lost with the link
// after that).
func (a *actor) callerNeverJoined() bool {
	return a.callerGone && !a.callerJoined && !a.rec.BridgedAt.IsZero() && a.m.clock.Now().Sub(a.rec.BridgedAt) < joinGrace
}

// billable says whether a call that ended with result r counts toward its
// client's monthly fee: answered and transferred calls do; after-hours
// calls, and voicemails left after hours (afterHoursMessage), if the
// client bills after-hours calls (billAfterHours); no other call does.
func billable(r store.Result, billAfterHours, afterHoursMessage bool) bool {
	switch r {
	case store.ResultAnswered, store.ResultTransferred:
		return true
	case store.ResultAfterHours:
		return billAfterHours
	case store.ResultVoicemail:
		return billAfterHours && afterHoursMessage
	}
	return false
}

// recordRetryFirst is the wait before failed records are stored again
// (Deps.RecordRetry); it doubles, while the store keeps failing, up to
// recordRetryMax.
const (
	recordRetryFirst = time.Second
	recordRetryMax   = time.Minute
)

// failedRecords are the call records the store failed to take, oldest
// first, waiting to be stored again by one goroutine (running while any
// wait): a disk full for an hour of calls is one retry a minute, not one
// per call, each logging.
type failedRecords struct {
	mu      sync.Mutex
	pending []failedRecord
	running bool
}

// failedRecord is a record waiting to be stored again.
type failedRecord struct {
	rec store.CallRecord
	// ifAbsent: the record of a call that ended unseen (unseen.go), stored
	// only if none of the call exists (PutCallIfAbsent).
	ifAbsent bool
	// then runs once the record is stored, or found stored (nil: nothing).
	then func()
}

// add queues rec and reports whether the goroutine storing them must be
// started.
func (f *failedRecords) add(rec failedRecord) (start bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, rec)
	start, f.running = !f.running, true
	return start
}

// next is the oldest record waiting; none (false) stops the goroutine.
func (f *failedRecords) next() (failedRecord, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) == 0 {
		f.running = false
		return failedRecord{}, false
	}
	return f.pending[0], true
}

// done takes the oldest record off, and says how many are left.
func (f *failedRecords) done() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending[0] = failedRecord{}
	f.pending = f.pending[1:]
	return len(f.pending)
}

// has reports whether call id's record waits.
func (f *failedRecords) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.pending, func(r failedRecord) bool { return r.rec.ID == id })
}

// waiting is how many records wait.
func (f *failedRecords) waiting() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}

// retryRecord stores rec again, off the call's goroutine, until it is
// stored or the manager stops (its live state then leaves it to the next
// start): a store that failed for a moment must not keep the month's
// counts and the relay without the call until a restart.
func (m *Manager) retryRecord(rec store.CallRecord) {
	m.retryFailed(failedRecord{rec: rec})
}

// retryUnseen stores rec, the record of a call that ended unseen, again
// like retryRecord, but only if no record of the call exists by then
// (PutCallIfAbsent); then runs once it is stored or found stored.
func (m *Manager) retryUnseen(rec store.CallRecord, then func()) {
	m.retryFailed(failedRecord{rec: rec, ifAbsent: true, then: then})
}

func (m *Manager) retryFailed(f failedRecord) {
	if m.failed.add(f) {
		m.wg.Add(1)
		go m.storeFailedRecords()
	}
}

// storeFailedRecords stores the failed records again, oldest first, while
// any wait: after recordRetry, then after twice the last wait while the
// store keeps failing; once one is stored the rest follow at once.
func (m *Manager) storeFailedRecords() {
	defer m.wg.Done()
	wait := m.recordRetry
	for {
		t := time.NewTimer(wait)
		select {
		case <-m.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		for {
			f, ok := m.failed.next()
			if !ok {
				return
			}
			rec, stored, err := f.rec, true, error(nil)
			if f.ifAbsent {
				stored, err = m.rec.PutCallIfAbsent(rec)
			} else {
				err = m.rec.PutCall(rec)
			}
			if errors.Is(err, store.ErrInvalidRecord) {
				m.log.Error("a call record the store refuses: not tried again", "call", rec.ID, "error", err)
				m.failed.done()
				continue
			}
			if err != nil {
				wait = min(2*wait, recordRetryMax)
				m.log.Warn("storing call records failed again", "waiting", m.failed.waiting(), "oldest", rec.ID, "error", err, "next in", wait)
				break
			}
			left := m.failed.done()
			wait = m.recordRetry
			if !stored {
				m.log.Info("call record found stored on a later try: kept", "call", rec.ID, "still waiting", left)
			} else {
				m.log.Info("call record stored on a later try", "call", rec.ID, "result", rec.Result, "still waiting", left)
			}
			if f.then != nil {
				f.then()
			}
			if stored && m.onFinished != nil {
				m.onFinished(rec)
			}
		}
	}
}
