package call

import (
	"fmt"
	"slices"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Calls that ended while no controller watched: the caller hung up during
// a restart (or Asterisk restarted). Asterisk keeps nothing of a channel
// that is gone, so the next controller records such a call from what
// outlived it: the name of the bridge it talked in (endedUnseen), else the
// state it kept in the store (recordUnseen).

// endedUnseen destroys the bridges bs of a call that ended while no
// controller watched (the caller hung up meanwhile: Asterisk keeps a
// Stasis bridge until it is destroyed) and records the call from what the
// name of the bridge it talked in says (the one with the peer's leg, else
// the last), unless a record of it exists: its own controller may have
// stored the whole record and then failed to destroy the bridge. live
// holds the channels of our application.
func (m *Manager) endedUnseen(bs []*ari.BridgeData, live map[string]bool) {
	var talkedIn *ari.BridgeData
	for _, b := range bs {
		p, _ := parseBridgeName(b.Name)
		if talkedIn == nil || slices.Contains(b.ChannelIDs, p.State.OpChannel) {
			talkedIn = b
		}
		m.log.Info("destroying the bridge of a call that ended while no controller watched", "call", p.Call, "bridge", b.ID)
		m.destroyBridge(m.log, b.ID)
	}
	p, _ := parseBridgeName(talkedIn.Name)
	st := p.State
	now := m.clock.Now()
	rec := store.CallRecord{
		ID: p.Call, ClientID: st.ClientID, DID: st.DID, CallerID: p.CallerNumber,
		CallerKind: phone.ParseCallerID(p.CallerNumber).Kind.String(), StartedAt: st.StartedAt, EndedAt: now,
		Result: store.ResultAnswered, Reason: "talked with " + st.OpID, OperatorID: st.OpID, Billable: true,
	}
	what := "ended while no controller watched: found its bridge after a restart"
	switch {
	case slices.Contains(talkedIn.ChannelIDs, st.OpChannel):
		// The peer is still in the bridge: the caller left it, talking.
	case live[st.OpChannel]:
		// The peer is up but never joined: the caller hung up before the
		// bridge was made.
		rec.Result, rec.Reason, rec.Billable = store.ResultAbandoned, "caller hung up before being bridged with "+st.OpID, false
		if !st.EnqueuedAt.IsZero() {
			rec.WaitMS = now.Sub(st.EnqueuedAt).Milliseconds()
		}
	default:
		what += "; both had left, so whether they talked is not known"
	}
	if st.OpID == "" && rec.Result == store.ResultAnswered {
		rec.Result, rec.Reason = store.ResultTransferred, "transferred to the client"
	}
	rec.Events = []store.CallEvent{{At: now, What: what}}
	stored, err := m.rec.PutCallIfAbsent(rec)
	switch {
	case err != nil:
		m.log.Error("storing the record of a call that ended unseen failed", "call", p.Call, "error", err)
	case stored && m.onFinished != nil:
		m.onFinished(rec)
	}
}

// recordUnseen records call id, which ended while no controller watched
// and left no bridge, from the live state it kept in the store (saved), unless
// a record of it exists.
func (m *Manager) recordUnseen(id, saved string) {
	number, st, err := parseLiveState(saved)
	if err != nil {
		m.log.Error("the saved state of a call that ended while no controller watched cannot be read: no record", "call", id, "state", saved, "error", err)
		return
	}
	message := false
	if st.Step == StepVoicemail && st.Recording != "" {
		// Asterisk stores the message when the caller hangs up.
		_, err := m.ari.StoredRecording().Data(ari.NewKey(ari.StoredRecordingKey, st.Recording))
		message = err == nil
	}
	billAfterHours := false
	if cl, ok := m.config().Client(st.ClientID); ok {
		billAfterHours = cl.BillAfterHours
	}
	rec := unseenRecord(id, number, st, m.clock.Now(), message, billAfterHours)
	stored, err := m.rec.PutCallIfAbsent(rec)
	switch {
	case err != nil:
		m.log.Error("storing the record of a call that ended unseen failed", "call", id, "error", err)
	case stored:
		m.log.Info("recorded a call that ended while no controller watched", "call", id, "result", rec.Result, "step", st.Step)
		if m.onFinished != nil {
			m.onFinished(rec)
		}
	}
}

// unseenRecord is the record of call id (caller number), which ended at
// the latest at now, while no controller watched, from the state st it
// saved last. message says whether the voicemail it was recording is
// stored; billAfterHours is its client's bill_after_hours.
func unseenRecord(id, number string, st Persisted, now time.Time, message, billAfterHours bool) store.CallRecord {
	rec := store.CallRecord{
		ID: id, ClientID: st.ClientID, DID: st.DID, CallerID: number, CallerKind: phone.ParseCallerID(number).Kind.String(),
		StartedAt: st.StartedAt, EndedAt: now,
		Events: []store.CallEvent{{At: now, What: "ended while no controller watched: found its saved state (" + string(st.Step) + ") after a restart"}},
	}
	decided := store.Result(st.Result)
	switch {
	case st.Step == StepConnected && st.OpID == "":
		rec.Result, rec.Reason, rec.Billable = store.ResultTransferred, "transferred to the client", true
	case st.Step == StepConnected:
		rec.Result, rec.Reason, rec.OperatorID, rec.Billable = store.ResultAnswered, "talked with "+st.OpID, st.OpID, true
	case st.Step == StepVoicemail && message:
		why := "overflow"
		if decided == store.ResultAfterHours {
			why = "after hours"
		}
		rec.Result, rec.Reason, rec.Recording = store.ResultVoicemail, "voicemail left ("+why+")", st.Recording
		rec.Billable = billAfterHours && why == "after hours"
	case decided.Valid():
		rec.Result, rec.Reason = decided, st.Reason
		rec.Billable = decided == store.ResultAfterHours && billAfterHours
	case !st.EnqueuedAt.IsZero():
		// A missed call (不在着信); how long the caller waited is known
		// only up to the restart.
		waited := max(now.Sub(st.EnqueuedAt), 0)
		rec.Result, rec.WaitMS = store.ResultAbandoned, waited.Milliseconds()
		rec.Reason = fmt.Sprintf("caller hung up after waiting at most %s, while no controller watched", waited.Round(time.Second))
	case st.Step == StepTransfer:
		rec.Result, rec.Reason = store.ResultAbandoned, "caller hung up while the client's phone rang, while no controller watched"
	default:
		rec.Result, rec.Reason = store.ResultAbandoned, "caller hung up during the greeting, while no controller watched"
	}
	return rec
}
