package call

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// StateVar is the channel variable where a call keeps what a restarted
// controller needs to re-adopt it. State kept only in memory would die with
// the process; a channel variable lives as long as the call.
const StateVar = "TORITSUGI_STATE"

// Step is where a call is in its flow.
type Step string

// Steps of a call.
const (
	StepNew       Step = "new"
	StepGreeting  Step = "greeting"
	StepQueued    Step = "queued"
	StepTransfer  Step = "transfer"  // ringing the client's phone for a VIP
	StepVoicemail Step = "voicemail" // recording the caller's message
	StepCallback  Step = "callback"  // offering a callback, awaiting the caller's 1
	// StepConnected is no longer written (the bridge's name says it, see
	// BridgeName); it is read from calls an older version saved.
	StepConnected Step = "connected"
	StepHangup    Step = "hangup"
)

// Persisted is the part of a call's state saved on its channel.
type Persisted struct {
	ClientID   string
	DID        string
	Step       Step
	StartedAt  time.Time
	EnqueuedAt time.Time // zero until queued; keeps the caller's place after a restart
	// WaitFrom is when the client's max_wait counts from, when later than
	// EnqueuedAt: a VIP back from a warm transfer the client did not take
	// (acd.Call.WaitFrom).
	WaitFrom time.Time
	VIP      bool
	// set once bridged (StepConnected)
	OpID, OpChannel, Bridge string
	// Recording is the voicemail being recorded (StepVoicemail), or the
	// conversation's recording (StepConnected, in the store only).
	Recording string
	// RecordingFailed is why Asterisk could not record the conversation
	// (StepConnected, in the store only; "" when it could): a record
	// made after a restart says so, as the one made without it does.
	RecordingFailed string
	// Playback is the callback offer playing (StepCallback): a
	// re-adopting controller stops it before offering again; or the
	// message or voicemail prompt playing (StepHangup with Then): a
	// re-adopting controller waits for its end before what follows.
	Playback string
	// Result and Reason are the call's outcome once decided (StepHangup:
	// after-hours, blocked, overflow...), so a re-adopted call ends with it.
	Result, Reason string
	// BillAfterHours is the client's bill_after_hours when the call was
	// decided after hours (BillUnknown otherwise, and in states saved by
	// earlier versions): the call is billed as decided, whatever a reload
	// or the client's removal did to the configuration since.
	BillAfterHours Bill
	// Waited is how long the caller waited in line, once that is over
	// (connected, overflowed).
	Waited time.Duration
	// AnsweredAt is when the caller was answered (zero before);
	// BridgedAt when they were put through (StepConnected): talk time
	// runs from it across a restart.
	AnsweredAt, BridgedAt time.Time
	// Then is what follows the message playing at StepHangup: a
	// voicemail (ThenVoicemail + why) or a callback offer (ThenCallback);
	// "" hangs up.
	Then string
	// Prompt: the voicemail's prompt is what plays (StepHangup, Then a
	// voicemail): the recording follows it. (A binary from before it
	// reads the state as the message before the voicemail, and plays
	// the prompt again: a rollback loses nothing.)
	Prompt bool
	// VoicemailFailed: Asterisk could not record the caller's message
	// (store.CallRecord.VoicemailFailed): kept for the record a
	// controller after a restart, or a store write retried, makes.
	VoicemailFailed bool
	// VoicemailSilent: the caller's message had nothing said in it
	// (store.CallRecord.VoicemailSilent), kept so.
	VoicemailSilent bool
	// SilenceDetected: the message is recorded with silence detection
	// (maxSilenceSeconds): its end tells the talking heard.
	SilenceDetected bool
	// CallbackNumber is the number (E.164) the caller confirmed for a
	// callback (store.CallRecord.CallbackNumber).
	CallbackNumber string
	// NoticeHeard: the recording notice was played to the caller after
	// the greeting, so that it is not played again at the bridge while
	// the operator waits in silence.
	NoticeHeard bool
	// Ungreeted: a ringback caller answered when an operator answered,
	// who has heard no greeting: back in line (the operator left before
	// the bridge, or a restart came first), they are greeted.
	Ungreeted bool
}

// Bill is a decision of billing saved with a call's state.
type Bill int8

const (
	BillUnknown Bill = iota // not decided, or saved by an earlier version
	BillNo
	BillYes
)

// billOf is b as a Bill.
func billOf(b bool) Bill {
	if b {
		return BillYes
	}
	return BillNo
}

// What follows an after-hours or overflow message (Persisted.Then).
const (
	ThenVoicemail = "voicemail:"
	ThenCallback  = "callback"
	// thenRecordOld + why is what builds between addf397 and a4c7efe
	// saved while the voicemail prompt played (now ThenVoicemail with
	// Prompt): read for calls they left.
	thenRecordOld = "record:"
)

// Encode renders p as a compact query string.
func (p Persisted) Encode() string {
	return string(p.appendQuery(make([]byte, 0, 160)))
}

// appendQuery appends p's fields to the query string b (Encode); it is
// written on every step, so it builds the string in one buffer instead of
// through url.Values.
func (p Persisted) appendQuery(b []byte) []byte {
	b = appendParam(b, "c", p.ClientID)
	b = appendParam(b, "d", p.DID)
	b = appendParam(b, "s", string(p.Step))
	b = appendInt(b, "t", p.StartedAt.UnixMilli())
	if !p.EnqueuedAt.IsZero() {
		// To the nanosecond: callers queued in one millisecond (a burst
		// from the trunk) keep their order across a restart. Versions
		// before wrote "q", in milliseconds.
		b = appendInt(b, "qn", p.EnqueuedAt.UnixNano())
	}
	if p.VIP {
		b = appendParam(b, "v", "1")
	}
	if !p.WaitFrom.IsZero() {
		b = appendInt(b, "wf", p.WaitFrom.UnixMilli())
	}
	if p.Recording != "" {
		b = appendParam(b, "r", p.Recording)
	}
	if p.RecordingFailed != "" {
		b = appendParam(b, "rf", p.RecordingFailed)
	}
	if p.Playback != "" {
		b = appendParam(b, "p", p.Playback)
	}
	if p.Result != "" {
		b = appendParam(b, "x", p.Result)
		b = appendParam(b, "xr", p.Reason)
	}
	switch p.BillAfterHours {
	case BillYes:
		b = appendParam(b, "bh", "1")
	case BillNo:
		b = appendParam(b, "bh", "0")
	}
	if p.Waited > 0 {
		b = appendInt(b, "w", p.Waited.Milliseconds())
	}
	if !p.AnsweredAt.IsZero() {
		b = appendInt(b, "a", p.AnsweredAt.UnixMilli())
	}
	if !p.BridgedAt.IsZero() {
		b = appendInt(b, "ba", p.BridgedAt.UnixMilli())
	}
	if p.Then != "" {
		b = appendParam(b, "th", p.Then)
	}
	if p.Prompt {
		b = appendParam(b, "vp", "1")
	}
	if p.NoticeHeard {
		b = appendParam(b, "nh", "1")
	}
	if p.VoicemailFailed {
		b = appendParam(b, "vf", "1")
	}
	if p.VoicemailSilent {
		b = appendParam(b, "vs", "1")
	}
	if p.SilenceDetected {
		b = appendParam(b, "sd", "1")
	}
	if p.CallbackNumber != "" {
		b = appendParam(b, "cn", p.CallbackNumber)
	}
	if p.Ungreeted {
		b = appendParam(b, "ug", "1")
	}
	if p.OpID != "" {
		b = appendParam(b, "o", p.OpID)
	}
	if p.OpChannel != "" { // an operator's leg, or the client's phone (VIP transfer)
		b = appendParam(b, "oc", p.OpChannel)
		b = appendParam(b, "b", p.Bridge)
	}
	return b
}

// appendParam appends key=value to the query string b, escaped as
// url.Values.Encode escapes (keys here need none).
func appendParam(b []byte, key, value string) []byte {
	if len(b) > 0 && b[len(b)-1] != ';' { // after bridgeTag, no '&'
		b = append(b, '&')
	}
	b = append(b, key...)
	b = append(b, '=')
	return append(b, url.QueryEscape(value)...)
}

func appendInt(b []byte, key string, n int64) []byte {
	b = appendParam(b, key, "")
	return strconv.AppendInt(b, n, 10)
}

// DecodePersisted parses Encode's output.
func DecodePersisted(s string) (Persisted, error) {
	v, err := url.ParseQuery(s)
	if err != nil {
		return Persisted{}, fmt.Errorf("decode %s: %w", StateVar, err)
	}
	return persistedFrom(v)
}

// persistedFrom reads a Persisted from its parsed query.
func persistedFrom(v url.Values) (Persisted, error) {
	ms, err := strconv.ParseInt(v.Get("t"), 10, 64)
	if err != nil {
		return Persisted{}, fmt.Errorf("decode %s: start time: %w", StateVar, err)
	}
	p := Persisted{
		ClientID: v.Get("c"), DID: v.Get("d"), Step: Step(v.Get("s")), StartedAt: time.UnixMilli(ms),
		VIP: v.Get("v") == "1", OpID: v.Get("o"), OpChannel: v.Get("oc"), Bridge: v.Get("b"), Recording: v.Get("r"), RecordingFailed: v.Get("rf"), Playback: v.Get("p"),
		Result: v.Get("x"), Reason: v.Get("xr"), Then: v.Get("th"), Prompt: v.Get("vp") == "1",
		NoticeHeard: v.Get("nh") == "1", Ungreeted: v.Get("ug") == "1", VoicemailFailed: v.Get("vf") == "1",
		VoicemailSilent: v.Get("vs") == "1", SilenceDetected: v.Get("sd") == "1", CallbackNumber: v.Get("cn"),
	}
	switch v.Get("bh") {
	case "1":
		p.BillAfterHours = BillYes
	case "0":
		p.BillAfterHours = BillNo
	}
	for _, t := range []struct {
		key, what string
		dst       *time.Time
	}{{"a", "answer", &p.AnsweredAt}, {"ba", "bridge", &p.BridgedAt}, {"wf", "wait start", &p.WaitFrom}} {
		if s := v.Get(t.key); s != "" {
			ms, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return Persisted{}, fmt.Errorf("decode %s: %s time: %w", StateVar, t.what, err)
			}
			*t.dst = time.UnixMilli(ms)
		}
	}
	if w := v.Get("w"); w != "" {
		wms, err := strconv.ParseInt(w, 10, 64)
		if err != nil || wms < 0 || wms > math.MaxInt64/int64(time.Millisecond) {
			return Persisted{}, fmt.Errorf("decode %s: wait %q", StateVar, w)
		}
		p.Waited = time.Duration(wms) * time.Millisecond
	}
	if q := v.Get("qn"); q != "" {
		qns, err := strconv.ParseInt(q, 10, 64)
		if err != nil {
			return Persisted{}, fmt.Errorf("decode %s: enqueue time: %w", StateVar, err)
		}
		p.EnqueuedAt = time.Unix(0, qns)
	} else if q := v.Get("q"); q != "" {
		qms, err := strconv.ParseInt(q, 10, 64)
		if err != nil {
			return Persisted{}, fmt.Errorf("decode %s: enqueue time: %w", StateVar, err)
		}
		p.EnqueuedAt = time.UnixMilli(qms)
	}
	if p.Step == StepConnected && (p.OpChannel == "" || p.Bridge == "") {
		return Persisted{}, fmt.Errorf("decode %s: connected call without operator channel or bridge", StateVar)
	}
	switch p.Step {
	case StepNew, StepGreeting, StepQueued, StepTransfer, StepConnected, StepHangup, StepVoicemail, StepCallback:
	default:
		return Persisted{}, fmt.Errorf("decode %s: unknown step %q", StateVar, p.Step)
	}
	return p, nil
}

// bridgeTag is the start of the name of a call's bridge with its peer.
const bridgeTag = "toritsugi;"

// BridgeName names the bridge of call (its caller's number callerNumber)
// by the call's state once connected, st (StepConnected, with the peer:
// OpID, "" for the client's phone of a VIP transfer, and OpChannel). The
// bridge lives as long as the conversation: a restarted controller reads
// it back (GET /bridges) to re-adopt the call as connected, so bridging
// needs no state write of its own, and to record a call that ended while
// no controller watched. app, the Stasis application, keeps another
// toritsugi on the same Asterisk away from our bridges.
func BridgeName(app, call, callerNumber string, st Persisted) string {
	st.Result, st.Reason, st.Recording, st.RecordingFailed, st.Playback = "", "", "", "", ""
	b := append(make([]byte, 0, 256), bridgeTag...)
	b = appendParam(b, "app", app)
	b = appendParam(b, "call", call)
	if callerNumber != "" {
		b = appendParam(b, "n", callerNumber)
	}
	return string(st.appendQuery(b))
}

// bridgePeer is what a call's bridge name says.
type bridgePeer struct {
	App, Call, CallerNumber string
	State                   Persisted // StepConnected
}

// parseBridgeName reads BridgeName's output; ok is false for any other
// bridge.
func parseBridgeName(name string) (p bridgePeer, ok bool) {
	rest, found := strings.CutPrefix(name, bridgeTag)
	if !found {
		return bridgePeer{}, false
	}
	v, err := url.ParseQuery(rest)
	if err != nil || v.Get("app") == "" || v.Get("call") == "" {
		return bridgePeer{}, false
	}
	st, err := DecodePersisted(rest)
	if err != nil || st.Step != StepConnected {
		return bridgePeer{}, false
	}
	return bridgePeer{App: v.Get("app"), Call: v.Get("call"), CallerNumber: v.Get("n"), State: st}, true
}

// LiveState is a call's state as kept in the store until its record is
// stored (Recorder.SaveLive): the caller's number and Persisted, in the
// form BridgeName uses. A call that ends while no controller runs is
// recorded from it by the next one.
func LiveState(callerNumber string, st Persisted) string {
	b := make([]byte, 0, 192)
	if callerNumber != "" {
		b = appendParam(b, "n", callerNumber)
	}
	return string(st.appendQuery(b))
}

// withWatchedUntil adds to a live state the time until which its
// controller watched the call (keepUnseen).
func withWatchedUntil(state string, at time.Time) string {
	return state + "&u=" + strconv.FormatInt(at.UnixMilli(), 10)
}

// withEndedAt marks a live state as that of a call settled at at, whose
// record could not be stored: the next start records it as ended then.
func withEndedAt(state string, at time.Time) string {
	return state + "&e=" + strconv.FormatInt(at.UnixMilli(), 10)
}

// endedAt is the time withEndedAt added (zero if none, or unreadable).
func endedAt(state string) time.Time {
	v, err := url.ParseQuery(state)
	if err != nil {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(v.Get("e"), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// parseLiveState reads LiveState's output, and the time withWatchedUntil
// added (zero if none).
func parseLiveState(s string) (callerNumber string, st Persisted, watchedUntil time.Time, err error) {
	v, err := url.ParseQuery(s)
	if err != nil {
		return "", Persisted{}, time.Time{}, fmt.Errorf("decode live state: %w", err)
	}
	st, err = persistedFrom(v)
	if err != nil {
		return "", Persisted{}, time.Time{}, err
	}
	if u := v.Get("u"); u != "" {
		ms, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			return "", Persisted{}, time.Time{}, fmt.Errorf("decode live state: watched until %q: %w", u, err)
		}
		watchedUntil = time.UnixMilli(ms)
	}
	return v.Get("n"), st, watchedUntil, nil
}
