package acd

import "time"

// occupy.go: calls already connected when the core learns of them.

// ReasonReadopted is the cause reported when [Core.Occupy] puts an operator
// on a call, and the reason of a ring it cancels.
const ReasonReadopted = "re-adopted"

// Occupy records a call already connected to an operator that the core
// never connected: after a controller restart the call is re-adopted while
// caller and operator keep talking. The operator goes OnCall with that call
// and is not rung until [Core.CallEnded] (or [Core.Abandon]) for callID,
// which sends them to the client's wrap-up as usual.
//
// The state the operator had decides what follows the call: a Paused
// operator returns to the same pause after it (unless a pause or logout is
// already pending); Offline, the state of an operator the fresh core knows
// nothing about, is taken as "working": they become Available after the
// wrap-up. A ring of another call is cancelled (reason "re-adopted", no
// no-answer counted) and that call is offered to other operators. A
// wrap-up in progress ends.
//
// If the operator is not known yet (operators may be installed after the
// calls are re-adopted), the occupation is remembered and applied when
// [Core.UpsertOperator] adds them. If callID was still queued, it leaves the
// queue (its rings are cancelled). Occupy is idempotent; a call already
// connected, or an operator already on another call, is left as it is.
func (c *Core) Occupy(callID, clientID, opID string, now time.Time) []Action {
	if callID == "" || opID == "" {
		return nil
	}
	cl := c.calls[callID]
	if cl != nil && cl.connected {
		return nil
	}
	op := c.ops[opID]
	if op != nil && op.state == OnCall {
		return nil
	}
	if op == nil {
		if prev := c.calls[c.pendingOcc[opID]]; prev != nil && prev.connected && prev.opID == opID {
			return nil
		}
	}
	var out []Action
	if cl != nil {
		out = c.dropCall(cl, ReasonReadopted, now, out)
	}
	cl = &callRec{id: callID, clientID: clientID, opID: opID, connected: true, enqueuedAt: now}
	c.calls[callID] = cl
	if op == nil {
		if c.pendingOcc == nil {
			c.pendingOcc = map[string]string{}
		}
		c.pendingOcc[opID] = callID
		return c.dispatch(now, out)
	}
	out = c.occupy(cl, op, now, out)
	return c.dispatch(now, out)
}

// occupy puts op on the connected call cl (see Occupy).
func (c *Core) occupy(cl *callRec, op *opRec, now time.Time, out []Action) []Action {
	switch op.state {
	case Ringing:
		if rung := c.calls[op.callID]; rung != nil {
			out = c.cancelRing(rung, op, ReasonReadopted, now, out)
		}
	case WrapUp:
		c.clearWrap(op)
	case Paused:
		if !op.hasPending {
			op.pending, op.pendingReason, op.hasPending = Paused, op.reason, true
		}
	}
	op.callID = cl.id
	if cl.connRing != 0 {
		// A call the core connected, the operator put back on it after
		// a reload removed and added them: its ring is theirs again, so
		// that its end waits for the leg they answered (callEnded) and
		// a repeated answer of it is no stray.
		op.ring = cl.connRing
	}
	return c.setState(op, OnCall, ReasonReadopted, now, out)
}

// applyPendingOcc puts a newly added operator on the call remembered for
// them by Occupy, if it still goes on.
func (c *Core) applyPendingOcc(op *opRec, now time.Time, out []Action) []Action {
	callID, ok := c.pendingOcc[op.id]
	if !ok {
		return out
	}
	delete(c.pendingOcc, op.id)
	if cl := c.calls[callID]; cl != nil && cl.connected && cl.opID == op.id {
		return c.occupy(cl, op, now, out)
	}
	return out
}
