package acd

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var fuzzClients = map[string]ClientSettings{
	"A": {WrapUp: sec(5), WrapUpHold: sec(60), MaxWait: sec(120), EscalateAfter: sec(20), AnnouncePeriod: sec(15), AutoPauseAfter: 3},
	"B": {Strategy: RoundRobin, RingTimeout: sec(8), WrapUpHold: sec(30), MaxCallers: 3},
	"C": {Strategy: RingAll, AutoPauseAfter: 2, MaxWait: sec(60), EscalateAfter: sec(10), WrapUp: sec(3)},
}

var fuzzSkills = []map[string]int{
	{WildcardClient: 1},
	{"A": 1, "B": 2},
	{"B": 1, "C": 1},
	{"C": 2, "A": 3},
	{"A": 2, WildcardClient: 3},
	{},
}

// fuzzRun drives a core from bytes and checks invariants after each step.
type fuzzRun struct {
	t       *testing.T
	c       *Core
	now     time.Time
	nextID  int
	callIDs []string
	state   map[string]State // shadow built from OperatorStateChanged
	reach   map[string]bool  // shadow reachability from inputs
	// legWait: operators whose ring was given up (CancelRing), whose
	// connected call ended (talked or not: its leg's hang-up follows the
	// end), or told of a leg the core did not ring (AwaitLeg), until the
	// leg is reported gone or LegGoneWait has passed; cancelled: the
	// latest such legs, which the run reports gone.
	legWait   map[string]legWait
	cancelled []CancelRing
	// conn: operator id → the ring whose answer connected them (Connect),
	// while they are on that call.
	conn map[string]CancelRing
	// foreign counts the legs named for AwaitLeg.
	foreign uint64
}

type legWait struct {
	seq   uint64
	until time.Time
}

func (r *fuzzRun) opIDs() []string {
	ids := make([]string, 0, len(r.c.ops))
	for id := range r.c.ops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (r *fuzzRun) pickOp(arg byte) string {
	return fmt.Sprintf("op%d", int(arg)%7)
}

func (r *fuzzRun) pickCall(arg byte) string {
	if len(r.callIDs) == 0 {
		return "none"
	}
	return r.callIDs[int(arg)%len(r.callIDs)]
}

// opIn returns an operator in one of the states, chosen by arg.
func (r *fuzzRun) opIn(arg byte, s State) *opRec {
	var match []*opRec
	for _, id := range r.opIDs() {
		if op := r.c.ops[id]; op.state == s {
			match = append(match, op)
		}
	}
	if len(match) == 0 {
		return nil
	}
	return match[int(arg)%len(match)]
}

func (r *fuzzRun) step(code, arg byte) []Action {
	c, now := r.c, r.now
	switch code % 17 {
	case 0:
		r.now = r.now.Add(time.Duration(arg%40) * time.Second)
		return c.Tick(r.now)
	case 1:
		r.nextID++
		id := fmt.Sprintf("c%d", r.nextID)
		r.callIDs = append(r.callIDs, id)
		client := string(rune('A' + int(arg)%3))
		at := now.Add(-time.Duration(arg>>3%30) * time.Second)
		return c.Enqueue(Call{ID: id, ClientID: client, VIP: arg&4 != 0, EnqueuedAt: at, New: arg&2 != 0}, now)
	case 2:
		id := r.pickCall(arg)
		return c.Enqueue(Call{ID: id, ClientID: "A", EnqueuedAt: now.Add(-sec(5))}, now)
	case 3:
		if arg&0xe0 == 0xe0 {
			// Ringing held while calls come back in line after a
			// restart, or released: operators free at once, and callers
			// of several clients waiting (the dispatch's lookahead).
			if c.holds == 0 {
				c.Hold()
				return nil
			}
			return c.Release(now)
		}
		id := r.pickCall(arg)
		r.ending(id)
		return c.Abandon(id, now)
	case 4:
		if op := r.opIn(arg, Ringing); op != nil && arg&0x80 == 0 {
			return c.RingAnswered(op.callID, op.id, op.ring, now)
		}
		// A report of any ring, maybe an earlier one of this operator.
		return c.RingAnswered(r.pickCall(arg), r.pickOp(arg>>2), c.ringSeq-uint64(arg>>5%3), now)
	case 5:
		if op := r.opIn(arg, Ringing); op != nil {
			why := RingFailure(arg >> 5 % 4)
			if why == Unreachable {
				r.reach[op.id] = false
			}
			return c.RingFailed(op.callID, op.id, op.ring, why, now)
		}
		return c.RingFailed(r.pickCall(arg), r.pickOp(arg), c.ringSeq-uint64(arg>>5%3), NoAnswer, now)
	case 6:
		end := c.CallEnded
		if arg&0x40 != 0 { // the caller left during the whisper
			end = c.CallEndedBeforeTalk
		}
		if op := r.opIn(arg, OnCall); op != nil {
			return end(op.callID, now)
		}
		id := r.pickCall(arg)
		r.ending(id)
		return end(id, now)
	case 7:
		if arg&0xc0 == 0xc0 {
			// A wrap-up given back after a restart (any state, held or
			// not, over or not).
			w := WrapUpState{CallID: r.pickCall(arg >> 1), ClientID: string(rune('A' + int(arg>>2)%3)),
				Until: now.Add(time.Duration(int(arg>>2)%8-2) * 10 * time.Second), Hold: arg&1 != 0, Held: arg&2 != 0, Pause: []string{"", "lunch"}[int(arg>>5)%2]}
			if w.Hold {
				w.HoldUntil = w.Until.Add(time.Minute)
			}
			return c.RestoreWrapUp(r.pickOp(arg), w, now)
		}
		return c.SetAvailable(r.pickOp(arg), now)
	case 8:
		return c.Pause(r.pickOp(arg), []string{"lunch", "meeting", ""}[int(arg>>4)%3], now)
	case 9:
		return c.Logout(r.pickOp(arg), now)
	case 10:
		id := r.pickOp(arg)
		if arg&0x40 != 0 { // the operator places a call, or it ends
			return c.SetOtherCall(id, arg&0x10 != 0, now)
		}
		if _, ok := c.ops[id]; ok {
			r.reach[id] = arg&0x10 != 0
		}
		return c.SetReachable(id, arg&0x10 != 0, now)
	case 11:
		// Wrap-up ended by the operator, or held for or released by the
		// message of their call (or of another call).
		op := r.pickOp(arg)
		callID := r.pickCall(arg >> 2)
		if o := c.ops[op]; o != nil && arg&0x20 == 0 {
			callID = o.callID
			if o.state == WrapUp {
				callID = o.wrapCall
			}
		}
		switch arg >> 6 {
		case 0:
			return c.EndWrapUp(op, now)
		case 1, 2:
			return c.HoldWrapUp(op, callID, now)
		default:
			return c.ReleaseWrapUp(op, callID, now)
		}
	case 12:
		return c.ExtendWrapUp(r.pickOp(arg), time.Duration(int(arg>>3)-8)*time.Second, now)
	case 13:
		id := r.pickOp(arg)
		if _, ok := c.ops[id]; !ok {
			r.state[id], r.reach[id] = Offline, false
		}
		return c.UpsertOperator(Operator{ID: id, Skills: fuzzSkills[int(arg>>3)%len(fuzzSkills)]}, now)
	case 14:
		return c.RemoveOperator(r.pickOp(arg), now)
	case 16:
		if arg&0xc0 == 0x40 {
			// A leg of the operator's phone the core did not ring is
			// being hung up (found after a restart; a re-adopted call's
			// leg as it ends). Ignored while they ring.
			r.foreign++
			id, seq := r.pickOp(arg>>1), ForeignLeg|r.foreign
			if op := c.ops[id]; op != nil && op.state != Ringing {
				r.legWait[id] = legWait{seq: seq, until: now.Add(LegGoneWait)}
				r.noteLeg(CancelRing{OpID: id, Seq: seq})
			}
			return c.AwaitLeg(id, seq, now)
		}
		// A call re-adopted while connected (maybe to an unknown operator).
		r.nextID++
		id := fmt.Sprintf("c%d", r.nextID)
		if arg&0x80 != 0 {
			id = r.pickCall(arg)
		}
		r.callIDs = append(r.callIDs, id)
		return c.Occupy(id, string(rune('A'+int(arg>>3)%3)), r.pickOp(arg), now)
	default:
		if arg&0x80 != 0 && len(r.cancelled) > 0 {
			// The leg of a ring given up leaves Asterisk (perhaps late,
			// perhaps reported twice).
			l := r.cancelled[int(arg&0x7f)%len(r.cancelled)]
			if w, ok := r.legWait[l.OpID]; ok && w.seq == l.Seq {
				delete(r.legWait, l.OpID)
			}
			return c.RingLegGone(l.CallID, l.OpID, l.Seq, now)
		}
		if d, ok := c.NextDeadline(); ok && d.After(r.now) {
			r.now = d
		}
		r.now = r.now.Add(time.Duration(arg%3) * time.Second)
		return c.Tick(r.now)
	}
}

// ending notes, before callID ends, the leg an operator removed while on
// it answered: hung up after the end, it is waited for if they are added
// again (no state change reports it).
func (r *fuzzRun) ending(callID string) {
	cl := r.c.calls[callID]
	if cl == nil || !cl.connected || r.c.ops[cl.opID] != nil {
		return
	}
	if l, ok := r.conn[cl.opID]; ok && l.CallID == callID {
		delete(r.conn, cl.opID)
		r.legWait[cl.opID] = legWait{seq: l.Seq, until: r.now.Add(LegGoneWait)}
		r.noteLeg(l)
	}
}

// noteLeg adds a leg the run may report gone later.
func (r *fuzzRun) noteLeg(l CancelRing) {
	r.cancelled = append(r.cancelled, l)
	if len(r.cancelled) > 16 {
		r.cancelled = r.cancelled[1:]
	}
}

// checkActions replays the actions on the shadow state.
func (r *fuzzRun) checkActions(code byte, acts []Action) {
	t := r.t
	for _, a := range acts {
		switch a := a.(type) {
		case OperatorStateChanged:
			if from, ok := r.state[a.OpID]; !ok || from != a.From {
				t.Fatalf("%v: shadow state %v (known %v)", a, from, ok)
			}
			if a.To == Ringing && (a.From != Available || !r.reach[a.OpID]) {
				t.Fatalf("%v: rang an operator that was %s, reachable %v", a, a.From, r.reach[a.OpID])
			}
			r.state[a.OpID] = a.To
			if a.Reason == "removed" {
				// The leg waited for, and the call they are on, go on
				// without them: added again, they are back on that
				// call and still wait for the leg.
				delete(r.state, a.OpID)
				if a.From != OnCall {
					delete(r.conn, a.OpID)
				}
			} else if l, ok := r.conn[a.OpID]; ok && a.From == OnCall {
				// Their call ended (after the talk, or in the whisper):
				// the leg they answered is hung up after that.
				delete(r.conn, a.OpID)
				r.legWait[a.OpID] = legWait{seq: l.Seq, until: r.now.Add(LegGoneWait)}
				r.noteLeg(l)
			}
		case CancelRing:
			if a.Reason != "stale" {
				r.legWait[a.OpID] = legWait{seq: a.Seq, until: r.now.Add(LegGoneWait)}
			}
			r.noteLeg(a)
		case Ring:
			if r.state[a.OpID] != Ringing || !r.reach[a.OpID] {
				t.Fatalf("%v: operator shadow state %s reachable %v", a, r.state[a.OpID], r.reach[a.OpID])
			}
			// An operator whose ring was given up is not rung again
			// before its leg is gone (or LegGoneWait has passed): in
			// particular not in the batch that cancelled it.
			if w, ok := r.legWait[a.OpID]; ok && r.now.Before(w.until) {
				t.Fatalf("%v: rung again %s after ring %d was given up, its leg not reported gone", a, LegGoneWait-w.until.Sub(r.now), w.seq)
			}
			delete(r.legWait, a.OpID)
			if op := r.c.ops[a.OpID]; op != nil && op.otherCall {
				t.Fatalf("%v: rang an operator on another call", a)
			}
		case Connect:
			if r.state[a.OpID] != OnCall {
				t.Fatalf("%v: operator shadow state %s", a, r.state[a.OpID])
			}
			r.conn[a.OpID] = CancelRing{CallID: a.CallID, OpID: a.OpID, Seq: a.Seq}
		}
	}
	if code%17 == 14 { // removal of an offline operator emits nothing
		for id := range r.state {
			if _, ok := r.c.ops[id]; !ok {
				delete(r.state, id)
			}
		}
	}
	for id, s := range r.state {
		if op := r.c.ops[id]; op == nil || op.state != s {
			t.Fatalf("shadow says %s is %s, core disagrees", id, s)
		}
		if r.reach[id] != r.c.ops[id].reachable {
			t.Fatalf("shadow reachability of %s differs", id)
		}
	}
}

func FuzzCoreInvariants(f *testing.F) {
	f.Add([]byte{13, 0, 13, 1, 13, 2, 10, 16, 10, 17, 10, 18, 7, 0, 7, 1, 7, 2, 1, 0, 1, 1, 1, 2, 4, 0, 0, 20, 6, 0, 0, 39})
	f.Add([]byte{13, 0, 10, 16, 7, 0, 1, 2, 1, 6, 15, 0, 15, 0, 15, 1, 5, 0, 5, 64, 4, 0, 6, 0, 15, 0})
	f.Add([]byte{13, 3, 13, 4, 10, 19, 10, 20, 7, 3, 7, 4, 1, 0, 1, 3, 8, 3, 15, 0, 3, 0, 15, 0, 12, 200, 11, 4, 14, 3, 9, 4})
	f.Add([]byte{13, 10, 10, 26, 7, 10, 1, 12, 1, 13, 1, 14, 4, 1, 2, 0, 15, 1, 15, 2, 5, 96, 10, 10, 14, 10, 13, 10})
	f.Add([]byte{16, 3, 13, 3, 10, 19, 7, 3, 1, 0, 16, 4, 13, 4, 6, 0, 15, 0, 16, 129, 7, 5})
	// A leg the core did not ring (AwaitLeg), a call, the leg's report;
	// a connected call ending (talked, then in the whisper).
	f.Add([]byte{13, 0, 10, 16, 7, 0, 16, 70, 1, 0, 15, 128, 15, 0, 4, 0, 6, 0, 1, 0, 15, 129, 4, 0, 6, 64, 15, 0})
	// An operator removed and added back by reloads: on a call whose
	// caller then leaves, and within LegGoneWait of a call's end.
	f.Add([]byte{13, 0, 10, 21, 7, 0, 1, 1, 4, 0, 14, 0, 13, 0, 10, 21, 1, 1, 6, 0, 15, 0})
	f.Add([]byte{13, 0, 10, 21, 7, 0, 1, 1, 4, 0, 6, 0, 1, 1, 14, 0, 13, 0, 10, 21, 7, 0, 15, 0})
	// Held while two callers of two clients join, released: two
	// operators free at once, the oldest caller's choice.
	f.Add([]byte{13, 16, 13, 17, 10, 16, 10, 17, 7, 0, 7, 1, 3, 224, 1, 0, 1, 1, 1, 2, 0, 5, 3, 224, 15, 0})
	// A message saved during the call between two holds (a console's
	// state read racing the save), the call's end, its wrap-up.
	f.Add([]byte{13, 0, 10, 16, 7, 0, 1, 0, 4, 0, 11, 64, 11, 192, 11, 64, 6, 0, 11, 64, 0, 39, 0, 39})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 600 {
			data = data[:600]
		}
		r := &fuzzRun{t: t, c: New(settingsFrom(fuzzClients)), now: t0,
			state: map[string]State{}, reach: map[string]bool{}, legWait: map[string]legWait{}, conn: map[string]CancelRing{}}
		for i := 0; i+1 < len(data); i += 2 {
			acts := r.step(data[i], data[i+1])
			r.checkActions(data[i], acts)
			checkConsistent(t, r.c, r.now)
			checkRingsLevel(t, r.c, r.now, acts)
			if d, ok := r.c.NextDeadline(); ok && data[i]%17 == 0 && !d.After(r.now) {
				t.Fatalf("deadline %v not after tick %v", d, r.now)
			}
		}
	})
}

// TestRandomSequences runs the fuzz body on seeded pseudo-random inputs so
// plain `go test` explores long sequences too.
func TestRandomSequences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 150 {
		data := make([]byte, 600)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		r := &fuzzRun{t: t, c: New(settingsFrom(fuzzClients)), now: t0,
			state: map[string]State{}, reach: map[string]bool{}, legWait: map[string]legWait{}, conn: map[string]CancelRing{}}
		// Log operators in first so that calls get routed.
		for i := range 7 {
			for _, in := range [][2]byte{{13, byte(i) | byte(i%5)<<3}, {10, byte(i) | 0x10}, {7, byte(i)}} {
				r.checkActions(in[0], r.step(in[0], in[1]))
			}
		}
		for i := 0; i+1 < len(data); i += 2 {
			acts := r.step(data[i], data[i+1])
			r.checkActions(data[i], acts)
			checkConsistent(t, r.c, r.now)
			checkRingsLevel(t, r.c, r.now, acts)
		}
	}
}
