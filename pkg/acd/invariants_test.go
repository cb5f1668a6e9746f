package acd

import (
	"math"
	"slices"
	"testing"
	"time"
)

// checkConsistent verifies the core's internal invariants and its Snapshot.
func checkConsistent(t *testing.T, c *Core, now time.Time) {
	t.Helper()
	for id, op := range c.ops {
		_, inIdle := c.idle[id]
		wantIdle := op.state == Available && op.reachable && !op.otherCall && op.callID == "" && op.restTimer == nil && op.legTimer == nil
		if inIdle != wantIdle {
			t.Fatalf("op %s: idle=%v want %v (state %s reachable %v call %q)", id, inIdle, wantIdle, op.state, op.reachable, op.callID)
		}
		if (op.ringTimer != nil) != (op.state == Ringing) {
			t.Fatalf("op %s: ring timer %v in state %s", id, op.ringTimer != nil, op.state)
		}
		if op.restTimer != nil && op.state == Ringing {
			t.Fatalf("op %s rung while resting after a ring that was not sent", id)
		}
		if op.legTimer != nil && (op.state == Ringing || op.legRing == 0) {
			t.Fatalf("op %s in %s awaiting the leg of ring %d", id, op.state, op.legRing)
		}
		if (op.wrapTimer != nil) != (op.state == WrapUp) {
			t.Fatalf("op %s: wrap timer %v in state %s", id, op.wrapTimer != nil, op.state)
		}
		if op.state != WrapUp && (op.held || !op.holdUntil.IsZero() || op.wrapCall != "") {
			t.Fatalf("op %s: wrap-up hold (held %v until %v, call %q) in state %s", id, op.held, op.holdUntil, op.wrapCall, op.state)
		}
		if op.holdCall != "" && op.holdCall == op.released {
			t.Fatalf("op %s: held for call %q, whose message was saved", id, op.holdCall)
		}
		if op.held && (op.holdCall == "" || op.holdCall != op.wrapCall || !op.wrapUntil.Equal(op.holdUntil)) {
			t.Fatalf("op %s: held for %q after call %q, until %v (hold %v)", id, op.holdCall, op.wrapCall, op.wrapUntil, op.holdUntil)
		}
		switch op.state {
		case Ringing:
			cl := c.calls[op.callID]
			if cl == nil || cl.connected {
				t.Fatalf("op %s ringing for missing/connected call %q", id, op.callID)
			}
			if _, ok := slices.BinarySearch(cl.ringing, id); !ok {
				t.Fatalf("op %s ringing %s but not in its ring list %v", id, cl.id, cl.ringing)
			}
			if !op.reachable {
				t.Fatalf("op %s ringing while unreachable", id)
			}
			if _, ok := tierFor(op.skills, cl.clientID); !ok {
				t.Fatalf("op %s ringing for %s, a client it does not serve", id, cl.id)
			}
		case OnCall:
			cl := c.calls[op.callID]
			if cl == nil || !cl.connected || cl.opID != id {
				t.Fatalf("op %s on call %q not connected to it", id, op.callID)
			}
		default:
			if op.callID != "" {
				t.Fatalf("op %s in %s holds call %q", id, op.state, op.callID)
			}
		}
	}
	for opID, callID := range c.pendingOcc {
		if cl := c.calls[callID]; c.ops[opID] != nil || cl == nil || !cl.connected || cl.opID != opID {
			t.Fatalf("pending occupation of %s by %s is stale", opID, callID)
		}
	}
	for opID := range c.pendingLeg {
		if c.ops[opID] != nil {
			t.Fatalf("leg wait of %s kept for its removal while it is known", opID)
		}
	}
	unconnected := 0
	for id, cl := range c.calls {
		q := c.queues[cl.clientID]
		inTree := q != nil && q.tree.ceil(cl.key) == cl
		if cl.connected {
			if inTree || len(cl.ringing) > 0 || cl.maxWaitTimer != nil || cl.annTimer != nil || cl.escTimer != nil {
				t.Fatalf("connected call %s still queued/ringing/timed", id)
			}
			continue
		}
		unconnected++
		if !inTree {
			t.Fatalf("waiting call %s not in its queue", id)
		}
		if !slices.IsSorted(cl.ringing) || len(slices.Compact(slices.Clone(cl.ringing))) != len(cl.ringing) {
			t.Fatalf("call %s ring list %v not sorted/unique", id, cl.ringing)
		}
		for _, opID := range cl.ringing {
			op := c.ops[opID]
			if op == nil || op.state != Ringing || op.callID != id {
				t.Fatalf("call %s rings %s which is not ringing it", id, opID)
			}
		}
	}
	inTrees := 0
	for _, q := range c.queues {
		inTrees += q.tree.len()
	}
	if inTrees != unconnected {
		t.Fatalf("queues hold %d calls, %d unconnected", inTrees, unconnected)
	}
	for i, tm := range c.timers {
		if tm.idx != i {
			t.Fatalf("timer %d has index %d", i, tm.idx)
		}
		if i > 0 && c.timers.Less(i, (i-1)/2) {
			t.Fatalf("timer heap order broken at %d", i)
		}
	}
	checkOffered(t, c, now)
	checkSnapshot(t, c, now, unconnected)
}

// checkOffered: no idle operator is eligible for a call that waits without
// ringing anyone (for ring-all: for any unconnected call ringing no
// operator of a lower tier than theirs), unless the core is held.
func checkOffered(t *testing.T, c *Core, now time.Time) {
	t.Helper()
	if c.holds > 0 {
		return
	}
	for _, op := range c.idle {
		for _, cl := range c.calls {
			if cl.connected {
				continue
			}
			st := c.settings(cl.clientID)
			tier, ok := tierFor(op.skills, cl.clientID)
			if !ok || tier > reachableTier(c, cl, st, now) {
				continue
			}
			if len(cl.ringing) == 0 || (st.strategy() == RingAll && tier <= lowestRungTier(c, cl)) {
				t.Fatalf("op %s idle and eligible while call %s waits (ringing %v)", op.id, cl.id, cl.ringing)
			}
		}
	}
}

// reachableTier is the highest tier cl may ring, worked out apart from
// the core: the tier its wait has reached, or the lowest tier of an
// operator of its client who is present (logged in, not paused,
// reachable) if that is higher.
func reachableTier(c *Core, cl *callRec, st ClientSettings, now time.Time) int {
	low := math.MaxInt
	for _, op := range c.ops {
		if op.state == Offline || op.state == Paused || !op.reachable {
			continue
		}
		if tier, ok := tierFor(op.skills, cl.clientID); ok {
			low = min(low, tier)
		}
	}
	return max(allowedTier(cl, st, now), low)
}

// lowestRungTier is the lowest tier, for cl's client, of the operators cl
// rings.
func lowestRungTier(c *Core, cl *callRec) int {
	best := 0
	for _, id := range cl.ringing {
		if op := c.ops[id]; op != nil {
			if tier, ok := tierFor(op.skills, cl.clientID); ok && (best == 0 || tier < best) {
				best = tier
			}
		}
	}
	return best
}

func checkSnapshot(t *testing.T, c *Core, now time.Time, unconnected int) {
	t.Helper()
	s := c.Snapshot(now)
	if len(s.Operators) != len(c.ops) {
		t.Fatalf("snapshot has %d operators, core %d", len(s.Operators), len(c.ops))
	}
	onCall := map[string]string{}
	for i, ov := range s.Operators {
		if i > 0 && s.Operators[i-1].ID >= ov.ID {
			t.Fatalf("snapshot operators not sorted")
		}
		if ov.CallID != "" {
			if other, dup := onCall[ov.CallID]; dup && ov.State == OnCall {
				t.Fatalf("call %s on two operators %s and %s", ov.CallID, other, ov.ID)
			}
			onCall[ov.CallID] = ov.ID
		}
		if ov.State == Paused && ov.PauseReason == "" || ov.State != Paused && ov.State != Offline && ov.PauseReason != "" {
			t.Fatalf("op %s state %s pause reason %q", ov.ID, ov.State, ov.PauseReason)
		}
	}
	waiting := 0
	seen := map[string]bool{}
	for _, cv := range s.Clients {
		for i, w := range cv.Waiting {
			if w.Position != i+1 {
				t.Fatalf("client %s position %d at index %d", cv.ClientID, w.Position, i)
			}
			if i > 0 {
				p := cv.Waiting[i-1]
				if p.VIP == w.VIP && p.EnqueuedAt.After(w.EnqueuedAt) || !p.VIP && w.VIP {
					t.Fatalf("client %s queue out of order at %d", cv.ClientID, i)
				}
			}
			if seen[w.CallID] {
				t.Fatalf("call %s listed twice", w.CallID)
			}
			seen[w.CallID] = true
			for _, opID := range w.RingingOps {
				ov, ok := c.LookupOperator(opID)
				if !ok || ov.State != Ringing || ov.CallID != w.CallID {
					t.Fatalf("snapshot: call %s rings %s in state %s", w.CallID, opID, ov.State)
				}
			}
			waiting++
		}
	}
	if waiting != unconnected {
		t.Fatalf("snapshot lists %d waiting calls, core %d", waiting, unconnected)
	}
}

// checkRingsLevel: a caller rung in acts (the actions of one input) by
// an operator chosen for it alone (not ring-all) got no worse terms than
// any operator still idle and eligible for it: no fewer rings of that
// call before this one, no lower tier. The dispatch's lookahead may leave
// a younger caller an operator, never at an older caller's cost.
func checkRingsLevel(t *testing.T, c *Core, now time.Time, acts []Action) {
	t.Helper()
	for _, a := range acts {
		r, ok := a.(Ring)
		if !ok {
			continue
		}
		cl, op := c.calls[r.CallID], c.ops[r.OpID]
		if cl == nil || op == nil || cl.connected || op.callID != cl.id || op.ring != r.Seq {
			continue // answered, failed or gone later in the same input
		}
		st := c.settings(cl.clientID)
		if st.strategy() == RingAll {
			continue
		}
		tier, _ := tierFor(op.skills, cl.clientID)
		rings := cl.attempts[op.id] - 1
		for _, q := range c.idle {
			qt, ok := tierFor(q.skills, cl.clientID)
			if !ok || qt > reachableTier(c, cl, st, now) {
				continue
			}
			if n := cl.attempts[q.id]; n < rings || n == rings && qt < tier {
				t.Fatalf("call %s rang %s (tier %d, rung %d times before) while %s (tier %d, rung %d times) stays idle",
					cl.id, op.id, tier, rings, q.id, qt, n)
			}
		}
	}
}
