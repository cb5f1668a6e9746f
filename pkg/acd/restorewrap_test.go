package acd

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRestoreWrapUp: an operator's wrap-up, as the last
// OperatorStateChanged reported it before a restart, given back to a fresh
// core runs on as it would have without the restart.
func TestRestoreWrapUp(t *testing.T) {
	held := map[string]ClientSettings{"A": {WrapUp: sec(30), WrapUpHold: sec(120)}}
	tests := []struct {
		name    string
		clients map[string]ClientSettings
		before  []step // on the core before the restart
		at      time.Duration
		restore []string // RestoreWrapUp's actions at the restart
		after   []step   // on the fresh core
	}{
		{
			name:    "the wrap-up ends when it would have",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			before: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
			},
			at:      sec(20),
			restore: []string{"op a available>wrap-up wrap-up-restored"},
			after: []step{
				{sec(25), enq("c2", "A"), nil},
				{sec(39), tick, nil},
				{sec(40), tick, cat(one("op a wrap-up>available wrap-up-end"), ringing("c2", "a"))},
			},
		},
		{
			name:    "more time asked for is kept",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			before: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(20), extWrap("a", sec(60)), one("op a wrap-up>wrap-up wrap-up-extended")},
			},
			at:      sec(50),
			restore: []string{"op a available>wrap-up wrap-up-restored"},
			after: []step{
				{sec(99), tick, nil},
				{sec(100), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			name:    "a wrap-up held for an unsaved message ends when it is saved",
			clients: held,
			before: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(40), tick, one("op a wrap-up>wrap-up message-unsaved")},
			},
			at:      sec(50),
			restore: []string{"op a available>wrap-up wrap-up-restored"},
			after: []step{
				// The console reading its state again after the restart
				// holds nothing anew.
				{sec(55), hold("a", "c1"), nil},
				{sec(60), saved("a", "c1"), one("op a wrap-up>available message-saved")},
			},
		},
		{
			name:    "held past the restart until the hold's limit",
			clients: held,
			before: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(20), hold("a", "c1"), one("op a wrap-up>wrap-up wrap-up-held")},
			},
			at:      sec(30),
			restore: []string{"op a available>wrap-up wrap-up-restored"},
			after: []step{
				{sec(40), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(159), tick, nil},
				{sec(160), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			name:    "a message saved before the restart holds it no more",
			clients: held,
			before: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(20), saved("a", "c1"), one("op a wrap-up>wrap-up wrap-up-released")},
			},
			at:      sec(30),
			restore: []string{"op a available>wrap-up wrap-up-restored"},
			after: []step{
				{sec(40), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			name:    "a hold given up for more time is not taken again",
			clients: held,
			before: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(2), hold("a", "c1"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(40), tick, one("op a wrap-up>wrap-up message-unsaved")},
				{sec(50), extWrap("a", sec(60)), one("op a wrap-up>wrap-up wrap-up-extended")},
			},
			at:      sec(60),
			restore: []string{"op a available>wrap-up wrap-up-restored"},
			after: []step{
				{sec(65), hold("a", "c1"), nil},
				{sec(110), tick, one("op a wrap-up>available wrap-up-end")},
			},
		},
		{
			name:    "a pause asked for on the call follows the wrap-up",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			before: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(5), pause("a", "lunch"), nil},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
			},
			at:      sec(20),
			restore: []string{"op a available>wrap-up wrap-up-restored"},
			after: []step{
				{sec(40), tick, one("op a wrap-up>paused lunch")},
			},
		},
		{
			name:    "a wrap-up over by the restart is not given back",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			before: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), answer("c1", "a"), one("op a ringing>on-call answered", "connect c1 a")},
				{sec(10), ended("c1"), one("op a on-call>wrap-up call-ended")},
			},
			at:      sec(40),
			restore: nil,
			after: []step{
				{sec(41), enq("c2", "A"), ringing("c2", "a")},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops := []opSpec{{id: "a", skills: all(1)}}
			var last *WrapUpState
			before := slices.Clone(tc.before)
			for i, s := range before {
				in := s.in
				before[i].in = func(c *Core, now time.Time) []Action {
					acts := in(c, now)
					for _, a := range acts {
						if ch, ok := a.(OperatorStateChanged); ok && ch.OpID == "a" {
							last = ch.Wrap
						}
					}
					return acts
				}
			}
			runSteps(t, setup(t, tc.clients, ops), before)
			if last == nil {
				t.Fatal("no wrap-up reported before the restart")
			}
			c := setup(t, tc.clients, ops)
			now := t0.Add(tc.at)
			got := render(c.RestoreWrapUp("a", *last, now))
			if want := tc.restore; !slices.Equal(got, append([]string{}, want...)) {
				t.Fatalf("restore at +%s:\n got: %s\nwant: %s", tc.at, strings.Join(got, " | "), strings.Join(want, " | "))
			}
			checkConsistent(t, c, now)
			runSteps(t, c, tc.after)
		})
	}
}

// TestRestoreWrapUpOnlyForAnAvailableOperator: a restored pause, or an
// operator not configured any more, keeps what it has.
func TestRestoreWrapUpOnlyForAnAvailableOperator(t *testing.T) {
	c := setup(t, map[string]ClientSettings{"A": {WrapUp: sec(30)}}, []opSpec{{id: "a", skills: all(1), paused: "lunch"}})
	w := WrapUpState{CallID: "c1", ClientID: "A", Until: t0.Add(sec(60))}
	if got := c.RestoreWrapUp("a", w, t0.Add(sec(10))); len(got) != 0 {
		t.Fatalf("paused operator: %v", render(got))
	}
	if got := c.RestoreWrapUp("b", w, t0.Add(sec(10))); len(got) != 0 {
		t.Fatalf("unknown operator: %v", render(got))
	}
	if v, _ := c.LookupOperator("a"); v.State != Paused {
		t.Fatalf("state %s, want paused", v.State)
	}
}
