package acd

import (
	"testing"
	"time"
)

func TestRules(t *testing.T) {
	plain := map[string]ClientSettings{"A": {}, "B": {}}
	tests := []struct {
		name    string
		clients map[string]ClientSettings
		ops     []opSpec
		steps   []step
	}{
		{
			name:    "longest idle ties broken by id",
			clients: plain,
			ops:     []opSpec{{id: "b", skills: all(1)}, {id: "a", skills: all(1)}},
			steps:   []step{{0, enq("c1", "A"), ringing("c1", "a")}},
		},
		{
			name:    "longest idle picks the earliest idle",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1), availAt: sec(5)}, {id: "b", skills: all(1)}},
			steps:   []step{{sec(10), enq("c1", "A"), ringing("c1", "b")}},
		},
		{
			name:    "round robin rotates by id",
			clients: map[string]ClientSettings{"A": {Strategy: RoundRobin}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1)}, {id: "c", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{1, answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{2, ended("c1"), one("op a on-call>available call-ended")},
				{2, legGone("c1", "a"), nil},
				{3, enq("c2", "A"), ringing("c2", "b")},
				{4, answer("c2", "b"), one("op b ringing>on-call answered", "connect c2 b")},
				{5, ended("c2"), one("op b on-call>available call-ended")},
				{5, legGone("c2", "b"), nil},
				{6, enq("c3", "A"), ringing("c3", "c")},
				{7, abandon("c3"), one("cancel c3 c abandoned", "op c ringing>available abandoned")},
				{8, enq("c4", "A"), ringing("c4", "a")},
			},
		},
		{
			name:    "ring all rings every eligible operator and cancels losers",
			clients: map[string]ClientSettings{"A": {Strategy: RingAll}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1)}, {id: "c", skills: map[string]int{"B": 1}}},
			steps: []step{
				{0, enq("c1", "A"), cat(ringing("c1", "a"), ringing("c1", "b"))},
				{sec(3), answer("c1", "b"), one("op b ringing>on-call answered", "connect c1 b",
					"cancel c1 a answered-elsewhere", "op a ringing>available answered-elsewhere")},
			},
		},
		{
			// Lower tiers are preferred, as by the other strategies: a
			// backup operator rings only when no primary one is free.
			name:    "ring all rings the lowest tier with free operators",
			clients: map[string]ClientSettings{"A": {Strategy: RingAll}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1)}, {id: "sup", skills: all(2)}},
			steps: []step{
				{0, enq("c1", "A"), cat(ringing("c1", "a"), ringing("c1", "b"))},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a",
					"cancel c1 b answered-elsewhere", "op b ringing>available answered-elsewhere")},
				{sec(1), legGone("c1", "b"), nil},
				{sec(2), enq("c2", "A"), ringing("c2", "b")},
				{sec(3), enq("c3", "A"), ringing("c3", "sup")},
			},
		},
		{
			// The primary is registered but away: once it was rung for
			// this call, the backup rings with it.
			name:    "ring all rings the backups with a primary that did not answer",
			clients: map[string]ClientSettings{"A": {Strategy: RingAll}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "sup", skills: all(2)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				// a again once the phone has let go of the leg given up.
				{sec(15), tick, cat(one("cancel c1 a timeout", "op a ringing>available no-answer"), ringing("c1", "sup"))},
				{sec(15) + 50*time.Millisecond, legGone("c1", "a"), ringing("c1", "a")},
			},
		},
		{
			// One primary declines at once, the other rings to its
			// timeout: out of step, the backup still joins once both
			// were rung.
			name:    "ring all widens to the backups with the primaries' rings out of step",
			clients: map[string]ClientSettings{"A": {Strategy: RingAll}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1)}, {id: "sup", skills: all(2)}},
			steps: []step{
				{0, enq("c1", "A"), cat(ringing("c1", "a"), ringing("c1", "b"))},
				{sec(1), failed("c1", "a", Busy), one("op a ringing>available busy")},
				{sec(1) + BusyRest, tick, ringing("c1", "a")},
				{sec(15), tick, cat(one("cancel c1 b timeout", "op b ringing>available no-answer"), ringing("c1", "sup"))},
				// Its end never reported: b rings again after LegGoneWait.
				{sec(15) + LegGoneWait - 1, tick, nil},
				{sec(15) + LegGoneWait, tick, ringing("c1", "b")},
			},
		},
		{
			name:    "ring all: an operator who becomes available joins the ring",
			clients: map[string]ClientSettings{"A": {Strategy: RingAll}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1), paused: "lunch"}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), avail("b"), cat(one("op b paused>available available"), ringing("c1", "b"))},
				// Ring-all keeps every eligible idle operator ringing; one
				// who declined rings again once rested.
				{sec(2), failed("c1", "a", Busy), one("op a ringing>available busy")},
				{sec(2) + BusyRest, tick, ringing("c1", "a")},
				{sec(8), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a",
					"cancel c1 b answered-elsewhere", "op b ringing>available answered-elsewhere")},
			},
		},
		{
			name:    "ring timeout moves to the next operator, then retries",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(14), tick, nil},
				{sec(15), tick, cat(one("cancel c1 a timeout", "op a ringing>available no-answer"), ringing("c1", "b"))},
				{sec(30), tick, cat(one("cancel c1 b timeout", "op b ringing>available no-answer"), ringing("c1", "a"))},
			},
		},
		{
			// A phone on do-not-disturb refuses every ring at once: with
			// auto-pause off it was rung in a loop as fast as it
			// refused. It rests BusyRest after each refusal, for every
			// caller; another operator is rung meanwhile.
			name:    "a refused ring rests the operator",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1), paused: "lunch"}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), failed("c1", "a", Busy), one("op a ringing>available busy")},
				{sec(2), enq("c2", "A"), nil},
				{sec(1) + BusyRest - time.Millisecond, tick, nil},
				{sec(1) + BusyRest, tick, ringing("c1", "a")},
				{sec(7), avail("b"), cat(one("op b paused>available available"), ringing("c2", "b"))},
			},
		},
		{
			name:    "refusals count towards auto-pause",
			clients: map[string]ClientSettings{"A": {AutoPauseAfter: 2}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), failed("c1", "a", Busy), one("op a ringing>available busy")},
				{sec(1) + BusyRest, tick, ringing("c1", "a")},
				{sec(7), failed("c1", "a", Busy), one("op a ringing>paused no-answer")},
				{sec(7) + BusyRest, tick, nil},
			},
		},
		{
			// The operator calls a customer back from their phone: not
			// rung while that call lasts, rung for the caller waiting
			// once it ends. Another operator is rung meanwhile.
			name:    "an operator on another call is not rung",
			clients: map[string]ClientSettings{"A": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1), paused: "lunch"}},
			steps: []step{
				{0, otherCall("a", true), nil},
				{sec(1), enq("c1", "A"), nil},
				{sec(2), enq("c2", "A"), nil},
				{sec(3), avail("b"), cat(one("op b paused>available available"), ringing("c1", "b"))},
				{sec(4), otherCall("a", false), ringing("c2", "a")},
				// A call placed while rung goes on ringing.
				{sec(5), otherCall("a", true), nil},
				{sec(6), answer("c2", "a"), one("op a ringing>on-call answered", "connect c2 a")},
			},
		},
		{
			name:    "consecutive no-answers auto-pause the operator",
			clients: map[string]ClientSettings{"A": {AutoPauseAfter: 2}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(5), failed("c1", "a", NoAnswer), cat(one("op a ringing>available no-answer"), ringing("c1", "a"))},
				{sec(20), tick, one("cancel c1 a timeout", "op a ringing>paused no-answer")},
				{sec(21), legGone("c1", "a"), nil},
				{sec(30), avail("a"), cat(one("op a paused>available available"), ringing("c1", "a"))},
				{sec(31), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
			},
		},
		{
			name:    "wrap-up then available, next caller rings",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(60), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(89), tick, nil},
				{sec(90), tick, cat(one("op a wrap-up>available wrap-up-end"), ringing("c2", "a"))},
			},
		},
		{
			// The caller hung up during the whisper: nothing to wrap up.
			// Rung again once the leg they answered is gone
			// (TestGivenUpRingWaitsForItsLeg).
			name:    "a call that ends before the talk frees its operator at once",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), enq("c2", "A"), nil},
				{sec(3), endedBeforeTalk("c1"), one("op a on-call>available call-ended-before-talk")},
				{sec(3), legGone("c1", "a"), ringing("c2", "a")},
			},
		},
		{
			// The caller hung up as the operator answered: the call
			// left the queue before it heard of the connect, so it says
			// abandoned; it was never put through either.
			name:    "a call abandoned as its operator answers frees the operator at once",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(1), abandon("c1"), one("op a on-call>available call-ended-before-talk")},
			},
		},
		{
			// 後処理延長 while held gives up the hold: the console reading
			// the state again (a reconnect, a second tab) holds nothing.
			name:    "a hold given up for more time is not taken again",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(40), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(50), extWrap("a", sec(60)), one("op a wrap-up>wrap-up wrap-up-extended")},
				{sec(55), hold("a", "c1"), nil},
				{sec(109), tick, nil},
				{sec(110), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			name:    "an unsaved message holds wrap-up until it is saved",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(5), enq("c2", "A"), nil},
				{sec(60), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(90), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(100), saved("a", "c1"), cat(one("op a wrap-up>available message-saved"), ringing("c2", "a"))},
			},
		},
		{
			name:    "a message saved within wrap-up: wrap-up runs its course",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(60), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(70), saved("a", "c1"), one("op a wrap-up>wrap-up wrap-up-released")},
				{sec(89), tick, nil},
				{sec(90), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			// The console read the call unsaved (its 5 s state read), the
			// message was saved during the call, then that read's hold
			// arrived: the message is saved, nothing is held for it.
			name:    "a hold that comes after the message was saved during the call holds nothing",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(20), saved("a", "c1"), nil},
				{sec(20), hold("a", "c1"), nil},
				{sec(60), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(61), hold("a", "c1"), nil},
				{sec(89), tick, nil},
				{sec(90), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			// The same in wrap-up, and for a call marked as needing no
			// message (記録) before any hold reached the queue.
			name:    "a hold that comes after the message was saved in wrap-up holds nothing",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(20), saved("a", "c1"), one("op a wrap-up>wrap-up wrap-up-released")},
				{sec(21), hold("a", "c1"), nil},
				{sec(40), tick, one("op a wrap-up>available wrap-up-end")},
				{sec(41), enq("c2", "A"), ringing("c2", "a")},
				{sec(42), answer("c2", "a"), one("op a ringing>on-call answered", "connect c2 a")},
				{sec(43), saved("a", "c2"), nil},
				{sec(44), hold("a", "c2"), nil},
				{sec(50), ended("c2"), one("op a on-call>wrap-up call-ended")},
				{sec(80), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			name:    "a held wrap-up ends at the hold's limit, or when the operator ends it",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(60), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(90), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(209), tick, nil},
				{sec(210), tick, one("op a wrap-up>available wrap-up-end")},
				{sec(211), enq("c2", "A"), ringing("c2", "a")},
				{sec(212), answer("c2", "a"), one("op a ringing>on-call answered", "connect c2 a")},
				{sec(213), hold("a", "c2"), nil},
				{sec(220), ended("c2"), one("op a on-call>wrap-up call-ended")},
				{sec(260), endWrap("a"), one("op a wrap-up>available wrap-up-ended")},
				{sec(261), saved("a", "c2"), nil},
			},
		},
		{
			name:    "no wrap-up configured: an unsaved message still holds the operator",
			clients: map[string]ClientSettings{"A": {WrapUpHold: sec(60)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up message-unsaved")},
				{sec(20), saved("a", "c1"), one("op a wrap-up>available message-saved")},
			},
		},
		{
			name:    "a hold for another call, or with holding off, changes nothing",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}, "B": {WrapUp: sec(30)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c9"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(40), tick, one("op a wrap-up>available wrap-up-end")},
				{sec(41), enq("c2", "B"), ringing("c2", "a")},
				{sec(42), answer("c2", "a"), one("op a ringing>on-call answered", "connect c2 a")},
				{sec(43), hold("a", "c2"), nil},
				{sec(50), ended("c2"), one("op a on-call>wrap-up call-ended")},
				{sec(80), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			name:    "a hold that comes during wrap-up (the console reconnected) counts",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(20), hold("a", "c1"), one("op a wrap-up>wrap-up wrap-up-held")},
				{sec(21), hold("a", "c1"), nil},
				{sec(40), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(159), tick, nil},
				{sec(160), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			name:    "held: extending asks for time from now, which saving no longer cuts",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(40), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(50), extWrap("a", sec(60)), one("op a wrap-up>wrap-up wrap-up-extended")},
				{sec(60), saved("a", "c1"), nil},
				{sec(109), tick, nil},
				{sec(110), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			name:    "held: a pause asked for on the call applies when the message is saved",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(5), pause("a", "lunch"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(40), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(50), saved("a", "c1"), one("op a wrap-up>paused lunch")},
			},
		},
		{
			name:    "held: a pause pressed during the hold applies at once",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(40), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(50), pause("a", "break"), one("op a wrap-up>paused break")},
				{sec(60), saved("a", "c1"), nil},
				{sec(300), tick, nil},
			},
		},
		{
			name:    "held: the operator removed by a reload",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(40), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(50), remove("a"), one("op a wrap-up>offline removed")},
				{sec(60), saved("a", "c1"), nil},
				{sec(300), tick, nil},
			},
		},
		{
			name:    "extend and end wrap-up",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(20), extWrap("a", sec(60)), one("op a wrap-up>wrap-up wrap-up-extended")},
				{sec(40), tick, nil},
				{sec(50), enq("c2", "A"), nil},
				{sec(60), endWrap("a"), cat(one("op a wrap-up>available wrap-up-ended"), ringing("c2", "a"))},
				{sec(100), tick, one("cancel c2 a timeout", "op a ringing>available no-answer")},
				{sec(101), legGone("c2", "a"), ringing("c2", "a")},
			},
		},
		{
			// app_queue's maxlen: a full line turns a new caller away at
			// once; a VIP, and a caller back in line (re-adopted, back
			// from a transfer), are not turned away; a place freed lets
			// the next one in.
			name:    "max callers: a new caller beyond them overflows at once",
			clients: map[string]ClientSettings{"A": {MaxCallers: 2}, "B": {}},
			ops:     []opSpec{{id: "a", skills: all(1), paused: "lunch"}},
			steps: []step{
				{0, enqNew("c1", "A", false), nil},
				{0, enqNew("c2", "A", false), nil},
				{sec(1), enqNew("c3", "A", false), one("overflow c3 queue-full")},
				{sec(1), enqNew("b1", "B", false), nil},
				{sec(2), enqNew("v1", "A", true), nil},
				{sec(2), enq("back", "A"), nil},
				{sec(3), abandon("c1"), nil},
				{sec(3), abandon("c2"), nil},
				{sec(4), enqNew("c4", "A", false), one("overflow c4 queue-full")},
				{sec(5), abandon("v1"), nil},
				{sec(6), enqNew("c5", "A", false), nil},
			},
		},
		{
			name:    "paused and offline operators are never rung",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1), paused: "lunch"}, {id: "b", skills: all(1), offline: true}},
			steps: []step{
				{0, enq("c1", "A"), nil},
				{sec(60), tick, nil},
				{sec(61), avail("b"), cat(one("op b offline>available available"), ringing("c1", "b"))},
			},
		},
		{
			name:    "unreachable operators are never rung until reachable again",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1), unreachd: true}},
			steps: []step{
				{0, enq("c1", "A"), nil},
				{sec(5), reach("a", true), ringing("c1", "a")},
				{sec(6), reach("a", false), one("cancel c1 a unreachable", "op a ringing>available unreachable")},
				{sec(6), legGone("c1", "a"), nil},
				{sec(7), reach("a", true), ringing("c1", "a")},
				{sec(8), failed("c1", "a", Unreachable), one("op a ringing>available unreachable")},
				{sec(9), tick, nil},
			},
		},
		{
			name:    "VIP callers first",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1), paused: "x"}},
			steps: []step{
				{0, enq("c1", "A"), nil},
				{sec(5), enqVIP("c2", "B"), nil},
				{sec(6), avail("a"), cat(one("op a paused>available available"), ringing("c2", "a"))},
			},
		},
		{
			name:    "oldest caller first across clients",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1), paused: "x"}},
			steps: []step{
				{0, enq("c1", "B"), nil},
				{sec(1), enq("c2", "A"), nil},
				{sec(6), avail("a"), cat(one("op a paused>available available"), ringing("c1", "a"))},
			},
		},
		{
			name:    "operators serve only their clients",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: map[string]int{"A": 1}, paused: "x"}},
			steps: []step{
				{0, enq("c1", "B"), nil},
				{sec(1), enq("c2", "A"), nil},
				{sec(6), avail("a"), cat(one("op a paused>available available"), ringing("c2", "a"))},
			},
		},
		{
			// The primary is busy (a call of their own): the backup
			// waits its turn (a primary away does not hold the wait:
			// TestEscalationSkipsATierNobodyIsIn).
			name:    "tier 2 becomes eligible after the escalation delay",
			clients: map[string]ClientSettings{"A": {EscalateAfter: sec(30)}},
			ops: []opSpec{
				{id: "a", skills: map[string]int{"A": 1}},
				{id: "b", skills: map[string]int{"A": 2}},
			},
			steps: []step{
				{0, otherCall("a", true), nil},
				{0, enq("c1", "A"), nil},
				{sec(29), tick, nil},
				{sec(30), tick, ringing("c1", "b")},
			},
		},
		{
			name:    "primary tier preferred over an idle backup",
			clients: plain,
			ops: []opSpec{
				{id: "a", skills: map[string]int{"A": 2}},
				{id: "b", skills: map[string]int{"A": 1, WildcardClient: 2}, availAt: sec(5)},
			},
			steps: []step{{sec(10), enq("c1", "A"), ringing("c1", "b")}},
		},
		{
			name:    "max wait overflows a waiting and a ringing call",
			clients: map[string]ClientSettings{"A": {MaxWait: sec(60), RingTimeout: sec(100)}},
			ops:     []opSpec{{id: "a", skills: all(1), paused: "x"}},
			steps: []step{
				{0, enq("c1", "A"), nil},
				{sec(10), enq("c2", "A"), nil},
				{sec(60), tick, one("overflow c1 max-wait")},
				{sec(61), avail("a"), cat(one("op a paused>available available"), ringing2("c2", "a", "1m40s"))},
				{sec(70), tick, one("cancel c2 a max-wait", "op a ringing>available max-wait", "overflow c2 max-wait")},
				{sec(80), enqAt("c0", "A", -sec(60)), one("overflow c0 max-wait")},
			},
		},
		{
			name:    "abandon while ringing cancels the ring and frees the operator",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), enq("c2", "A"), nil},
				{sec(2), abandon("c1"), one("cancel c1 a abandoned", "op a ringing>available abandoned")},
				// Picked up as the caller left: the stray leg is hung up,
				// and the operator rung once it is gone.
				{sec(3), answer("c1", "a"), one("cancel c1 a stale")},
				{sec(4), failed("c1", "a", NoAnswer), nil},
				{sec(4), legGone("c1", "a"), ringing("c2", "a")},
			},
		},
		{
			name:    "re-enqueue with the original time keeps the order",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1), paused: "x"}},
			steps: []step{
				{sec(10), enq("c2", "A"), nil},
				{sec(20), enqAt("c1", "A", 0), nil},
				{sec(20), enqAt("c1", "A", 0), nil},
				{sec(21), avail("a"), cat(one("op a paused>available available"), ringing("c1", "a"))},
			},
		},
		{
			name:    "pause on a call applies after wrap-up; available cancels it",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(10)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), pause("a", "lunch"), nil},
				{sec(3), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(13), tick, one("op a wrap-up>paused lunch")},
				{sec(14), pause("a", "meeting"), one("op a paused>paused meeting")},
			},
		},
		{
			name:    "pause while ringing hands the call to the next operator",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1), availAt: sec(1)}},
			steps: []step{
				{sec(2), enq("c1", "A"), ringing("c1", "a")},
				{sec(3), pause("a", "toilet"), cat(one("cancel c1 a toilet", "op a ringing>paused toilet"), ringing("c1", "b"))},
				{sec(4), remove("b"), one("cancel c1 b removed", "op b ringing>offline removed")},
			},
		},
		{
			name:    "announcements give position and the moving-average wait",
			clients: map[string]ClientSettings{"A": {AnnouncePeriod: sec(20)}},
			ops:     []opSpec{{id: "a", skills: all(1), paused: "x"}},
			steps: []step{
				{0, enq("c1", "A"), nil},
				{sec(1), enq("c2", "A"), nil},
				{sec(20), tick, one("announce c1 1 0s")},
				{sec(21), tick, one("announce c2 2 0s")},
				{sec(30), avail("a"), cat(one("op a paused>available available"), ringing("c1", "a"))},
				{sec(30), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(40), tick, nil},
				{sec(41), tick, one("announce c2 1 0s")}, // waited 40 s of a usual 30: none left
			},
		},
		{
			name:    "the expected wait announced is what is left of the usual wait",
			clients: map[string]ClientSettings{"A": {AnnouncePeriod: sec(20)}},
			ops:     []opSpec{{id: "a", skills: all(1), paused: "x"}},
			steps: []step{
				{0, enq("c1", "A"), nil},
				{sec(20), tick, one("announce c1 1 0s")},
				{sec(40), tick, one("announce c1 1 0s")},
				{sec(60), avail("a"), cat(one("op a paused>available available"), ringing("c1", "a"))},
				{sec(60), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")}, // waited 60 s
				{sec(61), enq("c2", "A"), nil},
				{sec(81), tick, one("announce c2 1 40s")},
				{sec(101), tick, one("announce c2 1 20s")},
				{sec(121), tick, one("announce c2 1 0s")},
			},
		},
		{
			// Callers are served in one order across clients: an older
			// caller of another client who shares this client's operator
			// is ahead, one whose operators do not serve this client is
			// not, and a VIP is ahead of everyone.
			name: "positions count the callers of other clients who share an operator",
			clients: map[string]ClientSettings{"A": {AnnouncePeriod: sec(20)}, "B": {AnnouncePeriod: sec(20)},
				"C": {AnnouncePeriod: sec(20)}},
			ops: []opSpec{
				{id: "a", skills: map[string]int{"A": 1, "B": 1}, paused: "x"},
				{id: "c", skills: map[string]int{"C": 1}, paused: "x"},
			},
			steps: []step{
				{0, enq("a1", "A"), nil},
				{0, enq("c1", "C"), nil},
				{sec(1), enq("a2", "A"), nil},
				{sec(2), enq("b1", "B"), nil},
				{sec(3), enqVIP("b2", "B"), nil},
				{sec(20), tick, one("announce a1 2 0s", "announce c1 1 0s")},
				{sec(21), tick, one("announce a2 3 0s")},
				{sec(22), tick, one("announce b1 4 0s")},
				{sec(23), tick, one("announce b2 1 0s")},
			},
		},
		{
			name:    "an operator who serves every client puts every older caller ahead",
			clients: map[string]ClientSettings{"A": {AnnouncePeriod: sec(20)}, "B": {AnnouncePeriod: sec(20)}},
			ops:     []opSpec{{id: "a", skills: all(1), paused: "x"}},
			steps: []step{
				{0, enq("a1", "A"), nil},
				{sec(1), enq("a2", "A"), nil},
				{sec(2), enq("b1", "B"), nil},
				{sec(20), tick, one("announce a1 1 0s")},
				{sec(21), tick, one("announce a2 2 0s")},
				{sec(22), tick, one("announce b1 3 0s")},
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

func ringing2(call, op, timeout string) []string {
	return []string{"op " + op + " available>ringing ring", "ring " + call + " " + op + " " + timeout}
}

func TestNextDeadline(t *testing.T) {
	c := New(settingsFrom(map[string]ClientSettings{"A": {MaxWait: sec(90), EscalateAfter: sec(30), AnnouncePeriod: sec(45)}}))
	if _, ok := c.NextDeadline(); ok {
		t.Fatal("empty core has a deadline")
	}
	c.UpsertOperator(Operator{ID: "b", Skills: map[string]int{"A": 2}}, t0)
	c.Enqueue(Call{ID: "c1", ClientID: "A"}, t0)
	for _, want := range []time.Duration{sec(30), sec(45), sec(90)} {
		got, ok := c.NextDeadline()
		if !ok || !got.Equal(t0.Add(want)) {
			t.Fatalf("next deadline %v %v, want +%s", got, ok, want)
		}
		c.Tick(got)
	}
	if d, ok := c.NextDeadline(); ok {
		t.Fatalf("deadline %v left after overflow", d)
	}
}

func TestStateText(t *testing.T) {
	for s := Offline; s <= Paused; s++ {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back State
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Fatalf("%s: round trip gave %v, %v", s, back, err)
		}
	}
	if _, err := ParseState("lunch"); err == nil {
		t.Fatal("unknown state parsed")
	}
	if _, err := State(99).MarshalText(); err == nil {
		t.Fatal("unknown state marshalled")
	}
}

// TestPendingPauseInTheSnapshot: a pause asked for on a call applies after
// its wrap-up; until then the snapshot says it is coming (the console
// showed nothing, and the operator pressed 離席 again and again).
func TestPendingPauseInTheSnapshot(t *testing.T) {
	c := setup(t, map[string]ClientSettings{"A": {WrapUp: sec(30)}}, []opSpec{{id: "a", skills: all(1)}})
	pending := func(at time.Duration) string {
		for _, op := range c.Snapshot(t0.Add(at)).Operators {
			if op.ID == "a" {
				return op.PendingPause
			}
		}
		t.Fatal("no operator a")
		return ""
	}
	runSteps(t, c, []step{
		{0, enq("c1", "A"), ringing("c1", "a")},
		{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
		{sec(5), pause("a", "lunch"), nil},
	})
	if got := pending(sec(5)); got != "lunch" {
		t.Fatalf("on the call after 離席: pending %q, want lunch", got)
	}
	runSteps(t, c, []step{
		{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
		{sec(40), tick, one("op a wrap-up>paused lunch")},
	})
	if got := pending(sec(40)); got != "" {
		t.Fatalf("paused: pending %q, want none", got)
	}
}
