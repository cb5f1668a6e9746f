package acd

import (
	"math"
	"slices"
	"time"
)

// Core holds operators, waiting calls and timers. It is not safe for
// concurrent use: one owner goroutine calls all its methods (see the
// package documentation).
type Core struct {
	settings func(clientID string) ClientSettings
	ops      map[string]*opRec
	idle     map[string]*opRec // Available, reachable, no call
	calls    map[string]*callRec
	queues   map[string]*clientQueue
	timers   timerHeap
	seq      uint64 // enqueue order
	timerSeq uint64
	ringSeq  uint64 // the last Ring.Seq given
	maxTier  int    // highest tier over all operators' skills
	// pendingOcc: operator id → connected call reported by Occupy before
	// the operator was known.
	pendingOcc map[string]string
	// pendingLeg: operator id → the wait for a leg of their phone
	// (legRing and its deadline) at their removal, or left by the end of
	// the call they were on while removed; given back if they are added
	// again before it ends (see RemoveOperator).
	pendingLeg map[string]legMark
	holds      int // Hold calls not yet released: nobody is rung
	// shares caches, per client, the clients that share an operator with
	// it (position); cleared when an operator is added, changed or removed.
	shares map[string]shareSet
	// presentTier caches lowestPresentTier per client during one
	// dispatch (cleared at its start).
	presentTier map[string]int
	// look is the dispatch's lookahead (lookahead.go), kept between
	// dispatches for its buffers.
	look lookahead
}

// legMark is an operator's wait for the leg of ring (legRing) kept over
// their removal: not rung before until unless the leg is reported gone;
// a ring sent before stale may still find it up (overLeg).
type legMark struct {
	ring         uint64
	until, stale time.Time
}

// shareSet is the clients sharing an operator with one client: every
// client (an operator serves them all), or those named.
type shareSet struct {
	every   bool
	clients map[string]bool
}

type opRec struct {
	id        string
	skills    map[string]int
	reachable bool
	// otherCall: the phone has a call that is not the queue's (the
	// operator calling a customer back): not rung until it ends.
	otherCall bool
	state     State
	since     time.Time
	reason    string
	idleSince time.Time // last time the operator became free (longest idle)
	callID    string    // ringing or connected call
	ring      uint64    // Seq of the ring in progress (while Ringing)
	noAnswers int       // consecutive failed rings
	ringTimer *timer
	wrapTimer *timer
	// restTimer, while armed, keeps an available operator from being rung:
	// their last ring never reached Asterisk (see NotRungRest) or their
	// phone refused it (see BusyRest).
	restTimer *timer
	// legRing is the last ring of the operator that the core gave up
	// (timed out, answered elsewhere, the caller gone, ...), or whose
	// connected call ended, or the leg named by AwaitLeg, while its leg
	// may still be up in Asterisk; 0 when none. Until the call reports
	// that leg gone (RingLegGone), or legTimer (LegGoneWait) passes, the
	// operator is not rung again: the new ring's originate would reach
	// the phone while the old leg's hang-up is on its way, and a phone
	// without call waiting refuses it (486), a no-answer it never earned.
	legRing  uint64
	legTimer *timer
	// overLeg: the ring in progress was sent before the leg of legRing
	// was reported gone (legTimer passed first). Its refusal may be the
	// old leg's doing: it is no no-answer. Only a ring sent before
	// legStale (LegGoneWait after legTimer passed) counts so: a leg
	// still unreported by then is taken as gone.
	overLeg   bool
	legStale  time.Time
	wrapUntil time.Time
	// holdCall is the call whose message the operator has not saved
	// (HoldWrapUp); wrapCall the call their wrap-up follows, of client
	// wrapClient; holdUntil the latest end of that wrap-up while holdCall
	// is its call; held: WrapUp has passed and only the unsaved message
	// keeps them.
	holdCall, wrapCall, wrapClient string
	holdUntil                      time.Time
	held                           bool
	// unheld is the call whose hold the operator gave up by asking for
	// more time (ExtendWrapUp while held): the console reading its state
	// again (a reconnect, a second tab) must not hold them for it anew.
	unheld string
	// released is the last call whose message was saved, or that was
	// marked as needing none (ReleaseWrapUp), while it was the
	// operator's call or the one their wrap-up follows: a HoldWrapUp
	// for it that comes after (a console's state read that looked at
	// the call before the save, answered after it) holds nothing.
	released string
	// wanted and only count, while a dispatch's lookahead is on and the
	// operator idle, the candidates it is eligible for and those it is
	// the only eligible idle operator of (lookahead.go).
	wanted, only int
	// pending is the state to enter after the current call and wrap-up
	// (a Pause or Logout requested while on a call).
	pending       State
	pendingReason string
	hasPending    bool
}

type callRec struct {
	id, clientID string
	key          qkey
	enqueuedAt   time.Time
	waitFrom     time.Time // when max_wait counts from (Call.WaitFrom)
	vip          bool
	ringing      []string // operator ids, sorted
	opID         string   // connected operator
	connected    bool
	connRing     uint64 // the ring answered (RingAnswered); 0 for an Occupy
	attempts     map[string]int
	// lookEnt is 1 + the call's index in the dispatch's lookahead
	// entries, while it counts one; 0 otherwise.
	lookEnt      int
	maxWaitTimer *timer
	escTimer     *timer
	annTimer     *timer
}

// waitSamples is the window of the expected-wait moving average.
const waitSamples = 10

type clientQueue struct {
	tree   ctree // unconnected calls (waiting or ringing)
	lastRR string
	waits  [waitSamples]time.Duration
	nWaits int
	next   int
}

func (q *clientQueue) addWait(d time.Duration) {
	q.waits[q.next] = d
	q.next = (q.next + 1) % waitSamples
	q.nWaits = min(q.nWaits+1, waitSamples)
}

// expectedWait is sum(last waits)/count, zero without samples.
func (q *clientQueue) expectedWait() time.Duration {
	if q.nWaits == 0 {
		return 0
	}
	var sum time.Duration
	for _, w := range q.waits[:q.nWaits] {
		sum += w
	}
	return sum / time.Duration(q.nWaits)
}

// New returns an empty core. settings is called on the owner goroutine
// whenever a client's settings are needed (so a config reload applies to the
// next decision); it must be fast and must not call back into the Core.
func New(settings func(clientID string) ClientSettings) *Core {
	if settings == nil {
		settings = func(string) ClientSettings { return ClientSettings{} }
	}
	return &Core{
		settings: settings,
		ops:      map[string]*opRec{},
		idle:     map[string]*opRec{},
		calls:    map[string]*callRec{},
		queues:   map[string]*clientQueue{},
		maxTier:  1,
	}
}

func (c *Core) queue(clientID string) *clientQueue {
	q := c.queues[clientID]
	if q == nil {
		q = &clientQueue{}
		c.queues[clientID] = q
	}
	return q
}

// refreshIdle keeps the idle set equal to {Available, reachable, no call,
// no other call, not resting, no leg of a cancelled ring awaited}.
func (c *Core) refreshIdle(op *opRec) {
	if op.state == Available && op.reachable && !op.otherCall && op.callID == "" && op.restTimer == nil && op.legTimer == nil {
		c.idle[op.id] = op
	} else {
		delete(c.idle, op.id)
	}
}

// setState moves op to a state and reports the transition.
func (c *Core) setState(op *opRec, to State, reason string, now time.Time, out []Action) []Action {
	from := op.state
	if from == to && (to != Paused || op.reason == reason) {
		c.refreshIdle(op)
		return out
	}
	op.state, op.since, op.reason = to, now, ""
	if to == Paused || to == Offline {
		op.reason = reason
	}
	c.refreshIdle(op)
	ch := OperatorStateChanged{OpID: op.id, From: from, To: to, Reason: reason}
	if to == WrapUp {
		ch.Wrap = wrapState(op)
	}
	return append(out, ch)
}

// wrapState is op's wrap-up as it stands.
func wrapState(op *opRec) *WrapUpState {
	w := &WrapUpState{
		CallID: op.wrapCall, ClientID: op.wrapClient, Until: op.wrapUntil,
		Hold: op.holdCall != "" && op.holdCall == op.wrapCall, Held: op.held, HoldUntil: op.holdUntil,
		Unheld: op.unheld != "" && op.unheld == op.wrapCall,
	}
	if op.hasPending && op.pending == Paused {
		w.Pause = op.pendingReason
	}
	return w
}

// wrapChanged reports a change of op's wrap-up, the state staying WrapUp.
func wrapChanged(op *opRec, reason string) OperatorStateChanged {
	return OperatorStateChanged{OpID: op.id, From: WrapUp, To: WrapUp, Reason: reason, Wrap: wrapState(op)}
}

// release detaches a ringing operator from a call (no state change).
func (c *Core) release(cl *callRec, op *opRec) {
	if i, ok := slices.BinarySearch(cl.ringing, op.id); ok {
		cl.ringing = slices.Delete(cl.ringing, i, i+1)
	}
	c.disarm(op.ringTimer)
	op.ringTimer = nil
	op.callID = ""
}

// cancelRings stops every ring of a call; operators become available
// without a no-answer count (rung again once their leg is gone).
func (c *Core) cancelRings(cl *callRec, reason string, now time.Time, out []Action) []Action {
	for _, id := range slices.Clone(cl.ringing) {
		op := c.ops[id]
		out = c.cancelRing(cl, op, reason, now, out)
		out = c.setState(op, Available, reason, now, out)
	}
	return out
}

// cancelRing stops op's ring of cl (CancelRing) and detaches op, who is
// not rung again until that ring's leg is gone (awaitLeg). The caller
// sets op's next state.
func (c *Core) cancelRing(cl *callRec, op *opRec, reason string, now time.Time, out []Action) []Action {
	out = append(out, CancelRing{CallID: cl.id, OpID: op.id, Seq: op.ring, Reason: reason})
	c.release(cl, op)
	c.awaitLeg(op, op.ring, now)
	return out
}

// awaitLeg keeps op from being rung until the leg of ring seq, which the
// core gave up, is reported gone, or LegGoneWait has passed (the tLeg
// timer). The caller's setState (or refreshIdle) applies it.
func (c *Core) awaitLeg(op *opRec, seq uint64, now time.Time) {
	c.disarm(op.legTimer)
	op.legRing = seq
	op.legTimer = c.arm(now.Add(LegGoneWait), tLeg, "", op.id)
}

// legGone: the leg op waited for is gone (or given up for).
func (c *Core) legGone(op *opRec) {
	c.disarm(op.legTimer)
	op.legRing, op.legTimer = 0, nil
	c.refreshIdle(op)
}

// ringFailed handles a failed or timed-out ring of op for cl.
func (c *Core) ringFailed(cl *callRec, op *opRec, why RingFailure, now time.Time, out []Action) []Action {
	c.release(cl, op)
	switch why {
	case Unreachable:
		op.reachable = false
		return c.setState(op, Available, why.String(), now, out)
	case NotRung:
		// Asterisk is not taking requests (restarting, or every REST
		// connection busy): ringing the operator again at once would loop
		// as fast as the requests fail.
		c.rest(op, NotRungRest, now)
		return c.setState(op, Available, why.String(), now, out)
	}
	if why == Busy && op.overLeg {
		// Rung while the leg of its previous ring may still have been up
		// (its end never reported): the phone may have refused the new
		// ring for that leg, not for want of an operator. It rests, and
		// it is no no-answer.
		c.rest(op, BusyRest, now)
		return c.setState(op, Available, why.String(), now, out)
	}
	op.noAnswers++
	if n := c.settings(cl.clientID).AutoPauseAfter; n > 0 && op.noAnswers >= n {
		return c.setState(op, Paused, ReasonNoAnswer, now, out)
	}
	if why == Busy {
		// The phone refused at once (busy, declined, do-not-disturb):
		// ringing it again at once, for this caller or the next, would
		// be refused as fast, a loop of rings for a single operator.
		c.rest(op, BusyRest, now)
	}
	return c.setState(op, Available, why.String(), now, out)
}

// rest keeps op from being rung for d (the tRest timer ends it).
func (c *Core) rest(op *opRec, d time.Duration, now time.Time) {
	c.disarm(op.restTimer)
	op.restTimer = c.arm(now.Add(d), tRest, "", op.id)
}

// dropCall removes an unconnected call from the queue, cancelling its rings.
func (c *Core) dropCall(cl *callRec, reason string, now time.Time, out []Action) []Action {
	out = c.cancelRings(cl, reason, now, out)
	c.queue(cl.clientID).tree.remove(cl.key)
	c.stopCallTimers(cl)
	delete(c.calls, cl.id)
	return out
}

func (c *Core) stopCallTimers(cl *callRec) {
	c.disarm(cl.maxWaitTimer)
	c.disarm(cl.escTimer)
	c.disarm(cl.annTimer)
	cl.maxWaitTimer, cl.escTimer, cl.annTimer = nil, nil, nil
}

// leaveWrapUp ends an operator's wrap-up (or the end of a call without
// wrap-up): the pending state if any, else Available.
func (c *Core) leaveWrapUp(op *opRec, reason string, now time.Time, out []Action) []Action {
	c.clearWrap(op)
	op.idleSince = now
	to, why := Available, reason
	if op.hasPending {
		to, why = op.pending, op.pendingReason
		op.hasPending = false
	}
	return c.setState(op, to, why, now, out)
}

// clearWrap stops the operator's wrap-up timer and forgets its hold.
func (c *Core) clearWrap(op *opRec) {
	c.disarm(op.wrapTimer)
	op.wrapTimer, op.wrapUntil = nil, time.Time{}
	op.holdCall, op.wrapCall, op.wrapClient = "", "", ""
	op.holdUntil, op.held = time.Time{}, false
}

// allowedTier is the highest tier cl's wait has reached at now.
func allowedTier(cl *callRec, st ClientSettings, now time.Time) int {
	if st.EscalateAfter <= 0 {
		return math.MaxInt
	}
	waited := now.Sub(cl.enqueuedAt)
	if waited < 0 {
		return 1
	}
	return 1 + int(min(waited/st.EscalateAfter, math.MaxInt32))
}

// reachTier is the highest tier cl may ring at now: the tier its wait
// has reached (allowedTier), or, when higher, the lowest tier in which
// an operator of cl's client is present. A tier whose operators are all
// paused, logged out or unreachable answers nobody: holding the caller
// back for it would leave them waiting beside a free backup while newer
// callers of other clients take that backup (app_queue rings the next
// penalty when no member of the lower one is available). Operators who
// are present but busy (ringing, on a call, wrapping up) still hold the
// wait: escalation is for them.
func (c *Core) reachTier(cl *callRec, st ClientSettings, now time.Time) int {
	allowed := allowedTier(cl, st, now)
	if allowed >= c.maxTier {
		return allowed
	}
	return max(allowed, c.lowestPresentTier(cl.clientID))
}

// lowestPresentTier is the lowest tier, for clientID, of an operator who
// is logged in, not paused and reachable (math.MaxInt when none is),
// cached for the dispatch under way: ringing operators stay present, so
// the dispatch does not change it.
func (c *Core) lowestPresentTier(clientID string) int {
	if t, ok := c.presentTier[clientID]; ok {
		return t
	}
	low := math.MaxInt
	for _, op := range c.ops {
		if op.state == Offline || op.state == Paused || !op.reachable {
			continue
		}
		if t, ok := tierFor(op.skills, clientID); ok && t < low {
			low = t
		}
	}
	if c.presentTier == nil {
		c.presentTier = map[string]int{}
	}
	c.presentTier[clientID] = low
	return low
}

// armEscalation schedules the wake-up for cl's next tier, if any.
func (c *Core) armEscalation(cl *callRec, now time.Time) {
	c.disarm(cl.escTimer)
	cl.escTimer = nil
	st := c.settings(cl.clientID)
	if st.EscalateAfter <= 0 {
		return
	}
	level := allowedTier(cl, st, now)
	if level >= c.maxTier {
		return
	}
	at := cl.enqueuedAt.Add(time.Duration(level) * st.EscalateAfter)
	cl.escTimer = c.arm(at, tEscalate, cl.id, "")
}
