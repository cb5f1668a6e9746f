package call

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Calls that ended while no controller watched: the caller hung up during
// a restart (or Asterisk restarted). Asterisk keeps nothing of a channel
// that is gone, so the next controller records such a call from what
// outlived it: the name of the bridge it talked in (endedUnseen), else the
// state it kept in the store (recordUnseen).

// endedUnseen records a call that ended while no controller watched (the
// caller hung up meanwhile: Asterisk keeps a Stasis bridge until it is
// destroyed) from what the name of the bridge it talked in says (the one
// with the peer's leg, else the last), unless a record of it exists: its
// own controller may have stored the whole record and then failed to
// destroy the bridge. Then it destroys the call's bridges bs. live holds
// the channels of our application; saved is the live state the call kept
// in the store ("" if none), which names its recording, and seen until
// when its controller watched it.
//
// The bridges are destroyed once the record is stored, not before: they
// may be all that is left of the call (no saved state after a restore
// from a backup, or a stop before the state was written). A record the
// store fails to take is stored again (retryUnseen) and the bridges go
// then; if the process stops first, the next start finds them. An ended
// call's bridge kept meanwhile is harmless: the caller is gone, and the
// peer's leg, which no call owns, is hung up by the adoption; a
// reconnect meanwhile leaves them to the retry.
func (m *Manager) endedUnseen(bs []*ari.BridgeData, live map[string]bool, saved string, seen time.Time) {
	var talkedIn *ari.BridgeData
	for _, b := range bs {
		p, _ := parseBridgeName(b.Name)
		if talkedIn == nil || slices.Contains(b.ChannelIDs, p.State.OpChannel) {
			talkedIn = b
		}
	}
	p, _ := parseBridgeName(talkedIn.Name)
	if m.failed.has(p.Call) {
		return // its record is being stored again, and its bridges go then
	}
	destroy := func() {
		for _, b := range bs {
			m.log.Info("destroying the bridge of a call that ended while no controller watched", "call", p.Call, "bridge", b.ID)
			m.destroyBridge(m.log, b.ID)
		}
	}
	if !endedAt(saved).IsZero() {
		// Settled by its controller, which then failed to store the
		// record (and to destroy the bridge): the saved state says how
		// and when it ended, and stays in the store until the record
		// is stored (recordUnseen).
		destroy()
		m.recordUnseen(p.Call, saved, seen)
		return
	}
	st := p.State
	now := m.clock.Now()
	rec := unseenRecord(p.Call, p.CallerNumber, st, now)
	rec.Result, rec.Reason, rec.OperatorID = connectedOutcome(st)
	what := "ended while no controller watched: found its bridge after a restart"
	switch {
	case slices.Contains(talkedIn.ChannelIDs, st.OpChannel):
		// The peer is still in the bridge: the caller left it, talking.
	case live[st.OpChannel]:
		// The peer is up but never joined: the caller hung up before the
		// bridge was made.
		rec.Result, rec.Reason, rec.OperatorID = store.ResultAbandoned, "caller hung up before being bridged with "+st.OpID, ""
		// The bridge's name was written before the bridge: nobody was put
		// through.
		rec.BridgedAt = time.Time{}
		if rec.WaitMS == 0 && !st.EnqueuedAt.IsZero() { // a bridge named by an older version
			rec.WaitMS = max(now.Sub(st.EnqueuedAt), time.Millisecond).Milliseconds()
		}
	default:
		what += "; both had left, so whether they talked is not known"
	}
	rec.Events = []store.CallEvent{{At: now, What: what}}
	if _, ls, _, err := parseLiveState(saved); err == nil && ls.Step == StepConnected && rec.Result != store.ResultAbandoned {
		rec.Recording = ls.Recording // the conversation's: the retention deletes it with the record
		if ls.RecordingFailed != "" {
			rec.Events = append(rec.Events, store.CallEvent{At: now, What: recordingFailedNote(ls.RecordingFailed)})
		}
	}
	rec.Billable = billable(rec.Result, false, false)
	stored, err := m.rec.PutCallIfAbsent(rec)
	switch {
	case errors.Is(err, store.ErrInvalidRecord):
		// Not worth another try: the next start has its saved state, if any.
		m.log.Error("the record of a call that ended unseen is not valid", "call", p.Call, "error", err)
		if saved != "" {
			m.keepUnseen(p.Call, saved, seen)
		}
		destroy()
	case err != nil:
		m.log.Error("storing the record of a call that ended unseen failed; tried again, its bridges kept until it is stored", "call", p.Call, "error", err)
		if saved != "" {
			m.keepUnseen(p.Call, saved, seen)
		}
		m.retryUnseen(rec, destroy)
	default:
		destroy()
		if stored && m.onFinished != nil {
			m.onFinished(rec)
		}
	}
}

// recordUnseen records call id, which ended while no controller watched
// and left no bridge, from the live state it kept in the store (saved),
// unless a record of it exists. seen is until when its controller watched
// it (zero if not known; a time the state itself carries wins: see
// keepUnseen). Asterisk may fail to say whether a voicemail is stored: it
// is asked again, with a backoff, until the manager stops. A record the
// store fails to take is stored again like a running call's (retryUnseen),
// its state kept meanwhile. A state that cannot be read or recorded is
// dropped.
func (m *Manager) recordUnseen(id, saved string, seen time.Time) {
	number, st, until, err := parseLiveState(saved)
	if err != nil {
		m.log.Error("the saved state of a call that ended while no controller watched cannot be read: no record", "call", id, "state", saved, "error", err)
		m.dropUnseen(id)
		return
	}
	if !until.IsZero() {
		seen = until
	}
	u := unseen{id: id, number: number, st: st, watchedUntil: seen, ended: endedAt(saved)}
	if cl, ok := m.config().Client(st.ClientID); ok {
		u.billAfterHours = cl.BillAfterHours
	}
	if st.BillAfterHours != BillUnknown {
		// As decided, whatever a reload (or the client's removal) did.
		u.billAfterHours = st.BillAfterHours == BillYes
	}
	if st.Step == StepCallback && m.callbacks != nil {
		_, err := m.callbacks.Callback(id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			m.log.Error("reading the callback request of a call that ended unseen failed; the next start records it", "call", id, "error", err)
			m.keepUnseen(id, saved, seen)
			return
		}
		u.callbackStored = err == nil
	}
	if st.Step == StepVoicemail && st.Recording != "" {
		// Asterisk stores the message when the caller hangs up.
		for wait := time.Second; ; wait = min(2*wait, time.Minute) {
			_, err := m.ari.StoredRecording().Data(ari.NewKey(ari.StoredRecordingKey, st.Recording))
			if err == nil || pbx.IsNotFound(err) {
				u.message = err == nil
				break
			}
			m.log.Warn("asking Asterisk for the voicemail of a call that ended unseen failed; asking again", "call", id, "recording", st.Recording, "in", wait, "error", err)
			select {
			case <-time.After(wait + rand.N(wait/2)): // apart: many calls may be asking
			case <-m.ctx.Done():
				m.keepUnseen(id, saved, seen) // the next controller records it
				return
			}
		}
	}
	rec := u.record(m.clock.Now())
	stored, err := m.rec.PutCallIfAbsent(rec)
	switch {
	case errors.Is(err, store.ErrInvalidRecord):
		m.log.Error("the record of a call that ended unseen is not valid: dropped", "call", id, "state", saved, "error", err)
		m.dropUnseen(id)
	case err != nil:
		m.log.Error("storing the record of a call that ended unseen failed; tried again, and the next start records it from its live state", "call", id, "error", err)
		m.keepUnseen(id, saved, seen)
		m.retryUnseen(rec, nil) // as a running call's: its notice follows once stored
	case stored:
		m.log.Info("recorded a call that ended while no controller watched", "call", id, "result", rec.Result, "step", st.Step)
		if m.onFinished != nil {
			m.onFinished(rec)
		}
	}
}

// keepUnseen leaves a call that ended unseen to the next controller, with
// the time its own controller watched it until: from now on this one
// records its own watch (SaveLiveSeen), which says nothing of this call.
func (m *Manager) keepUnseen(id, saved string, seen time.Time) {
	if _, _, until, err := parseLiveState(saved); err == nil && until.IsZero() && !seen.IsZero() {
		saved = withWatchedUntil(saved, seen)
	}
	m.rec.SaveLive(id, saved)
}

func (m *Manager) dropUnseen(id string) {
	if err := m.rec.DropLive(id); err != nil {
		m.log.Error("dropping the saved state of a call failed", "call", id, "error", err)
	}
}

// unseen is what is known of a call that ended while no controller
// watched and left no bridge.
type unseen struct {
	id, number string
	st         Persisted // the state saved last
	// watchedUntil: the caller was there then (zero: not known).
	watchedUntil time.Time
	// message: the voicemail it was recording is stored.
	message bool
	// callbackStored: its request to be called back is stored.
	callbackStored bool
	// billAfterHours: its client's bill_after_hours.
	billAfterHours bool
	// ended: when the call ended, if its controller settled it (finish)
	// and then failed to store its record (zero otherwise).
	ended time.Time
}

// record is the call's record; it ended at the latest at now (when it
// ended, if that is known).
func (u unseen) record(now time.Time) store.CallRecord {
	st := u.st
	decided := store.Result(st.Result)
	settled := !u.ended.IsZero() && decided.Valid()
	what := "ended while no controller watched: found its saved state (" + string(st.Step) + ") after a restart"
	if settled {
		now = u.ended
		what = "its record could not be stored when it ended: recorded from its saved state after a restart"
	}
	rec := unseenRecord(u.id, u.number, st, now)
	rec.Events = []store.CallEvent{{At: now, What: what}}
	if st.RecordingFailed != "" { // set only while connected
		rec.Events = append(rec.Events, store.CallEvent{At: now, What: recordingFailedNote(st.RecordingFailed)})
	}
	afterHoursMessage := false // a voicemail left after hours
	switch {
	case settled:
		afterHoursMessage = settledOutcome(&rec, decided, st)
	case st.Step == StepConnected:
		rec.Result, rec.Reason, rec.OperatorID = connectedOutcome(st)
		rec.Recording = st.Recording
	case st.Step == StepVoicemail && u.message && st.VoicemailSilent && decided.Valid():
		// Ended before the restart, nothing said in it.
		afterHoursMessage = settledOutcome(&rec, decided, st)
	case st.Step == StepVoicemail && u.message:
		why := voicemailWhy(decided)
		rec.Result, rec.Reason, rec.Recording = store.ResultVoicemail, voicemailLeft(why), st.Recording
		afterHoursMessage = why == whyAfterHours
	case st.Step == StepCallback && u.callbackStored:
		rec.Result, rec.Reason = store.ResultOverflow, store.ReasonCallbackRequested
	case decided.Valid():
		// Decided before the controller stopped (or settled whole by a
		// controller that then failed to store it).
		afterHoursMessage = settledOutcome(&rec, decided, st)
	case !st.EnqueuedAt.IsZero():
		// A missed call (不在着信). The caller hung up after the controller
		// last saw them there (before the restart, if that is not known);
		// at least a millisecond: they gave up in line.
		at, least := now, "most"
		if !u.watchedUntil.IsZero() && u.watchedUntil.Before(now) {
			at, least = u.watchedUntil, "least"
		}
		waited := max(at.Sub(st.EnqueuedAt), time.Millisecond)
		rec.Result, rec.WaitMS = store.ResultAbandoned, waited.Milliseconds()
		rec.Reason = fmt.Sprintf("caller hung up after waiting at %s %s, while no controller watched", least, waited.Round(time.Second))
	default:
		rec.Result, rec.Reason = store.ResultAbandoned, "caller hung up during the greeting, while no controller watched"
	}
	rec.Billable = billable(rec.Result, u.billAfterHours, afterHoursMessage)
	return rec
}

// settledOutcome fills in rec the outcome decided (saved state st), and
// reports whether it is a voicemail left after hours.
func settledOutcome(rec *store.CallRecord, decided store.Result, st Persisted) bool {
	rec.Result, rec.Reason = decided, st.Reason
	switch decided {
	case store.ResultAnswered, store.ResultTransferred:
		rec.OperatorID, rec.Recording = st.OpID, st.Recording
	case store.ResultVoicemail:
		rec.Recording = st.Recording
		return st.Reason == voicemailLeft(whyAfterHours)
	}
	if st.VoicemailSilent {
		rec.Recording, rec.VoicemailSilent = st.Recording, true
	}
	return false
}

// unseenRecord is the part every record of a call that ended unseen
// shares: what its saved state st says, ended at the latest at now.
func unseenRecord(id, number string, st Persisted, now time.Time) store.CallRecord {
	return store.CallRecord{
		ID: id, ClientID: st.ClientID, DID: st.DID, CallerID: number, CallerKind: phone.ParseCallerID(number).Kind.String(),
		StartedAt: st.StartedAt, EndedAt: now, WaitMS: st.Waited.Milliseconds(),
		AnsweredAt: st.AnsweredAt, BridgedAt: st.BridgedAt, VoicemailFailed: st.VoicemailFailed,
		CallbackNumber: st.CallbackNumber,
	}
}

// connectedOutcome is how a call connected as st (StepConnected) ended: in
// talk with its operator, or transferred to the client (no operator).
func connectedOutcome(st Persisted) (store.Result, string, string) {
	if st.OpID == "" {
		return store.ResultTransferred, "transferred to the client", ""
	}
	return store.ResultAnswered, "talked with " + st.OpID, st.OpID
}
