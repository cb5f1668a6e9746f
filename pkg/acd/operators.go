package acd

import (
	"maps"
	"time"
)

// operators.go: inputs about operators (config, registration, console).
// Unknown operator ids are ignored (nil actions): stale events are normal.

// ReasonSkillRemoved cancels a ring of an operator whose skills no longer
// include the ringing call's client.
const ReasonSkillRemoved = "skill-removed"

// UpsertOperator adds an operator (Offline and unreachable until told
// otherwise) or replaces the skills of an existing one, keeping its runtime
// state. A ring in progress for a client the new skills no longer include
// is cancelled (no no-answer counted) and its caller offered to the next
// operator: the operator may no longer serve that client (a confidential
// one). A call already connected goes on.
func (c *Core) UpsertOperator(o Operator, now time.Time) []Action {
	if o.ID == "" {
		return nil
	}
	op := c.ops[o.ID]
	var out []Action
	if op == nil {
		op = &opRec{id: o.ID, state: Offline, since: now, idleSince: now}
		c.ops[o.ID] = op
		c.applyPendingLeg(op, now)
		out = c.applyPendingOcc(op, now, out)
	}
	op.skills = maps.Clone(o.Skills)
	c.shares = nil
	if cl := c.calls[op.callID]; cl != nil && op.state == Ringing {
		if _, ok := tierFor(op.skills, cl.clientID); !ok {
			out = c.cancelRing(cl, op, ReasonSkillRemoved, now, out)
			out = c.setState(op, Available, ReasonSkillRemoved, now, out)
		}
	}
	raised := false
	for _, t := range op.skills {
		if t > c.maxTier {
			c.maxTier, raised = t, true
		}
	}
	if raised {
		for _, cl := range c.calls {
			if !cl.connected {
				c.armEscalation(cl, now)
			}
		}
	}
	return c.dispatch(now, out)
}

// RemoveOperator forgets an operator. A ring is cancelled and its call goes
// back to the queue; a connected call continues without the core, and if
// the operator is added again before it ends they are on it (as after
// Occupy), not rung for another caller while still talking. The wait for
// a leg of their phone (that ring's, or that of a call just ended; see
// RingLegGone) survives too: added again before it ends, they are rung
// only once the leg is gone or the same LegGoneWait has passed.
func (c *Core) RemoveOperator(id string, now time.Time) []Action {
	op := c.ops[id]
	if op == nil {
		return nil
	}
	c.shares = nil
	var out []Action
	if cl := c.calls[op.callID]; cl != nil && op.state == Ringing {
		out = c.cancelRing(cl, op, "removed", now, out)
	}
	if cl := c.calls[op.callID]; cl != nil && cl.connected && cl.opID == id {
		if c.pendingOcc == nil {
			c.pendingOcc = map[string]string{}
		}
		c.pendingOcc[id] = cl.id
	}
	switch {
	case op.legTimer != nil:
		c.keepLeg(id, legMark{ring: op.legRing, until: op.legTimer.at, stale: op.legTimer.at.Add(LegGoneWait)}, now)
	case op.legRing != 0 && op.legStale.After(now):
		c.keepLeg(id, legMark{ring: op.legRing, until: now, stale: op.legStale}, now)
	}
	c.disarm(op.wrapTimer)
	c.disarm(op.restTimer)
	c.disarm(op.legTimer)
	out = c.setState(op, Offline, "removed", now, out)
	delete(c.ops, id)
	delete(c.idle, id)
	return c.dispatch(now, out)
}

// keepLeg remembers the leg wait m of removed operator id (pendingLeg),
// forgetting those over by now.
func (c *Core) keepLeg(id string, m legMark, now time.Time) {
	if c.pendingLeg == nil {
		c.pendingLeg = map[string]legMark{}
	}
	for k, old := range c.pendingLeg {
		if !old.stale.After(now) {
			delete(c.pendingLeg, k)
		}
	}
	c.pendingLeg[id] = m
}

// applyPendingLeg gives a newly added operator the leg wait they had when
// removed, if it is not over: the tLeg timer re-armed for what is left of
// it, or, once it has passed, the mark that a ring sent soon after may
// find the leg up (overLeg).
func (c *Core) applyPendingLeg(op *opRec, now time.Time) {
	m, ok := c.pendingLeg[op.id]
	if !ok {
		return
	}
	delete(c.pendingLeg, op.id)
	switch {
	case m.until.After(now):
		op.legRing = m.ring
		op.legTimer = c.arm(m.until, tLeg, "", op.id)
	case m.stale.After(now):
		op.legRing, op.legStale = m.ring, m.stale
	}
}

// SetReachable records whether the operator's softphone is registered.
// Becoming unreachable cancels a ring in progress (without a no-answer).
func (c *Core) SetReachable(id string, reachable bool, now time.Time) []Action {
	op := c.ops[id]
	if op == nil {
		return nil
	}
	op.reachable = reachable
	var out []Action
	if cl := c.calls[op.callID]; !reachable && cl != nil && op.state == Ringing {
		out = c.cancelRing(cl, op, "unreachable", now, out)
		out = c.setState(op, Available, "unreachable", now, out)
	}
	c.refreshIdle(op)
	return c.dispatch(now, out)
}

// SetOtherCall records whether the operator's phone has a call that is not
// the queue's (they placed it themselves: a customer called back). While
// it has, the operator is not rung, as app_queue's ringinuse=no; a ring
// already in progress goes on (the phone took it). When it ends they are
// offered waiting calls again.
func (c *Core) SetOtherCall(id string, busy bool, now time.Time) []Action {
	op := c.ops[id]
	if op == nil || op.otherCall == busy {
		return nil
	}
	op.otherCall = busy
	c.refreshIdle(op)
	return c.dispatch(now, nil)
}

// SetAvailable logs the operator in or ends a pause (resetting the
// no-answer count). During wrap-up it ends the wrap-up; on a call it cancels
// a pending pause or logout.
func (c *Core) SetAvailable(id string, now time.Time) []Action {
	op := c.ops[id]
	if op == nil {
		return nil
	}
	op.hasPending = false
	var out []Action
	switch op.state {
	case Offline, Paused:
		op.noAnswers = 0
		op.idleSince = now
		out = c.setState(op, Available, "available", now, nil)
	case WrapUp:
		out = c.leaveWrapUp(op, "wrap-up-ended", now, nil)
	}
	return c.dispatch(now, out)
}

// Pause puts the operator on a break with a reason ("" becomes "paused").
// A ring in progress is cancelled; on a call the pause applies after the
// call's wrap-up; during wrap-up it applies at once.
func (c *Core) Pause(id, reason string, now time.Time) []Action {
	if reason == "" {
		reason = "paused"
	}
	return c.leave(id, Paused, reason, now)
}

// Logout takes the operator offline, with the same rules as Pause.
func (c *Core) Logout(id string, now time.Time) []Action {
	return c.leave(id, Offline, "logout", now)
}

func (c *Core) leave(id string, to State, reason string, now time.Time) []Action {
	op := c.ops[id]
	if op == nil {
		return nil
	}
	var out []Action
	switch op.state {
	case OnCall:
		op.pending, op.pendingReason, op.hasPending = to, reason, true
		return nil
	case Ringing:
		if cl := c.calls[op.callID]; cl != nil {
			out = c.cancelRing(cl, op, reason, now, out)
		}
	case WrapUp:
		c.clearWrap(op)
		op.hasPending = false
	}
	out = c.setState(op, to, reason, now, out)
	return c.dispatch(now, out)
}

// EndWrapUp ends the operator's wrap-up early.
func (c *Core) EndWrapUp(id string, now time.Time) []Action {
	op := c.ops[id]
	if op == nil || op.state != WrapUp {
		return nil
	}
	return c.dispatch(now, c.leaveWrapUp(op, "wrap-up-ended", now, nil))
}

// HoldWrapUp: the operator has call callID's message open and not saved
// (their console showed the call). When that call ends, their wrap-up goes
// on past the client's WrapUp until ReleaseWrapUp, at most WrapUpHold
// longer, so that the next call does not ring while they write. It is
// ignored unless callID is the operator's call, or the call their wrap-up
// follows, and once ReleaseWrapUp said the call's message was saved: a
// hold that comes after it was decided before (a console read the call
// unsaved, and the save landed before its hold arrived).
func (c *Core) HoldWrapUp(id, callID string, now time.Time) []Action {
	op := c.ops[id]
	if op == nil || callID == "" || op.released == callID {
		return nil
	}
	switch {
	case op.callID == callID && (op.state == Ringing || op.state == OnCall):
		op.holdCall = callID
	case op.state == WrapUp && op.wrapCall == callID && !op.held && op.unheld != callID:
		until := op.wrapUntil.Add(c.settings(op.wrapClient).WrapUpHold)
		if op.holdCall == callID && op.holdUntil.Equal(until) {
			return nil // as it was (a console reading its state again)
		}
		op.holdCall, op.holdUntil = callID, until
		return []Action{wrapChanged(op, "wrap-up-held")}
	}
	return nil
}

// ReleaseWrapUp: call callID's message is saved. A wrap-up held for it
// ends now; one still within the client's WrapUp runs to its end. When
// callID is the operator's call or the one their wrap-up follows, no
// HoldWrapUp holds it again.
func (c *Core) ReleaseWrapUp(id, callID string, now time.Time) []Action {
	op := c.ops[id]
	if op == nil || callID == "" {
		return nil
	}
	if op.callID == callID && (op.state == Ringing || op.state == OnCall) || op.state == WrapUp && op.wrapCall == callID {
		op.released = callID
	}
	if op.holdCall != callID {
		return nil
	}
	op.holdCall, op.holdUntil = "", time.Time{}
	switch {
	case op.state == WrapUp && op.held:
		return c.dispatch(now, c.leaveWrapUp(op, ReasonMessageSaved, now, nil))
	case op.state == WrapUp:
		return []Action{wrapChanged(op, "wrap-up-released")}
	}
	return nil
}

// ExtendWrapUp moves the end of the operator's wrap-up d later.
func (c *Core) ExtendWrapUp(id string, d time.Duration, now time.Time) []Action {
	op := c.ops[id]
	if op == nil || op.state != WrapUp || op.wrapTimer == nil {
		return nil
	}
	c.disarm(op.wrapTimer)
	if op.held {
		// Asked for time while held for the message: that time, from
		// now, and the hold is over (saving no longer ends it).
		op.held, op.holdCall, op.holdUntil, op.wrapUntil = false, "", time.Time{}, now
		op.unheld = op.wrapCall
	}
	op.wrapUntil = op.wrapUntil.Add(d)
	if !op.holdUntil.IsZero() {
		op.holdUntil = op.holdUntil.Add(d)
	}
	if !op.wrapUntil.After(now) {
		return c.dispatch(now, c.leaveWrapUp(op, "wrap-up-end", now, nil))
	}
	op.wrapTimer = c.arm(op.wrapUntil, tWrapUp, "", id)
	return []Action{wrapChanged(op, "wrap-up-extended")}
}

// RestoreWrapUp gives an operator back the wrap-up they were in when the
// controller stopped (w, as OperatorStateChanged.Wrap reported it last),
// unless it has ended by now; the operator must be Offline (as a fresh
// core has them) or Available. Without it a restart made them available at
// once, and the next caller rang while they were still writing the last
// one's message. It reports nothing when it gives nothing back.
func (c *Core) RestoreWrapUp(id string, w WrapUpState, now time.Time) []Action {
	op := c.ops[id]
	if op == nil || op.state != Available && op.state != Offline || w.CallID == "" || !w.End().After(now) {
		return nil
	}
	c.clearWrap(op)
	op.noAnswers, op.hasPending = 0, false
	op.wrapCall, op.wrapClient = w.CallID, w.ClientID
	op.wrapUntil = w.Until
	if w.Hold {
		op.holdCall, op.holdUntil, op.held = w.CallID, w.HoldUntil, w.Held
		if op.held {
			op.wrapUntil = op.holdUntil
		}
	}
	if w.Unheld {
		op.unheld = w.CallID
	}
	if w.Hold && op.released == w.CallID {
		// Held when w was reported: so it is again.
		op.released = ""
	}
	if w.Pause != "" {
		op.pending, op.pendingReason, op.hasPending = Paused, w.Pause, true
	}
	op.wrapTimer = c.arm(op.wrapUntil, tWrapUp, "", id)
	return c.dispatch(now, c.setState(op, WrapUp, ReasonWrapUpRestored, now, nil))
}
