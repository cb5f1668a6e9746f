package acd

import (
	"testing"
	"time"
)

// TestGivenUpRingWaitsForItsLeg: an operator whose ring the core gave up
// (timed out, answered elsewhere, the caller gone, the operator paused)
// is not rung again until the call reports that leg gone (RingLegGone),
// or LegGoneWait has passed: rung again in the same step, the new ring's
// originate reached the phone while the old leg's hang-up was on its way,
// and a phone without call waiting refused it (486): a no-answer the
// operator never earned, and a rest. So is an operator whose call ended,
// whatever their wrap-up: when the caller hangs up first, the call ends
// before toritsugi's hang-up of the operator's leg.
func TestGivenUpRingWaitsForItsLeg(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		clients map[string]ClientSettings
		ops     []opSpec
		steps   []step
	}{
		{
			name:    "a ring timed out: the operator is rung again once its leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(15), tick, one("cancel c1 a timeout", "op a ringing>available no-answer")},
				{sec(15) + 10*ms, enq("c2", "A"), nil},
				{sec(15) + 40*ms, legGone("c1", "a"), ringing("c1", "a")},
			},
		},
		{
			name:    "a ring timed out: without the report, rung again after LegGoneWait",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(15), tick, one("cancel c1 a timeout", "op a ringing>available no-answer")},
				{sec(15) + LegGoneWait - ms, tick, nil},
				{sec(15) + LegGoneWait, tick, ringing("c1", "a")},
				// The report, late, changes nothing.
				{sec(18), legGoneRing("c1", "a", 1), nil},
			},
		},
		{
			// The reviewer's case: ring-all, b loses to a; b was rung
			// for c2 in the same step, before its phone was free.
			name:    "ring all: the loser rings for the next caller once its leg is gone",
			clients: map[string]ClientSettings{"A": {Strategy: RingAll}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), cat(ringing("c1", "a"), ringing("c1", "b"))},
				{sec(1), enq("c2", "A"), nil},
				{sec(3), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a",
					"cancel c1 b answered-elsewhere", "op b ringing>available answered-elsewhere")},
				// Another ring's leg, or a stale report, frees nobody.
				{sec(3), legGoneRing("c1", "b", 1), nil},
				{sec(3) + 30*ms, legGone("c1", "b"), ringing("c2", "b")},
			},
		},
		{
			name:    "the caller hung up while ringing: the operator waits for the leg",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), enq("c2", "A"), nil},
				{sec(2), abandon("c1"), one("cancel c1 a abandoned", "op a ringing>available abandoned")},
				{sec(2) + 20*ms, legGone("c1", "a"), ringing("c2", "a")},
			},
		},
		{
			// 離席 pressed while ringing, 受付可 at once: the phone still
			// rings the old leg.
			name:    "paused while ringing and back at once: rung once the leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), pause("a", "break"), one("cancel c1 a break", "op a ringing>paused break")},
				{sec(1) + 100*ms, avail("a"), one("op a paused>available available")},
				{sec(1) + 200*ms, legGone("c1", "a"), ringing("c1", "a")},
			},
		},
		{
			// The benchmark's path, with a 0 s wrap-up: the caller hung
			// up first, the operator is free at once while toritsugi's
			// hang-up of their leg is on its way.
			name:    "the caller left during the talk, no wrap-up: rung once the answered leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>available call-ended")},
				{sec(9) + 3*ms, legGoneRing("c1", "a", 1), ringing("c2", "a")},
			},
		},
		{
			name:    "the caller left during the talk, no wrap-up: without the report, rung after LegGoneWait",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>available call-ended")},
				{sec(9) + LegGoneWait - ms, tick, nil},
				{sec(9) + LegGoneWait, tick, ringing("c2", "a")},
			},
		},
		{
			// A wrap-up shorter than the leg's hang-up: the same race.
			name:    "a wrap-up shorter than the hang-up: rung once the leg is gone",
			clients: map[string]ClientSettings{"A": {WrapUp: 100 * ms}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(9) + 100*ms, tick, one("op a wrap-up>available wrap-up-end")},
				{sec(9) + 300*ms, legGone("c1", "a"), ringing("c2", "a")},
			},
		},
		{
			// The leg gone during a longer wrap-up: its end rings them.
			name:    "a leg gone during the wrap-up: rung as the wrap-up ends",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(5)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(9) + 20*ms, legGone("c1", "a"), nil},
				{sec(14), tick, cat(one("op a wrap-up>available wrap-up-end"), ringing("c2", "a"))},
			},
		},
		{
			// Ended by the operator's hang-up: the call reports the leg
			// gone right after the end, and a wrap-up ended early by
			// the console does not skip the wait.
			name:    "a wrap-up ended early still waits for the leg",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(9) + 10*ms, endWrap("a"), one("op a wrap-up>available wrap-up-ended")},
				{sec(9) + 50*ms, legGone("c1", "a"), ringing("c2", "a")},
			},
		},
		{
			// The caller hung up during the whisper: the operator is
			// free at once, with the leg they answered still up.
			name:    "the caller left during the whisper: rung once the answered leg is gone",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(3), endedBeforeTalk("c1"), one("op a on-call>available call-ended-before-talk")},
				{sec(3) + LegGoneWait - ms, tick, nil},
				{sec(3) + LegGoneWait - ms, legGoneRing("c1", "a", 1), ringing("c2", "a")},
			},
		},
		{
			name:    "the caller left during the whisper: without the report, rung after LegGoneWait",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(3), endedBeforeTalk("c1"), one("op a on-call>available call-ended-before-talk")},
				{sec(3) + LegGoneWait - ms, tick, nil},
				{sec(3) + LegGoneWait, tick, ringing("c2", "a")},
			},
		},
		{
			// The caller left as the operator picked up (Abandon of a
			// connected call): the same.
			name:    "the caller left as the operator answered: rung once the answered leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), enq("c2", "A"), nil},
				{sec(2), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), abandon("c1"), one("op a on-call>available call-ended-before-talk")},
				{sec(3), tick, nil},
				{sec(3), legGone("c1", "a"), ringing("c2", "a")},
			},
		},
		{
			// The phone refused the ring itself (its leg is gone): the
			// rest applies, no leg is waited for.
			name:    "a refused ring waits for no leg",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), failed("c1", "a", Busy), one("op a ringing>available busy")},
				{sec(1) + BusyRest, tick, ringing("c1", "a")},
			},
		},
		{
			// The leg's end was never reported, and the ring sent after
			// LegGoneWait is refused at once: perhaps for that leg, so
			// it is no no-answer (no auto-pause); it rests as any
			// refusal.
			name:    "a refusal of a ring sent over a leg not reported gone is no no-answer",
			clients: map[string]ClientSettings{"A": {AutoPauseAfter: 2}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(15), tick, one("cancel c1 a timeout", "op a ringing>available no-answer")},
				{sec(15) + LegGoneWait, tick, ringing("c1", "a")},
				{sec(15) + LegGoneWait + 50*ms, failed("c1", "a", Busy), one("op a ringing>available busy")},
				{sec(15) + LegGoneWait + 50*ms + BusyRest, tick, ringing("c1", "a")},
				// A refusal of a ring sent with the phone free counts.
				{sec(25), failed("c1", "a", Busy), one("op a ringing>paused no-answer")},
			},
		},
		{
			// The marker of a leg never reported gone lasts only a while
			// past the bound: a ring an hour later finds a free phone, and
			// its refusal (do-not-disturb) is a no-answer as any.
			name:    "a refusal long after an unreported leg counts",
			clients: map[string]ClientSettings{"A": {Strategy: RingAll, AutoPauseAfter: 1}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), cat(ringing("c1", "a"), ringing("c1", "b"))},
				{sec(1), answer("c1", "b"), one("op b ringing>on-call answered", "connect c1 b",
					"cancel c1 a answered-elsewhere", "op a ringing>available answered-elsewhere")},
				{sec(1) + LegGoneWait, tick, nil},
				{sec(3600), enq("c2", "A"), ringing("c2", "a")},
				{sec(3601), failed("c2", "a", Busy), one("op a ringing>paused no-answer")},
			},
		},
		{
			name:    "a refusal just past the bound of an unreported leg is no no-answer",
			clients: map[string]ClientSettings{"A": {Strategy: RingAll, AutoPauseAfter: 1}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), cat(ringing("c1", "a"), ringing("c1", "b"))},
				{sec(1), answer("c1", "b"), one("op b ringing>on-call answered", "connect c1 b",
					"cancel c1 a answered-elsewhere", "op a ringing>available answered-elsewhere")},
				{sec(1) + LegGoneWait, tick, nil},
				{sec(1) + LegGoneWait + ms, enq("c2", "A"), ringing("c2", "a")},
				{sec(4), failed("c2", "a", Busy), one("op a ringing>available busy")},
			},
		},
		{
			// The loser of a ring-all picks up after the bound passed
			// (the hang-up slow to reach the phone): that leg, hung up
			// as stale, is waited for again.
			name:    "a stale answer's leg is waited for",
			clients: map[string]ClientSettings{"A": {Strategy: RingAll}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), cat(ringing("c1", "a"), ringing("c1", "b"))},
				{sec(1), answer("c1", "b"), one("op b ringing>on-call answered", "connect c1 b",
					"cancel c1 a answered-elsewhere", "op a ringing>available answered-elsewhere")},
				{sec(1) + LegGoneWait, tick, nil},
				{sec(4), answerRing("c1", "a", 1), one("cancel c1 a stale")},
				{sec(4) + 10*ms, enq("c2", "A"), nil},
				{sec(4) + 50*ms, legGone("c1", "a"), ringing("c2", "a")},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := setup(t, tc.clients, tc.ops)
			runSteps(t, c, tc.steps)
		})
	}
}

// TestAwaitLeg: a leg of an operator's phone the core did not ring (one
// found ringing, or in the whisper, after a restart; the leg of a call
// re-adopted while connected) keeps the operator from being rung until
// it is reported gone, or LegGoneWait has passed: the new controller
// rang the phone while the old leg's hang-up was on its way.
func TestAwaitLeg(t *testing.T) {
	ms := time.Millisecond
	leg := ForeignLeg | 1
	awaitLeg := func(op string, seq uint64) input {
		return func(c *Core, now time.Time) []Action { return c.AwaitLeg(op, seq, now) }
	}
	tests := []struct {
		name    string
		clients map[string]ClientSettings
		ops     []opSpec
		steps   []step
	}{
		{
			// A restart: the fresh core has the operator offline until
			// their phone is read; the left-over leg is being hung up.
			name:    "after a restart: rung once the left-over leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1), offline: true}},
			steps: []step{
				{0, awaitLeg("a", leg), nil},
				{10 * ms, enq("c1", "A"), nil},
				{20 * ms, avail("a"), one("op a offline>available available")},
				// Another leg's report frees nobody.
				{30 * ms, legGoneRing("", "a", leg+1), nil},
				{40 * ms, legGoneRing("", "a", leg), ringing("c1", "a")},
			},
		},
		{
			name:    "after a restart: without the report, rung after LegGoneWait",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, awaitLeg("a", leg), nil},
				{10 * ms, enq("c1", "A"), nil},
				{LegGoneWait - ms, tick, nil},
				{LegGoneWait, tick, ringing("c1", "a")},
			},
		},
		{
			// The leg's end never reported, the ring over it refused at
			// once: perhaps for that leg, no no-answer.
			name:    "a refusal of a ring sent over an unreported left-over leg is no no-answer",
			clients: map[string]ClientSettings{"A": {AutoPauseAfter: 1}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, awaitLeg("a", leg), nil},
				{10 * ms, enq("c1", "A"), nil},
				{LegGoneWait, tick, ringing("c1", "a")},
				{LegGoneWait + 50*ms, failed("c1", "a", Busy), one("op a ringing>available busy")},
			},
		},
		{
			// A call re-adopted while connected: the core never rang
			// its leg, so the call names it.
			name:    "a call re-adopted connected: rung once its leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, occupy("c1", "A", "a"), one("op a available>on-call re-adopted")},
				{sec(1), enq("c2", "A"), nil},
				{sec(5), awaitLeg("a", leg), nil},
				{sec(5), ended("c1"), one("op a on-call>available call-ended")},
				{sec(5) + 10*ms, legGoneRing("c1", "a", leg), ringing("c2", "a")},
			},
		},
		{
			// A ring in progress has met the phone as it is: it goes on,
			// and its end (here a no-answer) frees the operator as usual.
			name:    "an operator ringing already is not held by a left-over leg",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{10 * ms, awaitLeg("a", leg), nil},
				{sec(1), failed("c1", "a", NoAnswer), cat(one("op a ringing>available no-answer"), ringing("c1", "a"))},
			},
		},
		{
			name:    "an unknown operator or leg 0 is ignored",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, awaitLeg("x", leg), nil},
				{0, awaitLeg("a", 0), nil},
				{10 * ms, enq("c1", "A"), ringing("c1", "a")},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := setup(t, tc.clients, tc.ops)
			runSteps(t, c, tc.steps)
		})
	}
}

// TestLegWaitOverReload: an operator a reload removes and adds back
// keeps the wait for their leg. The fresh record knew nothing of it:
// put back on a call they answered (the caller hanging up first), or
// added back within LegGoneWait of a call's end or of a ring the removal
// gave up, they were rung at once while the old leg was still up, and a
// phone without call waiting refused it (486, a no-answer).
func TestLegWaitOverReload(t *testing.T) {
	ms := time.Millisecond
	back := func(op string) input { // the reload adds them back, the phone is read
		return func(c *Core, now time.Time) []Action {
			out := c.UpsertOperator(Operator{ID: op, Skills: all(1)}, now)
			out = append(out, c.SetReachable(op, true, now)...)
			return append(out, c.SetAvailable(op, now)...)
		}
	}
	tests := []struct {
		name    string
		clients map[string]ClientSettings
		ops     []opSpec
		steps   []step
	}{
		{
			name:    "removed and added back while talking, the caller leaves first: rung once the leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), remove("a"), one("op a on-call>offline removed")},
				{sec(3), upsert("a"), one("op a offline>on-call re-adopted")},
				{sec(3), reach("a", true), nil},
				{sec(4), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>available call-ended")},
				// The answer of the ring they were put back on is a
				// duplicate, not a stray.
				{sec(9) + ms, legGoneRing("c1", "a", 2), nil},
				{sec(9) + 3*ms, legGoneRing("c1", "a", 1), ringing("c2", "a")},
			},
		},
		{
			name:    "removed and added back while talking: the duplicate answer of their ring is ignored",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), remove("a"), one("op a on-call>offline removed")},
				{sec(3), upsert("a"), one("op a offline>on-call re-adopted")},
				{sec(4), answerRing("c1", "a", 1), nil},
			},
		},
		{
			name:    "removed and added back within LegGoneWait of the call's end: rung once the leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>available call-ended")},
				{sec(9) + 100*ms, remove("a"), one("op a available>offline removed")},
				{sec(9) + 200*ms, back("a"), one("op a offline>available available")},
				{sec(9) + 300*ms, legGoneRing("c1", "a", 1), ringing("c2", "a")},
			},
		},
		{
			name:    "removed and added back within LegGoneWait of the call's end: without the report, rung when it passes",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>available call-ended")},
				{sec(9) + 100*ms, remove("a"), one("op a available>offline removed")},
				{sec(9) + 200*ms, back("a"), one("op a offline>available available")},
				{sec(9) + LegGoneWait - ms, tick, nil},
				{sec(9) + LegGoneWait, tick, ringing("c2", "a")},
			},
		},
		{
			name:    "the caller leaves while the operator is removed: rung, once added back, when the leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(3), remove("a"), one("op a on-call>offline removed")},
				{sec(4), ended("c1"), nil},
				{sec(4) + 100*ms, back("a"), one("op a offline>available available")},
				{sec(4) + 200*ms, legGoneRing("c1", "a", 1), ringing("c2", "a")},
			},
		},
		{
			name:    "removed while ringing and added back at once: rung once the ring's leg is gone",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), remove("a"), one("cancel c1 a removed", "op a ringing>offline removed")},
				{sec(1) + 100*ms, back("a"), one("op a offline>available available")},
				{sec(1) + 200*ms, legGoneRing("c1", "a", 1), ringing("c1", "a")},
			},
		},
		{
			name:    "the leg reported gone while the operator is removed: rung as soon as added back",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>available call-ended")},
				{sec(9) + 100*ms, remove("a"), one("op a available>offline removed")},
				{sec(9) + 150*ms, legGoneRing("c1", "a", 2), nil}, // another leg
				{sec(9) + 200*ms, legGoneRing("c1", "a", 1), nil},
				{sec(9) + 300*ms, back("a"), cat(one("op a offline>available available"), ringing("c2", "a"))},
			},
		},
		{
			// The wait ran out while they were removed: rung at once,
			// but a refusal soon after may be the unreported leg's.
			name:    "the wait passed while removed: rung at once, a refusal just after is no no-answer",
			clients: map[string]ClientSettings{"A": {AutoPauseAfter: 1}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>available call-ended")},
				{sec(9) + 100*ms, remove("a"), one("op a available>offline removed")},
				{sec(9) + LegGoneWait + 100*ms, back("a"), cat(one("op a offline>available available"), ringing("c2", "a"))},
				{sec(9) + LegGoneWait + 200*ms, failed("c2", "a", Busy), one("op a ringing>available busy")},
			},
		},
		{
			name:    "added back long after: rung at once, a refusal counts",
			clients: map[string]ClientSettings{"A": {AutoPauseAfter: 1}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(9), ended("c1"), one("op a on-call>available call-ended")},
				{sec(9) + 100*ms, remove("a"), one("op a available>offline removed")},
				{sec(60), back("a"), cat(one("op a offline>available available"), ringing("c2", "a"))},
				{sec(61), failed("c2", "a", Busy), one("op a ringing>paused no-answer")},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := setup(t, tc.clients, tc.ops)
			runSteps(t, c, tc.steps)
		})
	}
}
