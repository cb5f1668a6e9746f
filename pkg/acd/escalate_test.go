package acd

import "testing"

// TestEscalationSkipsATierNobodyIsIn: a tier holds a caller's wait only
// while one of its operators for the client is present (logged in, not
// paused, reachable); busy ones (ringing, on a call, wrapping up) hold it,
// as escalation means. A caller whose client nobody serves at tier 1, or
// whose tier-1 operators are all on a break, rings the backups at once
// instead of waiting escalate_after beside them (while newer callers of
// other clients took those backups).
func TestEscalationSkipsATierNobodyIsIn(t *testing.T) {
	esc := ClientSettings{EscalateAfter: sec(30)}
	tests := []struct {
		name    string
		clients map[string]ClientSettings
		ops     []opSpec
		steps   []step
	}{
		{
			// The reviewer's case: x has no tier-1 operator at all;
			// b serves y at tier 1 and x as "*:2". x1 waited in silence
			// and y1, 12 s newer, took b.
			name:    "a client nobody serves at tier 1 rings its backup at once",
			clients: map[string]ClientSettings{"x": esc, "y": esc},
			ops:     []opSpec{{id: "b", skills: map[string]int{"y": 1, WildcardClient: 2}}},
			steps: []step{
				{0, enq("x1", "x"), ringing("x1", "b")},
				{sec(10), tick, nil},
				{sec(12), enq("y1", "y"), nil},
				{sec(13), answer("x1", "b"), one("op b ringing>on-call answered", "connect x1 b")},
				{sec(20), ended("x1"), one("op b on-call>available call-ended")},
				{sec(20), legGone("x1", "b"), ringing("y1", "b")},
			},
		},
		{
			name:    "tier 1 on a break: the backup rings at once",
			clients: map[string]ClientSettings{"x": esc},
			ops:     []opSpec{{id: "a", skills: map[string]int{"x": 1}, paused: "lunch"}, {id: "b", skills: map[string]int{"x": 2}}},
			steps:   []step{{0, enq("x1", "x"), ringing("x1", "b")}},
		},
		{
			name:    "tier 1 logged out or unreachable: the backup rings at once",
			clients: map[string]ClientSettings{"x": esc},
			ops: []opSpec{
				{id: "a", skills: map[string]int{"x": 1}, offline: true},
				{id: "a2", skills: map[string]int{"x": 1}, unreachd: true},
				{id: "b", skills: map[string]int{"x": 2}},
			},
			steps: []step{{0, enq("x1", "x"), ringing("x1", "b")}},
		},
		{
			// Escalation as it was meant: the primary is busy, the
			// backup waits its turn.
			name:    "tier 1 on a call holds the wait for escalate_after",
			clients: map[string]ClientSettings{"x": esc},
			ops:     []opSpec{{id: "a", skills: map[string]int{"x": 1}}, {id: "b", skills: map[string]int{"x": 2}, paused: "lunch"}},
			steps: []step{
				{0, enq("x0", "x"), ringing("x0", "a")},
				{sec(1), answer("x0", "a"), one("op a ringing>on-call answered", "connect x0 a")},
				{sec(2), enq("x1", "x"), nil},
				{sec(3), avail("b"), one("op b paused>available available")},
				{sec(31), tick, nil},
				{sec(32), tick, ringing("x1", "b")},
			},
		},
		{
			name:    "tier 1 ringing or wrapping up holds the wait too",
			clients: map[string]ClientSettings{"x": {EscalateAfter: sec(30), WrapUp: sec(60)}, "y": {RingTimeout: sec(100)}},
			ops: []opSpec{
				{id: "a", skills: map[string]int{"x": 1, "y": 1}},
				{id: "a2", skills: map[string]int{"x": 1}},
				{id: "b", skills: map[string]int{"x": 2}, paused: "lunch"},
			},
			steps: []step{
				{0, enq("y0", "y"), ringing2("y0", "a", "1m40s")},
				{0, enq("x0", "x"), ringing("x0", "a2")},
				{sec(1), answer("x0", "a2"), one("op a2 ringing>on-call answered", "connect x0 a2")},
				{sec(2), ended("x0"), one("op a2 on-call>wrap-up call-ended")},
				{sec(3), enq("x1", "x"), nil},
				{sec(4), avail("b"), one("op b paused>available available")},
				{sec(32), tick, nil},
				{sec(33), tick, ringing("x1", "b")},
			},
		},
		{
			// The last primary goes on a break while a caller waits:
			// the backup is rung then, not escalate_after later.
			name:    "the last tier-1 operator pausing releases the wait",
			clients: map[string]ClientSettings{"x": esc},
			ops:     []opSpec{{id: "a", skills: map[string]int{"x": 1}}, {id: "b", skills: map[string]int{"x": 2}}},
			steps: []step{
				{0, enq("x0", "x"), ringing("x0", "a")},
				{sec(1), answer("x0", "a"), one("op a ringing>on-call answered", "connect x0 a")},
				{sec(2), enq("x1", "x"), nil},
				{sec(5), ended("x0"), one("op a on-call>available call-ended")},
				{sec(5), legGone("x0", "a"), ringing("x1", "a")},
				{sec(6), pause("a", "lunch"), cat(one("cancel x1 a lunch", "op a ringing>paused lunch"), ringing("x1", "b"))},
			},
		},
		{
			name:    "ring all: tier 1 on a break, the backups ring at once",
			clients: map[string]ClientSettings{"x": {Strategy: RingAll, EscalateAfter: sec(30)}},
			ops: []opSpec{
				{id: "a", skills: map[string]int{"x": 1}, paused: "lunch"},
				{id: "b", skills: map[string]int{"x": 2}},
				{id: "c", skills: map[string]int{"x": 2}},
			},
			steps: []step{{0, enq("x1", "x"), cat(ringing("x1", "b"), ringing("x1", "c"))}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := setup(t, tc.clients, tc.ops)
			runSteps(t, c, tc.steps)
		})
	}
}
