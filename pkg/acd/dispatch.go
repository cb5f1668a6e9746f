package acd

import (
	"cmp"
	"container/heap"
	"slices"
	"time"
)

// dispatch.go: offer waiting calls to idle operators.
//
// Calls are taken in the global order (VIP, enqueue time, enqueue order).
// Per client and group (VIP / normal) only the first call that can take an
// operator is a candidate: later calls of the same group waited less, so
// their eligible operators are a subset, and if the first cannot be served
// neither can they. The cost per dispatch is therefore
// O(clients·log + rings·(idle operators + log n)), not O(waiting calls).
//
// When a caller has more than one operator to choose from at its best
// terms and other candidates wait, the lookahead (lookahead.go) counts
// once, per candidate, its eligible idle operators and keeps the counts
// as operators are taken: O((candidates + rings) · idle operators) more,
// paid only by a dispatch that has such a choice to make (two idle
// operators or more, two candidates or more); one operator coming free
// costs nothing more.

type candidate struct {
	call *callRec
	q    *clientQueue
}

type candHeap []candidate

func (h candHeap) Len() int           { return len(h) }
func (h candHeap) Less(i, j int) bool { return h[i].call.key.less(h[j].call.key) }
func (h candHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)        { *h = append(*h, x.(candidate)) }
func (h *candHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// firstCandidate returns the first call of group g at or after from that
// may take an operator: for ring-all the group's head (ringing or not),
// otherwise the first call not already ringing.
func (c *Core) firstCandidate(q *clientQueue, from qkey, ringAll bool) *callRec {
	for cl := q.tree.ceil(from); cl != nil && cl.key.group == from.group; cl = q.tree.after(cl.key) {
		if ringAll || len(cl.ringing) == 0 {
			return cl
		}
	}
	return nil
}

func (c *Core) dispatch(now time.Time, out []Action) []Action {
	if len(c.idle) == 0 || len(c.calls) == 0 || c.holds > 0 {
		return out
	}
	clear(c.presentTier)
	var cands candHeap
	for clientID, q := range c.queues {
		if q.tree.len() == 0 {
			continue
		}
		ringAll := c.settings(clientID).strategy() == RingAll
		for g := uint8(0); g < 2; g++ {
			if cl := c.firstCandidate(q, qkey{group: g, at: minInt64}, ringAll); cl != nil {
				cands = append(cands, candidate{call: cl, q: q})
			}
		}
	}
	heap.Init(&cands)
	for cands.Len() > 0 && len(c.idle) > 0 {
		cd := heap.Pop(&cands).(candidate)
		cl := cd.call
		if cl.lookEnt > 0 {
			// Being served: no longer one to keep operators for.
			c.look.leave(c, cl.lookEnt-1)
		}
		st := c.settings(cl.clientID)
		if st.strategy() == RingAll {
			// The head takes the eligible idle operators ringAll picks;
			// the next call of the group may take those of a higher tier
			// it left (a backup operator, while the primary ones ring for
			// the head). A call that leaves some and takes none is
			// already ringing someone, so the chain is at most as long as
			// there are ringing calls, plus one.
			var left bool
			out, left = c.ringAll(cl, st, now, out)
			if left {
				if next := c.firstCandidate(cd.q, qkey{group: cl.key.group, at: cl.key.at, seq: cl.key.seq + 1}, true); next != nil {
					c.look.add(c, next, now)
					heap.Push(&cands, candidate{call: next, q: cd.q})
				}
			}
			continue
		}
		op, tier := c.pick(cl, cd.q, st, now)
		if op == nil {
			continue
		}
		// The next caller of the line, a candidate once cl is served.
		next := c.firstCandidate(cd.q, qkey{group: cl.key.group, at: cl.key.at, seq: cl.key.seq + 1}, false)
		if cands.Len() > 0 && len(c.idle) > 1 {
			op = c.spare(op, tier, cl, cd.q, st, cands, next, now)
		}
		out = c.ring(cl, op, st, now, out)
		cd.q.lastRR = op.id
		if next != nil {
			c.look.add(c, next, now)
			heap.Push(&cands, candidate{call: next, q: cd.q})
		}
	}
	c.look.reset()
	return out
}

const minInt64 = -1 << 63

// pick chooses one idle eligible operator for cl, or nil: the strategy's
// choice, with its tier for cl.
func (c *Core) pick(cl *callRec, q *clientQueue, st ClientSettings, now time.Time) (*opRec, int) {
	limit := c.reachTier(cl, st, now)
	rr := st.strategy() == RoundRobin
	var best *opRec
	var bestTier int
	for _, op := range c.idle {
		tier, ok := tierFor(op.skills, cl.clientID)
		if !ok || tier > limit {
			continue
		}
		if best == nil || better(op, tier, best, bestTier, cl, q, rr) {
			best, bestTier = op, tier
		}
	}
	return best, bestTier
}

// better reports whether a (tier ta) is preferred to b (tier tb) for cl:
// fewer rings of this call, lower tier, then the strategy with the id as
// the final tie-break.
func better(a *opRec, ta int, b *opRec, tb int, cl *callRec, q *clientQueue, rr bool) bool {
	if x, y := cl.attempts[a.id], cl.attempts[b.id]; x != y {
		return x < y
	}
	if ta != tb {
		return ta < tb
	}
	if rr {
		// Rotation: ids after the last one rung come first, then wrap.
		wa, wb := a.id <= q.lastRR, b.id <= q.lastRR
		if wa != wb {
			return !wa
		}
		return a.id < b.id
	}
	if cmp := a.idleSince.Compare(b.idleSince); cmp != 0 {
		return cmp < 0
	}
	return a.id < b.id
}

// ringAll rings idle operators eligible for cl, in id order: those of
// the lowest tier with one this call has not rung yet, and every lower
// tier's (a primary who did not answer rings again, now with the
// backups); when it has rung them all, every one. Lower tiers are so
// preferred, as by the other strategies (a backup operator rings only
// once no primary is free or every free one was rung for this call). A
// call ringing operators for the first time takes only more of their
// tier or a lower one. left reports eligible operators it did not ring,
// for the next caller of the group.
func (c *Core) ringAll(cl *callRec, st ClientSettings, now time.Time, out []Action) (_ []Action, left bool) {
	allowed := c.reachTier(cl, st, now)
	limit := allowed
	for _, id := range cl.ringing {
		// Only an operator on their first ring for this call holds the
		// widening back: rings out of step (one declined, one came free
		// meanwhile) must not keep the backups out for ever.
		if op := c.ops[id]; op != nil && cl.attempts[id] <= 1 {
			if tier, ok := tierFor(op.skills, cl.clientID); ok && tier < limit {
				limit = tier
			}
		}
	}
	// The lowest tier, within limit, with an operator this call has not
	// rung; limit itself when it has rung them all.
	best := 0
	for _, op := range c.idle {
		if tier, ok := tierFor(op.skills, cl.clientID); ok && tier <= limit && cl.attempts[op.id] == 0 && (best == 0 || tier < best) {
			best = tier
		}
	}
	if best == 0 {
		best = limit
	}
	var chosen []*opRec
	for _, op := range c.idle {
		tier, ok := tierFor(op.skills, cl.clientID)
		switch {
		case !ok || tier > allowed:
		case tier > best:
			left = true
		default:
			chosen = append(chosen, op)
		}
	}
	slices.SortFunc(chosen, func(a, b *opRec) int { return cmp.Compare(a.id, b.id) })
	for _, op := range chosen {
		out = c.ring(cl, op, st, now, out)
	}
	return out, left
}

// ring makes op ring for cl.
func (c *Core) ring(cl *callRec, op *opRec, st ClientSettings, now time.Time, out []Action) []Action {
	timeout := st.ringTimeout()
	c.ringSeq++
	op.callID, op.ring = cl.id, c.ringSeq
	// An operator is idle only once the leg of a ring given up is gone or
	// LegGoneWait has passed; in the second case this ring may find it
	// still up, if sent soon after (before legStale).
	op.overLeg, op.legRing = op.legRing != 0 && now.Before(op.legStale), 0
	op.ringTimer = c.arm(now.Add(timeout), tRing, cl.id, op.id)
	i, _ := slices.BinarySearch(cl.ringing, op.id)
	cl.ringing = slices.Insert(cl.ringing, i, op.id)
	if cl.attempts == nil {
		cl.attempts = map[string]int{}
	}
	cl.attempts[op.id]++
	out = c.setState(op, Ringing, "ring", now, out)
	if c.look.on {
		c.look.take(c, op)
	}
	return append(out, Ring{CallID: cl.id, OpID: op.id, Seq: op.ring, Timeout: timeout})
}

// Hold stops all ringing (calls wait, timers run) until Release is called
// as many times: the owner holds while re-adopted calls come back in line
// after a restart.
func (c *Core) Hold() { c.holds++ }

// Release ends one Hold; with none left, waiting calls are offered to idle
// operators.
func (c *Core) Release(now time.Time) []Action {
	if c.holds > 0 {
		c.holds--
	}
	return c.dispatch(now, nil)
}
