package acd

import (
	"slices"
	"testing"
	"time"
)

// TestRingSeqTellsRingsApart: the only operator's ring times out and the
// same call rings them again (after LegGoneWait: the first leg's end is
// not reported); an answer or a failure reported for the first ring (an
// answer racing the timeout) must not be taken for the second, and the
// rings and their cancels and connect carry their Seq.
func TestRingSeqTellsRingsApart(t *testing.T) {
	c := setup(t, map[string]ClientSettings{"A": {}}, []opSpec{{id: "a", skills: all(1)}})
	seqs := func(acts []Action) (rings, cancels, connects []uint64) {
		for _, a := range acts {
			switch v := a.(type) {
			case Ring:
				rings = append(rings, v.Seq)
			case CancelRing:
				cancels = append(cancels, v.Seq)
			case Connect:
				connects = append(connects, v.Seq)
			}
		}
		return
	}
	r, _, _ := seqs(c.Enqueue(Call{ID: "c1", ClientID: "A"}, t0))
	if len(r) != 1 {
		t.Fatalf("enqueue rang %v", r)
	}
	first := r[0]
	r, cancel, _ := seqs(c.Tick(t0.Add(sec(15))))
	if !slices.Equal(cancel, []uint64{first}) || len(r) != 0 {
		t.Fatalf("timeout: cancels %v, rings %v; want the first ring cancelled and none before its leg is gone", cancel, r)
	}
	r, _, _ = seqs(c.Tick(t0.Add(sec(15) + LegGoneWait)))
	if len(r) != 1 || r[0] == first {
		t.Fatalf("after LegGoneWait: rings %v; want a new one", r)
	}
	second := r[0]

	runSteps(t, c, []step{
		{sec(17), failedRing("c1", "a", first, NoAnswer), nil},
		{sec(17), legGoneRing("c1", "a", first), nil},
		{sec(17), answerRing("c1", "a", first), one("cancel c1 a stale")},
	})
	if op := c.ops["a"]; op.state != Ringing || op.ring != second || op.noAnswers != 1 {
		t.Fatalf("after reports of the first ring: state %s ring %d no-answers %d; want ringing %d with 1 no-answer",
			op.state, op.ring, op.noAnswers, second)
	}
	_, cancel, _ = seqs(c.RingAnswered("c1", "a", first, t0.Add(sec(17))))
	if !slices.Equal(cancel, []uint64{first}) {
		t.Fatalf("stale answer cancelled %v, want the first ring %d", cancel, first)
	}
	_, _, conn := seqs(c.RingAnswered("c1", "a", second, t0.Add(sec(17))))
	if !slices.Equal(conn, []uint64{second}) {
		t.Fatalf("answer of the second ring connected %v, want %d", conn, second)
	}
	if acts := c.RingAnswered("c1", "a", second, t0.Add(sec(18))); len(acts) != 0 {
		t.Fatalf("a duplicate answer gave %v", render(acts))
	}
	if acts := c.RingAnswered("c1", "a", first, t0.Add(sec(18))); len(acts) != 1 {
		t.Fatalf("a stale answer after the connect gave %v, want one cancel", render(acts))
	}
}

// TestNotRungIsNoNoAnswer: a ring that never reached Asterisk frees the
// operator without counting a no-answer (no auto-pause); the call is
// offered again once the operator has rested NotRungRest (rung again at
// once, a ring that cannot be sent would loop as fast as it fails).
func TestNotRungIsNoNoAnswer(t *testing.T) {
	c := setup(t, map[string]ClientSettings{"A": {AutoPauseAfter: 1}}, []opSpec{{id: "a", skills: all(1)}})
	runSteps(t, c, []step{
		{0, enq("c1", "A"), ringing("c1", "a")},
		{sec(2), failed("c1", "a", NotRung), one("op a ringing>available not-rung")},
		{sec(2) + NotRungRest - time.Millisecond, tick, nil},
		{sec(2) + NotRungRest, tick, ringing("c1", "a")},
	})
	if op := c.ops["a"]; op.noAnswers != 0 || op.state != Ringing {
		t.Fatalf("after a ring that was not sent: %s with %d no-answers", op.state, op.noAnswers)
	}
}

// TestHoldUntilEveryCallIsBack: while held (a restart re-adopting calls),
// nobody is rung, whatever comes back in line first; each Hold needs its
// Release, and the last one rings the oldest caller.
func TestHoldUntilEveryCallIsBack(t *testing.T) {
	c := setup(t, map[string]ClientSettings{"A": {}}, []opSpec{{id: "a", skills: all(1)}})
	hold := func(c *Core, now time.Time) []Action { c.Hold(); return nil }
	release := func(c *Core, now time.Time) []Action { return c.Release(now) }
	runSteps(t, c, []step{
		{0, hold, nil},
		{0, hold, nil},
		{sec(1), enqAt("newer", "A", -sec(10)), nil},
		{sec(1), enqAt("oldest", "A", -sec(20)), nil},
		{sec(2), release, nil},
		{sec(2), release, ringing("oldest", "a")},
		{sec(3), release, nil}, // one too many: no harm
	})
}

// TestOperatorRemovedAndAddedMidCall: a reload removes an operator while
// they talk, a second one adds them back. They are on their call again (as
// after a restart's Occupy): not rung for the next caller while talking,
// and rung for them once the call ends and the leg they answered is gone
// (the caller hung up first: its hang-up follows the end).
func TestOperatorRemovedAndAddedMidCall(t *testing.T) {
	c := setup(t, map[string]ClientSettings{"A": {}}, []opSpec{{id: "a", skills: all(1)}})
	rings := func(acts []Action) []string {
		var out []string
		for _, a := range acts {
			if r, ok := a.(Ring); ok {
				out = append(out, r.CallID+">"+r.OpID)
			}
		}
		return out
	}
	at := func(s int) time.Time { return t0.Add(sec(s)) }
	if got := rings(c.Enqueue(Call{ID: "c1", ClientID: "A"}, at(0))); !slices.Equal(got, []string{"c1>a"}) {
		t.Fatalf("rings %v", got)
	}
	c.RingAnswered("c1", "a", c.latestRing("a"), at(1))
	c.RemoveOperator("a", at(2))
	c.UpsertOperator(Operator{ID: "a", Skills: all(1)}, at(3))
	c.SetReachable("a", true, at(3))
	c.SetAvailable("a", at(3))
	if got := rings(c.Enqueue(Call{ID: "c2", ClientID: "A"}, at(4))); len(got) != 0 {
		t.Fatalf("an operator still talking was rung: %v", got)
	}
	if op := c.ops["a"]; op.state != OnCall || op.callID != "c1" {
		t.Fatalf("operator a is %s on %q, want on call c1", op.state, op.callID)
	}
	checkConsistent(t, c, at(4))
	if got := rings(c.CallEnded("c1", at(5))); len(got) != 0 {
		t.Fatalf("after the call ended, its leg still up: rings %v", got)
	}
	checkConsistent(t, c, at(5))
	if got := rings(c.RingLegGone("c1", "a", 1, at(5))); !slices.Equal(got, []string{"c2>a"}) {
		t.Fatalf("after the leg is gone: rings %v, want c2 to a", got)
	}
	checkConsistent(t, c, at(5))
}

// TestSettingsChangedReachesWaitingCallers: a reload that sets, shortens or
// removes a client's maximum wait, or sets an announcement period, applies
// to the callers already waiting (no operator is free: they wait).
func TestSettingsChangedReachesWaitingCallers(t *testing.T) {
	clients := map[string]ClientSettings{"A": {}, "B": {MaxWait: time.Minute}, "gone": {MaxWait: 50 * time.Second}}
	configured := func(id string) bool { _, ok := clients[id]; return ok }
	c := setup(t, clients, nil)
	at := func(s int) time.Time { return t0.Add(sec(s)) }
	kinds := func(acts []Action) []string {
		var out []string
		for _, a := range acts {
			switch a := a.(type) {
			case Overflow:
				out = append(out, "overflow "+a.CallID)
			case Announce:
				out = append(out, "announce "+a.CallID)
			}
		}
		slices.Sort(out)
		return out
	}
	c.Enqueue(Call{ID: "a1", ClientID: "A"}, at(0))
	c.Enqueue(Call{ID: "b1", ClientID: "B"}, at(0))
	c.Enqueue(Call{ID: "g1", ClientID: "gone"}, at(0))
	// A gets a maximum wait of 30 s (a1 has waited 20 s) and announcements
	// every 5 s; B's maximum wait is removed; client "gone" is removed:
	// its caller keeps the maximum wait they had.
	clients["A"] = ClientSettings{MaxWait: 30 * time.Second, AnnouncePeriod: 5 * time.Second}
	clients["B"] = ClientSettings{}
	delete(clients, "gone")
	if got := kinds(c.SettingsChanged(at(20), configured)); len(got) != 0 {
		t.Fatalf("at the reload: %v", got)
	}
	checkConsistent(t, c, at(20))
	if got := kinds(c.Tick(at(25))); !slices.Equal(got, []string{"announce a1"}) {
		t.Fatalf("one new period after the reload: %v", got)
	}
	if got := kinds(c.Tick(at(29))); len(got) != 0 {
		t.Fatalf("before the new limits: %v", got)
	}
	if got := kinds(c.Tick(at(30))); !slices.Equal(got, []string{"overflow a1"}) {
		t.Fatalf("at a1's new maximum wait: %v", got)
	}
	if got := kinds(c.Tick(at(50))); !slices.Equal(got, []string{"overflow g1"}) {
		t.Fatalf("the caller of the removed client at their maximum wait: %v", got)
	}
	if got := kinds(c.Tick(at(120))); len(got) != 0 {
		t.Fatalf("b1, whose maximum wait was removed: %v", got)
	}
	// A shorter maximum wait that has already passed overflows at once.
	c.Enqueue(Call{ID: "b2", ClientID: "B"}, at(120))
	clients["B"] = ClientSettings{MaxWait: 10 * time.Second, AnnouncePeriod: 15 * time.Second}
	c.SettingsChanged(at(140), configured)
	if got := kinds(c.Tick(at(140))); !slices.Equal(got, []string{"overflow b1", "overflow b2"}) {
		t.Fatalf("after a maximum wait shorter than the wait: %v", got)
	}
	checkConsistent(t, c, at(140))
}

// TestWaitFromStartsTheMaximumWait: a VIP back from a warm transfer the
// client did not take is queued at their place (EnqueuedAt, before the
// maximum wait's length ago) with the maximum wait counted from their
// return (WaitFrom): not overflowed at once, served before later
// callers, overflowed a maximum wait after the return; a reload keeps it.
func TestWaitFromStartsTheMaximumWait(t *testing.T) {
	clients := map[string]ClientSettings{"A": {MaxWait: 30 * time.Second}}
	c := setup(t, clients, nil)
	at := func(s int) time.Time { return t0.Add(sec(s)) }
	overflows := func(acts []Action) []string {
		var out []string
		for _, a := range acts {
			if o, ok := a.(Overflow); ok {
				out = append(out, o.CallID)
			}
		}
		return out
	}
	c.Enqueue(Call{ID: "later", ClientID: "A"}, at(35))
	if got := overflows(c.Enqueue(Call{ID: "vip", ClientID: "A", VIP: true, EnqueuedAt: at(0), WaitFrom: at(40)}, at(40))); len(got) != 0 {
		t.Fatalf("back from the transfer: overflowed %v at once", got)
	}
	if got := overflows(c.Enqueue(Call{ID: "plain", ClientID: "A", EnqueuedAt: at(0)}, at(40))); !slices.Equal(got, []string{"plain"}) {
		t.Fatalf("a caller queued 40 s ago without WaitFrom: overflows %v, want it at once", got)
	}
	if got := c.Snapshot(at(40)); len(got.Clients) != 1 || len(got.Clients[0].Waiting) != 2 || got.Clients[0].Waiting[0].CallID != "vip" {
		t.Fatalf("queue %+v, want the VIP first", got.Clients)
	}
	c.SettingsChanged(at(50), func(string) bool { return true })
	if got := overflows(c.Tick(at(69))); !slices.Equal(got, []string{"later"}) {
		t.Fatalf("at 69 s (the later caller's maximum wait, not yet the VIP's): %v", got)
	}
	if got := overflows(c.Tick(at(70))); !slices.Equal(got, []string{"vip"}) {
		t.Fatalf("30 s after the return: overflows %v, want the VIP", got)
	}
	checkConsistent(t, c, at(70))
}
