package acd

import (
	"fmt"
	"time"
)

// Action is a decision of the core for its owner to execute. The set is
// sealed: Ring, CancelRing, Connect, Overflow, Announce and
// OperatorStateChanged.
type Action interface {
	fmt.Stringer
	isAction()
}

// Ring asks to ring operator OpID for call CallID (originate the operator
// leg). The core fires its own ring timeout after Timeout and then emits
// CancelRing; the owner may also report [Core.RingFailed] earlier. Seq
// identifies this ring among every ring of the core: the owner reports
// answers and failures with it, and CancelRing and Connect name it, so a
// report about an earlier ring of the same call and operator (an answer
// racing the ring timeout, then a new ring to the same phone) can never be
// taken for the current one.
type Ring struct {
	CallID, OpID string
	Seq          uint64
	Timeout      time.Duration
}

// CancelRing asks to stop ringing OpID for CallID (hang up the operator
// leg): ring timeout, another operator answered a ring-all, the caller left,
// the operator paused or became unreachable, or an answer arrived for a ring
// the core no longer wants (Reason "stale"). The operator is not rung again
// until the owner reports the leg's end ([Core.RingLegGone]) or
// [LegGoneWait] has passed.
type CancelRing struct {
	CallID, OpID string
	Seq          uint64 // the ring to stop
	Reason       string
}

// Connect tells that OpID answered CallID's ring Seq: bridge caller and
// operator.
type Connect struct {
	CallID, OpID string
	Seq          uint64
}

// Overflow tells that CallID left the queue without an operator (Reason
// "max-wait"); the owner plays the client's overflow treatment. The core
// forgets the call.
type Overflow struct {
	CallID string
	Reason string
}

// Announce asks to tell a waiting caller their position (1 = next) and the
// expected wait (zero = unknown).
type Announce struct {
	CallID       string
	Position     int
	ExpectedWait time.Duration
}

// OperatorStateChanged reports a transition, for the console and the store.
// Reason is the pause reason when To is Paused, otherwise a short cause.
// From and To are both WrapUp when a wrap-up goes on past its time for an
// unsaved message (ReasonMessageUnsaved).
//
// Wrap, set when To is WrapUp, is the wrap-up as it stands: From and To
// are also both WrapUp when it changes (held for an unsaved message, the
// hold released, more time asked for), so that it can be stored and
// given back after a restart (Core.RestoreWrapUp).
type OperatorStateChanged struct {
	OpID     string
	From, To State
	Reason   string
	Wrap     *WrapUpState
}

// WrapUpState is an operator's wrap-up, as kept across a restart.
type WrapUpState struct {
	// CallID is the call the wrap-up follows, of client ClientID.
	CallID, ClientID string
	// Until is when it ends, unless the message keeps it (Hold).
	Until time.Time
	// Hold: the call's message is not saved (HoldWrapUp); the wrap-up
	// goes on until it is, or until HoldUntil. Held: Until has passed
	// and only the message keeps it.
	Hold, Held bool
	HoldUntil  time.Time
	// Unheld: the operator gave up the hold by asking for more time; the
	// console showing the call again does not hold them anew.
	Unheld bool
	// Pause is the reason of a pause asked for on the call, entered when
	// the wrap-up ends ("" none).
	Pause string
}

// End is the latest the wrap-up can last.
func (w WrapUpState) End() time.Time {
	if w.Hold && w.HoldUntil.After(w.Until) {
		return w.HoldUntil
	}
	return w.Until
}

func (Ring) isAction()                 {}
func (CancelRing) isAction()           {}
func (Connect) isAction()              {}
func (Overflow) isAction()             {}
func (Announce) isAction()             {}
func (OperatorStateChanged) isAction() {}

// String renders the action compactly, for logs and tests.
func (a Ring) String() string { return fmt.Sprintf("ring %s %s %s", a.CallID, a.OpID, a.Timeout) }

// String renders the action compactly, for logs and tests.
func (a CancelRing) String() string {
	return fmt.Sprintf("cancel %s %s %s", a.CallID, a.OpID, a.Reason)
}

// String renders the action compactly, for logs and tests.
func (a Connect) String() string { return fmt.Sprintf("connect %s %s", a.CallID, a.OpID) }

// String renders the action compactly, for logs and tests.
func (a Overflow) String() string { return fmt.Sprintf("overflow %s %s", a.CallID, a.Reason) }

// String renders the action compactly, for logs and tests.
func (a Announce) String() string {
	return fmt.Sprintf("announce %s %d %s", a.CallID, a.Position, a.ExpectedWait)
}

// String renders the action compactly, for logs and tests.
func (a OperatorStateChanged) String() string {
	return fmt.Sprintf("op %s %s>%s %s", a.OpID, a.From, a.To, a.Reason)
}
