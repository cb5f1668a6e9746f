package acd

import "time"

// lookahead.go: within one dispatch, a caller with a choice of operators
// leaves a younger caller the one they alone could have.
//
// Callers are served oldest first, each taking the operator its strategy
// prefers. When two operators are free at once that can strand a younger
// caller: the oldest takes the generalist who alone could serve another
// client's caller, beside a specialist who stays free. So, when the
// caller being served has more than one idle operator level with the
// strategy's choice (as few rings of this call, the same tier: never a
// backup where the strategy gave a primary, never one who already failed
// to answer it while another has not), it takes among them, first, one
// who is no other candidate's only eligible idle operator, then, of
// those, one no other candidate can take at all; the strategy decides
// among equals, and when every one is some candidate's only operator the
// strategy's choice stands: the older caller wins. An older caller thus
// never gets less than it would have (the same tier, as few rings), a
// younger one is not left waiting beside a free operator another could
// have done without.
//
// The other candidates are the heads of the other clients' and groups'
// lines still to be served in this dispatch (ring-all heads included),
// and the caller after the one being served in its own line, that ring
// nobody yet: a ring-all caller already ringing is not stranded. The counts are made once, when a caller first has a choice,
// in O(candidates · idle operators), and kept as operators are taken
// (O(candidates) each, O(idle operators) when a candidate is down to one)
// and candidates join or are served (O(idle operators) each): a dispatch
// costs O((candidates + rings) · idle operators) at worst, and nothing
// more when there is no choice to make.
//
// It is a one-step lookahead, not a best matching: a choice between two
// operators each wanted by a candidate that has another one may still
// strand a third caller later in the dispatch. A matching by augmenting
// paths (oldest callers first) would find those, but costs an idle
// operator factor more (O((candidates + rings) · idle operators²)),
// moves older callers among their equals against the strategy, and has
// no place for a ring-all caller ringing many. Several operators free at
// once is itself rare (a release after a restart, a reload, a break
// ending with calls waiting); one coming free goes to the oldest caller
// they can serve, with nothing to choose.

// lookahead is the state of one dispatch's lookahead; kept on the Core
// between dispatches for its buffer.
type lookahead struct {
	on   bool
	ents []lookEnt
}

// lookEnt is a candidate the lookahead keeps operators for.
type lookEnt struct {
	call   *callRec
	limit  int    // the highest tier the call may ring
	need   int    // its eligible idle operators
	sole   *opRec // the one, when need is 1
	active bool   // still to be served and with an eligible idle operator
}

func (e *lookEnt) eligible(op *opRec) bool {
	t, ok := tierFor(op.skills, e.call.clientID)
	return ok && t <= e.limit
}

// spare returns the operator cl takes: op, the strategy's choice (of
// tier for cl), unless another idle operator level with op is needed
// less by the candidates still to be served (next, the caller after cl
// in its line, among them).
func (c *Core) spare(op *opRec, tier int, cl *callRec, q *clientQueue, st ClientSettings, cands candHeap, next *callRec, now time.Time) *opRec {
	n := cl.attempts[op.id]
	level := func(o *opRec) bool {
		t, ok := tierFor(o.skills, cl.clientID)
		return ok && t == tier && cl.attempts[o.id] == n
	}
	choice := false
	for _, o := range c.idle {
		if o != op && level(o) {
			choice = true
			break
		}
	}
	if !choice {
		return op
	}
	if !c.look.on {
		c.look.start(c, cands, now)
	}
	if next != nil {
		// The next caller of cl's line may take what cl leaves.
		c.look.add(c, next, now)
	}
	rr := st.strategy() == RoundRobin
	best, bestRank := op, spareRank(op)
	for _, o := range c.idle {
		if o == op || !level(o) {
			continue
		}
		if r := spareRank(o); r > bestRank || r == bestRank && better(o, tier, best, tier, cl, q, rr) {
			best, bestRank = o, r
		}
	}
	return best
}

// spareRank: 0 for the only operator of a candidate, 1 for one a
// candidate can take, 2 for one none can.
func spareRank(op *opRec) int {
	switch {
	case op.only > 0:
		return 0
	case op.wanted > 0:
		return 1
	}
	return 2
}

// start counts the candidates' eligible idle operators.
func (l *lookahead) start(c *Core, cands candHeap, now time.Time) {
	l.on = true
	for _, op := range c.idle {
		op.wanted, op.only = 0, 0
	}
	for _, cd := range cands {
		l.add(c, cd.call, now)
	}
}

// add counts a candidate (that joins the dispatch) while the lookahead is
// on.
func (l *lookahead) add(c *Core, cl *callRec, now time.Time) {
	if !l.on || cl.lookEnt > 0 || len(cl.ringing) > 0 {
		return
	}
	e := lookEnt{call: cl, active: true}
	e.limit = c.reachTier(cl, c.settings(cl.clientID), now)
	for _, op := range c.idle {
		if e.eligible(op) {
			e.need++
			e.sole = op
			op.wanted++
		}
	}
	switch e.need {
	case 0:
		return
	case 1:
		e.sole.only++
	default:
		e.sole = nil
	}
	l.ents = append(l.ents, e)
	cl.lookEnt = len(l.ents)
}

// leave uncounts entry i, whose caller is being served.
func (l *lookahead) leave(c *Core, i int) {
	e := &l.ents[i]
	if !e.active {
		return
	}
	e.active = false
	for _, op := range c.idle {
		if e.eligible(op) {
			op.wanted--
		}
	}
	if e.need == 1 {
		e.sole.only--
	}
}

// take: op, no longer idle, was rung. Candidates down to one eligible
// operator make it their only one.
func (l *lookahead) take(c *Core, op *opRec) {
	for i := range l.ents {
		e := &l.ents[i]
		if !e.active || !e.eligible(op) {
			continue
		}
		e.need--
		switch e.need {
		case 0:
			e.active, e.sole = false, nil
		case 1:
			for _, o := range c.idle {
				if e.eligible(o) {
					e.sole = o
					break
				}
			}
			e.sole.only++
		}
	}
}

// reset ends the dispatch's lookahead.
func (l *lookahead) reset() {
	if !l.on {
		return
	}
	for _, e := range l.ents {
		e.call.lookEnt = 0
	}
	clear(l.ents)
	l.ents = l.ents[:0]
	l.on = false
}
