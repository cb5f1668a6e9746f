package acd

import (
	"container/heap"
	"time"
)

// timers.go: deadlines as data, in an indexed min-heap ordered by time then
// creation order, so Tick fires them deterministically.

type timerKind uint8

const (
	tRing     timerKind = iota // ring attempt of opID for callID timed out
	tWrapUp                    // opID's wrap-up ends
	tMaxWait                   // callID waited too long
	tEscalate                  // callID reaches the next tier
	tAnnounce                  // tell callID its position
	tRest                      // opID may be rung again after a ring that was never sent or was refused
	tLeg                       // opID may be rung again though the leg of a ring given up is not reported gone
)

type timer struct {
	at     time.Time
	seq    uint64
	kind   timerKind
	callID string
	opID   string
	idx    int // position in the heap, -1 when not armed
}

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.idx = -1
	return t
}

// arm schedules a new timer.
func (c *Core) arm(at time.Time, kind timerKind, callID, opID string) *timer {
	c.timerSeq++
	t := &timer{at: at, seq: c.timerSeq, kind: kind, callID: callID, opID: opID}
	heap.Push(&c.timers, t)
	return t
}

// disarm removes a timer if armed; nil is allowed.
func (c *Core) disarm(t *timer) {
	if t != nil && t.idx >= 0 {
		heap.Remove(&c.timers, t.idx)
	}
}

// NextDeadline returns the earliest pending timer, if any. The owner calls
// Tick at (or after) that time.
func (c *Core) NextDeadline() (time.Time, bool) {
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return c.timers[0].at, true
}

// Tick fires every timer due at or before now, in deadline order, then
// offers waiting calls to idle operators.
func (c *Core) Tick(now time.Time) []Action {
	var out []Action
	for len(c.timers) > 0 && !c.timers[0].at.After(now) {
		t := heap.Pop(&c.timers).(*timer)
		out = c.fire(t, now, out)
	}
	return c.dispatch(now, out)
}

func (c *Core) fire(t *timer, now time.Time, out []Action) []Action {
	switch t.kind {
	case tRing:
		op, cl := c.ops[t.opID], c.calls[t.callID]
		if op == nil || cl == nil || op.ringTimer != t {
			return out
		}
		op.ringTimer = nil
		out = c.cancelRing(cl, op, "timeout", now, out)
		return c.ringFailed(cl, op, NoAnswer, now, out)
	case tRest:
		op := c.ops[t.opID]
		if op == nil || op.restTimer != t {
			return out
		}
		op.restTimer = nil
		c.refreshIdle(op)
		return out // dispatch at the end of Tick rings them
	case tLeg:
		op := c.ops[t.opID]
		if op == nil || op.legTimer != t {
			return out
		}
		// The leg's end was never reported (lost with the link, or the
		// call's actor gone): rung again all the same. legRing stays, so
		// that a ring sent within another LegGoneWait knows it may find
		// the leg up (overLeg); a ring sent later does not.
		op.legTimer = nil
		op.legStale = now.Add(LegGoneWait)
		c.refreshIdle(op)
		return out
	case tWrapUp:
		op := c.ops[t.opID]
		if op == nil || op.wrapTimer != t {
			return out
		}
		op.wrapTimer = nil
		if op.holdCall != "" && !op.held && op.holdUntil.After(now) {
			// The message is not saved yet: wrap-up goes on until it
			// is, or until the hold's end.
			op.held, op.wrapUntil = true, op.holdUntil
			op.wrapTimer = c.arm(op.wrapUntil, tWrapUp, "", op.id)
			return append(out, wrapChanged(op, ReasonMessageUnsaved))
		}
		return c.leaveWrapUp(op, "wrap-up-end", now, out)
	case tMaxWait:
		cl := c.calls[t.callID]
		if cl == nil || cl.maxWaitTimer != t {
			return out
		}
		cl.maxWaitTimer = nil
		out = c.dropCall(cl, ReasonMaxWait, now, out)
		return append(out, Overflow{CallID: cl.id, Reason: ReasonMaxWait})
	case tEscalate:
		cl := c.calls[t.callID]
		if cl == nil || cl.escTimer != t {
			return out
		}
		cl.escTimer = nil
		c.armEscalation(cl, now)
		return out // dispatch at the end of Tick uses the new tier
	case tAnnounce:
		cl := c.calls[t.callID]
		if cl == nil || cl.annTimer != t {
			return out
		}
		cl.annTimer = nil
		st := c.settings(cl.clientID)
		if st.AnnouncePeriod > 0 {
			cl.annTimer = c.arm(now.Add(st.AnnouncePeriod), tAnnounce, cl.id, "")
		}
		if len(cl.ringing) == 0 {
			q := c.queues[cl.clientID]
			// What is left of the usual wait, as app_queue says it: a
			// caller who has waited 4 minutes of a usual 2 is not told 2
			// more (nothing when it is past).
			left := max(0, q.expectedWait()-now.Sub(cl.enqueuedAt))
			out = append(out, Announce{CallID: cl.id, Position: c.position(cl), ExpectedWait: left})
		}
		return out
	}
	return out
}

// position is cl's place in line as its caller is told it: 1 + the
// callers before it in the order calls are served (VIP first, then the
// oldest) of every client that shares an operator with cl's client, its
// own included. Callers are served in one order across clients, so an
// older caller of another client whom one of this client's operators also
// serves is ahead. It may count one too many (that caller may be taken by
// an operator this caller could not have had), never one too few.
func (c *Core) position(cl *callRec) int {
	sh := c.sharing(cl.clientID)
	n := 1
	if !sh.every && len(sh.clients) < len(c.queues) {
		for id := range sh.clients {
			if q := c.queues[id]; q != nil {
				n += q.tree.rank(cl.key)
			}
		}
		return n
	}
	for id, q := range c.queues {
		if sh.every || sh.clients[id] {
			n += q.tree.rank(cl.key)
		}
	}
	return n
}

// sharing returns the clients that share an operator with clientID (its
// own included), from the cache: after a restart every re-adopted
// caller's first announcement falls due at once, and working it out
// afresh for each of 10,000 callers held the queue for half a second.
func (c *Core) sharing(clientID string) shareSet {
	if sh, ok := c.shares[clientID]; ok {
		return sh
	}
	sh := shareSet{clients: map[string]bool{clientID: true}}
	for _, op := range c.ops {
		if _, ok := tierFor(op.skills, clientID); !ok {
			continue
		}
		if _, ok := op.skills[WildcardClient]; ok {
			sh.every = true
			break
		}
		for id := range op.skills {
			sh.clients[id] = true
		}
	}
	if c.shares == nil {
		c.shares = map[string]shareSet{}
	}
	c.shares[clientID] = sh
	return sh
}
