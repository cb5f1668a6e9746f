package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"
)

// Result is the typed outcome of a call.
type Result string

// The results a call can end with.
const (
	// ResultAnswered: an operator answered and handled the call.
	ResultAnswered Result = "answered"
	// ResultAbandoned: the caller hung up while waiting (不在着信).
	ResultAbandoned Result = "abandoned"
	// ResultAfterHours: the client was closed; the after-hours treatment ran.
	ResultAfterHours Result = "after-hours"
	// ResultBlocked: a caller rule refused the call (sales calls and the like).
	ResultBlocked Result = "blocked"
	// ResultOverflow: no operator in time; the overflow treatment ran.
	ResultOverflow Result = "overflow"
	// ResultTransferred: transferred live to the client.
	ResultTransferred Result = "transferred"
	// ResultVoicemail: the caller left a message.
	ResultVoicemail Result = "voicemail"
	// ResultFailed: the service failed to handle the call.
	ResultFailed Result = "failed"
	// ResultUnknownDID: the dialled number belongs to no client.
	ResultUnknownDID Result = "unknown-did"
	// ResultCompleted: the greeting was played and the call hung up.
	ResultCompleted Result = "completed"
)

// The reasons of an overflow whose caller asked to be called back: the
// request stored (the operators' to call back), or not (the client is told).
const (
	ReasonCallbackRequested = "overflow: callback requested"
	ReasonCallbackNotStored = "overflow: callback requested, not stored"
)

// results lists every valid Result, in a stable order for reports.
var results = []Result{
	ResultAnswered, ResultAbandoned, ResultAfterHours, ResultBlocked, ResultOverflow,
	ResultTransferred, ResultVoicemail, ResultFailed, ResultUnknownDID, ResultCompleted,
}

// Results returns every valid Result, in a stable order for reports.
func Results() []Result { return slices.Clone(results) }

// Valid reports whether r is one of the defined results.
func (r Result) Valid() bool {
	for _, v := range results {
		if r == v {
			return true
		}
	}
	return false
}

// CallEvent is one entry of a call's short timeline.
type CallEvent struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// CallRecord is the durable record of one inbound call.
type CallRecord struct {
	// ID is the controller's call id (the inbound channel id).
	ID         string `json:"id"`
	ClientID   string `json:"client_id,omitempty"`
	DID        string `json:"did,omitempty"`
	CallerID   string `json:"caller_id,omitempty"`
	CallerKind string `json:"caller_kind,omitempty"`
	Result     Result `json:"result"`
	Reason     string `json:"reason,omitempty"`
	// Billable says whether the call counts toward the client's monthly
	// fee: what the client's rules made of it, unless an operator gave the
	// call a Class (ClassifyCall), which makes it not billable.
	Billable bool `json:"billable"`
	// Class is the operator's classification of a call that needs no
	// message (ClassSales, ClassWrongNumber, ClassSilent), or "".
	Class string `json:"class,omitempty"`
	// StartedAt is required; it places the call in ListCalls and in a month.
	StartedAt  time.Time `json:"started_at"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	// BridgedAt is when the caller was put through to the operator (or
	// the client's phone): talk time runs from it, the greeting and the
	// wait excluded.
	BridgedAt  time.Time `json:"bridged_at,omitzero"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	WaitMS     int64     `json:"wait_ms,omitempty"`
	OperatorID string    `json:"operator_id,omitempty"`
	// Recording is the name of the Asterisk stored recording of the call.
	Recording string `json:"recording,omitempty"`
	// VoicemailFailed: the caller was asked for a message, and Asterisk
	// could not record it (RecordingFailed: a full disk), refused the
	// request to record it, or never recorded one it may have started
	// (the request timed out); what they said is lost, and the client is
	// told of the call (a missed call).
	VoicemailFailed bool `json:"voicemail_failed,omitempty"`
	// VoicemailSilent: the caller was asked for a message, and Asterisk
	// heard (almost) nothing said in what it recorded (Recording): not a
	// voicemail (the result is the overflow's or after-hours'), and the
	// client is told of the call with the recording, as such.
	VoicemailSilent bool `json:"voicemail_silent,omitempty"`
	// CallbackNumber is the number (E.164) a caller confirmed for a
	// callback request: their caller ID, or one they keyed.
	CallbackNumber string      `json:"callback_number,omitempty"`
	Events         []CallEvent `json:"events,omitempty"`
}

// InJapan is r with its times in Japan time (+09:00, as the CSV export
// and the webhooks have them), whatever the machine's zone: a record keeps
// the offset of the zone it was made in.
func (r CallRecord) InJapan() CallRecord {
	r.StartedAt, r.AnsweredAt, r.BridgedAt, r.EndedAt = japan.In(r.StartedAt), japan.In(r.AnsweredAt), japan.In(r.BridgedAt), japan.In(r.EndedAt)
	if r.Events != nil {
		evs := make([]CallEvent, len(r.Events))
		for i, e := range r.Events {
			evs[i] = CallEvent{At: japan.In(e.At), What: e.What}
		}
		r.Events = evs
	}
	return r
}

// Bounds of time.Time.UnixNano: StartedAt must lie inside them to be keyed.
var (
	minStart = time.Unix(0, -1<<63)
	maxStart = time.Unix(0, 1<<63-1)
)

// validate checks what the store relies on for its keys and counters.
func (r CallRecord) validate() error {
	switch {
	case r.ID == "":
		return fmt.Errorf("%w: empty call id", ErrInvalidRecord)
	case strings.IndexByte(r.ClientID, 0) >= 0:
		return fmt.Errorf("%w: call %q: client id contains NUL", ErrInvalidRecord, r.ID)
	case !r.Result.Valid():
		return fmt.Errorf("%w: call %q: unknown result %q", ErrInvalidRecord, r.ID, r.Result)
	case r.StartedAt.IsZero():
		return fmt.Errorf("%w: call %q: zero StartedAt", ErrInvalidRecord, r.ID)
	case r.StartedAt.Before(minStart) || r.StartedAt.After(maxStart):
		return fmt.Errorf("%w: call %q: StartedAt %v out of range", ErrInvalidRecord, r.ID, r.StartedAt)
	}
	return nil
}
