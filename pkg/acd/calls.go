package acd

import "time"

// calls.go: inputs about calls (queue, ring outcomes, hang-ups). Unknown
// call ids are ignored, except a stray answer, which is cancelled.

// Enqueue queues a call. A call already known is ignored (re-adoption is
// idempotent). If the maximum wait already elapsed since EnqueuedAt (or
// the later WaitFrom) the call overflows at once.
func (c *Core) Enqueue(call Call, now time.Time) []Action {
	if call.ID == "" || c.calls[call.ID] != nil {
		return nil
	}
	at := call.EnqueuedAt
	if at.IsZero() {
		at = now
	}
	st := c.settings(call.ClientID)
	waitFrom := at
	if call.WaitFrom.After(at) {
		waitFrom = call.WaitFrom
	}
	if st.MaxWait > 0 && !waitFrom.Add(st.MaxWait).After(now) {
		return []Action{Overflow{CallID: call.ID, Reason: ReasonMaxWait}}
	}
	if call.New && !call.VIP && st.MaxCallers > 0 && c.queue(call.ClientID).tree.len() >= st.MaxCallers {
		return []Action{Overflow{CallID: call.ID, Reason: ReasonQueueFull}}
	}
	c.seq++
	group := uint8(1)
	if call.VIP {
		group = 0
	}
	cl := &callRec{
		id: call.ID, clientID: call.ClientID, enqueuedAt: at, waitFrom: waitFrom, vip: call.VIP,
		key: qkey{group: group, at: at.UnixNano(), seq: c.seq},
	}
	c.calls[cl.id] = cl
	c.queue(cl.clientID).tree.insert(cl)
	if st.MaxWait > 0 {
		cl.maxWaitTimer = c.arm(waitFrom.Add(st.MaxWait), tMaxWait, cl.id, "")
	}
	if st.AnnouncePeriod > 0 {
		cl.annTimer = c.arm(now.Add(st.AnnouncePeriod), tAnnounce, cl.id, "")
	}
	c.armEscalation(cl, now)
	return c.dispatch(now, nil)
}

// Abandon removes a call whose caller hung up while waiting or ringing; its
// rings are cancelled and the operators freed (no no-answer counted). A
// call connected meanwhile (its caller left as the operator answered,
// before the call heard of the connect) was never put through: it is the
// same as CallEndedBeforeTalk, with no wrap-up.
func (c *Core) Abandon(callID string, now time.Time) []Action {
	cl := c.calls[callID]
	if cl == nil {
		return nil
	}
	if cl.connected {
		return c.CallEndedBeforeTalk(callID, now)
	}
	return c.dispatch(now, c.dropCall(cl, "abandoned", now, nil))
}

// RingAnswered connects the call to the operator who picked up ring seq
// and cancels the other rings of a ring-all. An answer for a ring the core
// no longer holds returns CancelRing{Reason: "stale"} so the stray leg is
// hung up.
func (c *Core) RingAnswered(callID, opID string, seq uint64, now time.Time) []Action {
	cl, op := c.calls[callID], c.ops[opID]
	if cl == nil || op == nil || op.callID != callID || op.state != Ringing || op.ring != seq {
		if cl != nil && cl.connected && cl.opID == opID && op != nil && op.ring == seq {
			return nil // duplicate answer
		}
		if op != nil && seq != 0 && op.ring == seq && op.state != Ringing && op.state != OnCall {
			// The operator picked up the ring the core gave up: not rung
			// again until that leg is hung up.
			c.awaitLeg(op, seq, now)
			c.refreshIdle(op)
		}
		return []Action{CancelRing{CallID: callID, OpID: opID, Seq: seq, Reason: "stale"}}
	}
	c.release(cl, op)
	op.callID = callID
	op.noAnswers = 0
	cl.opID, cl.connected, cl.connRing = opID, true, seq
	q := c.queue(cl.clientID)
	q.tree.remove(cl.key)
	q.addWait(now.Sub(cl.enqueuedAt))
	c.stopCallTimers(cl)
	out := c.setState(op, OnCall, "answered", now, nil)
	out = append(out, Connect{CallID: callID, OpID: opID, Seq: seq})
	out = c.cancelRings(cl, "answered-elsewhere", now, out)
	return c.dispatch(now, out)
}

// RingFailed reports that ring seq of opID for callID failed before the
// core's own timeout. Stale reports (of an earlier ring) are ignored.
func (c *Core) RingFailed(callID, opID string, seq uint64, why RingFailure, now time.Time) []Action {
	cl, op := c.calls[callID], c.ops[opID]
	if cl == nil || op == nil || op.callID != callID || op.state != Ringing || op.ring != seq {
		return nil
	}
	return c.dispatch(now, c.ringFailed(cl, op, why, now, nil))
}

// RingLegGone reports that the leg of ring seq of opID for callID has
// left Asterisk (its StasisEnd or ChannelDestroyed). An operator whose
// ring the core gave up (CancelRing), whose connected call ended, or
// who was told of a leg by [Core.AwaitLeg] is rung again only after it,
// or after LegGoneWait: a new ring's originate must not reach the phone
// while the old leg's hang-up is on its way. Reports of other legs are
// ignored.
func (c *Core) RingLegGone(callID, opID string, seq uint64, now time.Time) []Action {
	op := c.ops[opID]
	if op == nil && seq != 0 && c.pendingLeg[opID].ring == seq {
		delete(c.pendingLeg, opID) // removed meanwhile: nothing to wait for if added again
		return nil
	}
	if op == nil || seq == 0 || op.legRing != seq {
		return nil
	}
	c.legGone(op)
	return c.dispatch(now, nil)
}

// AwaitLeg reports that a leg of operator opID's phone that the core did
// not ring, or no longer knows (one found ringing or in the whisper after
// a restart, or the leg of a call re-adopted connected), is being hung
// up: the operator is not rung until [Core.RingLegGone] reports leg seq
// gone, or [LegGoneWait] has passed, as after a ring the core gave up.
// seq names the leg; the caller picks it with [ForeignLeg] set, so that
// it is never one of the core's own ring numbers. An operator ringing
// already keeps that ring (its originate has met the phone as it is);
// an unknown operator, or seq 0, is ignored.
func (c *Core) AwaitLeg(opID string, seq uint64, now time.Time) []Action {
	op := c.ops[opID]
	if op == nil || seq == 0 || op.state == Ringing {
		return nil
	}
	c.awaitLeg(op, seq, now)
	c.refreshIdle(op)
	return nil
}

// CallEnded reports that a connected call finished: the operator enters
// the client's wrap-up (or is free at once without one). For a call still
// queued it is the same as Abandon. The operator is rung again only once
// the leg they answered is reported gone ([Core.RingLegGone] with its
// ring) or [LegGoneWait] has passed, even with a wrap-up shorter than
// that: a caller who leaves first ends the call before toritsugi hangs
// that leg up.
func (c *Core) CallEnded(callID string, now time.Time) []Action {
	return c.callEnded(callID, true, now)
}

// CallEndedBeforeTalk reports that a connected call finished before its
// caller and operator were put through (the caller hung up during the
// whisper): the operator has nothing to wrap up and is free at once, but
// is rung again only once the leg they answered is reported gone
// ([Core.RingLegGone] with its ring) or [LegGoneWait] has passed.
func (c *Core) CallEndedBeforeTalk(callID string, now time.Time) []Action {
	return c.callEnded(callID, false, now)
}

func (c *Core) callEnded(callID string, talked bool, now time.Time) []Action {
	cl := c.calls[callID]
	if cl == nil {
		return nil
	}
	if !cl.connected {
		return c.dispatch(now, c.dropCall(cl, "abandoned", now, nil))
	}
	delete(c.calls, callID)
	if c.pendingOcc[cl.opID] == callID {
		delete(c.pendingOcc, cl.opID)
	}
	op := c.ops[cl.opID]
	if op == nil && cl.connRing != 0 {
		// The operator was removed meanwhile: if added again soon,
		// they wait for the leg they answered as below.
		until := now.Add(LegGoneWait)
		c.keepLeg(cl.opID, legMark{ring: cl.connRing, until: until, stale: until.Add(LegGoneWait)}, now)
	}
	if op == nil || op.callID != callID {
		return nil // operator removed meanwhile
	}
	op.callID = ""
	var out []Action
	st := c.settings(cl.clientID)
	hold := op.holdCall == callID && st.WrapUpHold > 0
	reason := "call-ended"
	if cl.connRing != 0 && cl.connRing == op.ring {
		// The leg they answered may still be up: when the caller leaves
		// first, its hang-up follows this report. Not rung again until
		// that leg is gone (or LegGoneWait), as after a ring given up,
		// whether they are free at once (no wrap-up, or the caller left
		// during the whisper) or after a wrap-up shorter than the
		// hang-up. (The call reports a leg that ended first at once.)
		c.awaitLeg(op, op.ring, now)
	}
	if !talked {
		// Freed at once: nothing to wrap up.
		return c.dispatch(now, c.leaveWrapUp(op, "call-ended-before-talk", now, nil))
	}
	if st.WrapUp > 0 || hold {
		c.disarm(op.wrapTimer)
		op.wrapCall, op.wrapClient = callID, cl.clientID
		op.wrapUntil, op.holdUntil, op.held = now.Add(st.WrapUp), time.Time{}, false
		if !hold {
			op.holdCall = ""
		} else {
			op.holdUntil = op.wrapUntil.Add(st.WrapUpHold)
			if st.WrapUp <= 0 {
				op.held, op.wrapUntil = true, op.holdUntil
				reason = ReasonMessageUnsaved
			}
		}
		op.wrapTimer = c.arm(op.wrapUntil, tWrapUp, "", op.id)
		out = c.setState(op, WrapUp, reason, now, nil)
	} else {
		out = c.leaveWrapUp(op, "call-ended", now, nil)
	}
	return c.dispatch(now, out)
}

// SettingsChanged re-arms the timers of the waiting calls from their
// clients' current settings (call it after a configuration reload): a
// maximum wait, announcement period or escalation set, changed or removed
// applies to callers already waiting, as it does to new ones. A call whose
// new maximum wait has already passed overflows at the next Tick; a
// caller's next announcement comes no later than one new period from now.
// The calls of a client that configured reports gone (removed by the
// reload) keep the timers they had: they have no settings to take, and
// their maximum wait still ends their wait.
func (c *Core) SettingsChanged(now time.Time, configured func(clientID string) bool) []Action {
	for _, cl := range c.calls {
		if cl.connected || configured != nil && !configured(cl.clientID) {
			continue
		}
		st := c.settings(cl.clientID)
		c.disarm(cl.maxWaitTimer)
		cl.maxWaitTimer = nil
		if st.MaxWait > 0 {
			cl.maxWaitTimer = c.arm(maxTime(cl.waitFrom.Add(st.MaxWait), now), tMaxWait, cl.id, "")
		}
		next := now.Add(st.AnnouncePeriod)
		if cl.annTimer != nil && cl.annTimer.at.Before(next) {
			next = cl.annTimer.at
		}
		c.disarm(cl.annTimer)
		cl.annTimer = nil
		if st.AnnouncePeriod > 0 {
			cl.annTimer = c.arm(next, tAnnounce, cl.id, "")
		}
		c.armEscalation(cl, now)
	}
	return c.dispatch(now, nil)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
