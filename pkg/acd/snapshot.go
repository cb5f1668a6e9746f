package acd

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Snapshot is a copy of the routing state for wallboards and the console.
type Snapshot struct {
	At        time.Time
	Operators []OperatorView // sorted by id
	Clients   []ClientView   // clients with waiting calls, sorted by id
}

// OperatorView is one operator in a Snapshot.
type OperatorView struct {
	ID          string
	State       State
	Since       time.Time // when State was entered
	PauseReason string    // reason when Paused or Offline
	Reachable   bool
	// OtherCall: the phone has a call that is not the queue's.
	OtherCall bool
	CallID    string // ringing or connected call
	// CallClientID is CallID's client.
	CallClientID string
	IdleSince    time.Time // longest-idle key
	WrapUpUntil  time.Time // when WrapUp
	// WrapUpHeld: in WrapUp past the client's WrapUp, until the message is
	// saved (HoldWrapUp) or WrapUpUntil.
	WrapUpHeld bool
	// PendingPause: on a call, the reason of the pause (or "logout") that
	// applies after the call's wrap-up (Pause, Logout); "" when none.
	PendingPause string
	NoAnswers    int // consecutive failed rings
	Skills       map[string]int
}

// ClientView is one client's queue in a Snapshot.
type ClientView struct {
	ClientID     string
	ExpectedWait time.Duration
	Waiting      []WaitingCall // in queue order, Position 1..n
}

// WaitingCall is a call not yet connected (waiting or ringing).
type WaitingCall struct {
	CallID     string
	Position   int
	VIP        bool
	EnqueuedAt time.Time
	Waited     time.Duration
	RingingOps []string
}

// Snapshot copies the state. It costs O(operators + waiting calls); call it
// for wallboards, not per event.
func (c *Core) Snapshot(now time.Time) Snapshot {
	s := Snapshot{At: now}
	for _, op := range c.ops {
		s.Operators = append(s.Operators, c.viewOf(op))
	}
	slices.SortFunc(s.Operators, func(a, b OperatorView) int { return cmp.Compare(a.ID, b.ID) })
	for id, q := range c.queues {
		if q.tree.len() == 0 {
			continue
		}
		cv := ClientView{ClientID: id, ExpectedWait: q.expectedWait()}
		q.tree.each(func(cl *callRec) bool {
			cv.Waiting = append(cv.Waiting, WaitingCall{
				CallID: cl.id, Position: len(cv.Waiting) + 1, VIP: cl.vip,
				EnqueuedAt: cl.enqueuedAt, Waited: now.Sub(cl.enqueuedAt),
				RingingOps: slices.Clone(cl.ringing),
			})
			return true
		})
		s.Clients = append(s.Clients, cv)
	}
	slices.SortFunc(s.Clients, func(a, b ClientView) int { return cmp.Compare(a.ClientID, b.ClientID) })
	return s
}

// LookupOperator returns one operator's view, if known.
func (c *Core) LookupOperator(id string) (OperatorView, bool) {
	op := c.ops[id]
	if op == nil {
		return OperatorView{}, false
	}
	return c.viewOf(op), true
}

func (c *Core) viewOf(op *opRec) OperatorView {
	v := OperatorView{
		ID: op.id, State: op.state, Since: op.since, PauseReason: op.reason,
		Reachable: op.reachable, OtherCall: op.otherCall, CallID: op.callID, IdleSince: op.idleSince,
		WrapUpUntil: op.wrapUntil, WrapUpHeld: op.held, NoAnswers: op.noAnswers, Skills: maps.Clone(op.skills),
		PendingPause: pendingPause(op),
	}
	if cl := c.calls[op.callID]; cl != nil && op.callID != "" {
		v.CallClientID = cl.clientID
	}
	return v
}

// pendingPause is the reason of the pause op asked for on a call, "" when
// none.
func pendingPause(op *opRec) string {
	if !op.hasPending {
		return ""
	}
	return op.pendingReason
}
