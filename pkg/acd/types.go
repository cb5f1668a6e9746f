package acd

import (
	"errors"
	"fmt"
	"time"
)

// State is an operator's routing state.
type State uint8

// Operator states.
const (
	// Offline: logged out, never rung.
	Offline State = iota
	// Available: idle and ready to be rung (if reachable).
	Available
	// Ringing: one call (or a ring-all group) is ringing this operator.
	Ringing
	// OnCall: bridged with a caller.
	OnCall
	// WrapUp: finishing the intake after a call; not rung until it ends.
	WrapUp
	// Paused: on a break (with a reason); never rung.
	Paused
)

var stateNames = [...]string{"offline", "available", "ringing", "on-call", "wrap-up", "paused"}

// String returns the lower-case name used in logs and JSON.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, fmt.Errorf("acd: marshal %v: %w", s, ErrUnknownState)
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	st, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// ParseState is the inverse of [State.String].
func ParseState(name string) (State, error) {
	for i, n := range stateNames {
		if n == name {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("acd: parse state %q: %w", name, ErrUnknownState)
}

// ErrUnknownState is returned when a state name or value is not known.
var ErrUnknownState = errors.New("unknown operator state")

// Strategy selects operators among the eligible idle ones.
type Strategy string

// Strategies. The zero value means LongestIdle.
const (
	LongestIdle Strategy = "longest-idle"
	RoundRobin  Strategy = "round-robin"
	RingAll     Strategy = "ring-all"
)

// RingFailure says why ringing an operator failed.
type RingFailure uint8

// Ring failures.
const (
	// NoAnswer: the operator did not pick up (the actor's own timeout).
	NoAnswer RingFailure = iota
	// Busy: the softphone declined or was busy. The operator is not rung
	// again for BusyRest.
	Busy
	// Unreachable: the channel could not be created (not registered,
	// allocation failed). The operator is marked unreachable.
	Unreachable
	// NotRung: the ring never reached Asterisk (the request could not be
	// sent); the operator's phone did not ring, so it is no no-answer. The
	// operator is not rung again for NotRungRest.
	NotRung
)

// NotRungRest is how long an operator whose ring never reached Asterisk
// rests before being rung again.
const NotRungRest = time.Second

// BusyRest is how long an operator whose phone refused a ring (busy,
// declined) rests before being rung again, for any caller: app_queue's
// retry default, and long enough that a phone on do-not-disturb is not
// rung in a loop while callers wait.
const BusyRest = 5 * time.Second

// LegGoneWait bounds how long an operator whose ring the core gave up
// (timed out, answered elsewhere, the caller gone, the operator paused),
// whose connected call ended, or who has a leg the core did not ring
// being hung up ([Core.AwaitLeg]) waits for that leg's end
// ([Core.RingLegGone]) before being rung again, should the report be
// lost.
const LegGoneWait = 2 * time.Second

// ForeignLeg is set in the numbers that name legs the core did not ring
// ([Core.AwaitLeg]); the core's own ring numbers ([Ring].Seq) count up
// from 1 and never reach it.
const ForeignLeg uint64 = 1 << 63

var failureNames = [...]string{"no-answer", "busy", "unreachable", "not-rung"}

// String returns the lower-case name of the failure.
func (f RingFailure) String() string {
	if int(f) < len(failureNames) {
		return failureNames[f]
	}
	return fmt.Sprintf("failure(%d)", uint8(f))
}

// Reasons used in actions.
const (
	ReasonNoAnswer = "no-answer" // auto-pause reason and failed ring
	ReasonMaxWait  = "max-wait"  // Overflow reason
	// ReasonQueueFull: Overflow of a new caller at the client's
	// MaxCallers.
	ReasonQueueFull = "queue-full"
	// ReasonMessageSaved ends a wrap-up held for an unsaved message;
	// ReasonMessageUnsaved says that it goes on past its time for one
	// (OperatorStateChanged from WrapUp to WrapUp, so that the console
	// shows it) or starts for one without wrap-up time.
	ReasonMessageSaved   = "message-saved"
	ReasonMessageUnsaved = "message-unsaved"
	// ReasonWrapUpRestored: a wrap-up given back after a restart
	// (Core.RestoreWrapUp).
	ReasonWrapUpRestored = "wrap-up-restored"
)

// WildcardClient in an operator's skills means "every client".
const WildcardClient = "*"

// Operator is the configured part of an operator.
type Operator struct {
	// ID is unique and stable (e.g. the PJSIP endpoint name).
	ID string
	// Skills maps a client id (or [WildcardClient]) to the operator's tier
	// for it: 1 = primary, 2 = backup, ... A tier below 1 counts as 1. A
	// specific client entry overrides the wildcard.
	Skills map[string]int
}

// tierFor returns the operator's tier for a client.
func tierFor(skills map[string]int, clientID string) (int, bool) {
	t, ok := skills[clientID]
	if !ok {
		t, ok = skills[WildcardClient]
	}
	if !ok {
		return 0, false
	}
	return max(t, 1), true
}

// Call is a caller to be queued.
type Call struct {
	ID       string
	ClientID string
	// EnqueuedAt is when the caller started waiting; re-adopted calls pass
	// their original time to keep their place. Zero means now.
	EnqueuedAt time.Time
	// WaitFrom, when set, is when the client's max_wait starts counting,
	// if later than EnqueuedAt: a VIP back from a warm transfer the client
	// did not take keeps their place, and gets the operators' whole
	// max_wait (the transfer's ringing is not waiting for an operator).
	WaitFrom time.Time
	// VIP calls are served before all non-VIP calls.
	VIP bool
	// New: the caller joins the line for the first time (not re-adopted
	// after a restart, nor back from a transfer or an operator lost
	// before the bridge): a full line (MaxCallers) turns them away.
	New bool
}

// ClientSettings are the per-client routing settings. Zero values pick the
// documented defaults, so ClientSettings{} is usable.
type ClientSettings struct {
	// Strategy defaults to LongestIdle.
	Strategy Strategy
	// RingTimeout per ring attempt; zero means DefaultRingTimeout.
	RingTimeout time.Duration
	// MaxWait from the enqueue time, then Overflow; zero means no limit.
	MaxWait time.Duration
	// MaxCallers waiting (or ringing) for the client at most: a new
	// non-VIP caller beyond it overflows at once (ReasonQueueFull), as
	// app_queue's maxlen; zero means no limit.
	MaxCallers int
	// WrapUp after a call; zero means straight back to available.
	WrapUp time.Duration
	// WrapUpHold is the longest an operator's wrap-up goes on past WrapUp
	// while the message of their call is not saved (HoldWrapUp, until
	// ReleaseWrapUp); zero: wrap-up is never held.
	WrapUpHold time.Duration
	// AutoPauseAfter consecutive failed rings pause the operator with
	// reason "no-answer"; zero disables auto-pause.
	AutoPauseAfter int
	// EscalateAfter: tier t is eligible after (t-1)×EscalateAfter of
	// waiting, or at once when no operator of the client in a lower tier
	// is present (logged in, not paused, reachable; busy ones count);
	// zero makes every tier eligible at once (lower tiers are still
	// preferred).
	EscalateAfter time.Duration
	// AnnouncePeriod between position / expected-wait announcements, the
	// first one a period after Enqueue; skipped while the call is ringing
	// an operator. Zero disables them.
	AnnouncePeriod time.Duration
}

// DefaultRingTimeout applies when ClientSettings.RingTimeout is zero.
const DefaultRingTimeout = 15 * time.Second

func (s ClientSettings) ringTimeout() time.Duration {
	if s.RingTimeout <= 0 {
		return DefaultRingTimeout
	}
	return s.RingTimeout
}

func (s ClientSettings) strategy() Strategy {
	switch s.Strategy {
	case RoundRobin, RingAll:
		return s.Strategy
	default:
		return LongestIdle
	}
}
