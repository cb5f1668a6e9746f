package acd

import "testing"

// TestSkillLossStopsARing: a reload that takes a client from an operator
// applies at once. Their ring for that client's caller stops (no
// no-answer counted) and the caller is offered to the next operator:
// answered, it put them through to a client they may no longer serve (a
// confidential one). A call already connected goes on; a tier change
// keeps the ring.
func TestSkillLossStopsARing(t *testing.T) {
	two := []opSpec{{id: "a", skills: map[string]int{"x": 1, "y": 1}}, {id: "b", skills: map[string]int{"x": 1}, availAt: sec(1)}}
	tests := []struct {
		name    string
		clients map[string]ClientSettings
		ops     []opSpec
		steps   []step
	}{
		{
			name:    "the ring stops and the caller rings the next operator",
			clients: map[string]ClientSettings{"x": {AutoPauseAfter: 1}},
			ops:     two,
			steps: []step{
				{sec(2), enq("x1", "x"), ringing("x1", "a")},
				{sec(3), skills("a", map[string]int{"y": 1}), cat(one("cancel x1 a skill-removed", "op a ringing>available skill-removed"), ringing("x1", "b"))},
				// Picked up as the reload came: hung up, not put through.
				{sec(3), answerRing("x1", "a", 1), one("cancel x1 a stale")},
			},
		},
		{
			name:    "a wildcard taken away stops the ring too",
			clients: map[string]ClientSettings{"x": {}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("x1", "x"), ringing("x1", "a")},
				{sec(1), skills("a", map[string]int{"y": 1}), one("cancel x1 a skill-removed", "op a ringing>available skill-removed")},
				{sec(2), legGone("x1", "a"), nil},
				{sec(3), skills("a", map[string]int{"x": 2}), ringing("x1", "a")},
			},
		},
		{
			name:    "a connected call goes on",
			clients: map[string]ClientSettings{"x": {}},
			ops:     two,
			steps: []step{
				{sec(2), enq("x1", "x"), ringing("x1", "a")},
				{sec(3), answer("x1", "a"), one("op a ringing>on-call answered", "connect x1 a")},
				{sec(4), skills("a", map[string]int{"y": 1}), nil},
				{sec(9), ended("x1"), one("op a on-call>available call-ended")},
			},
		},
		{
			name:    "a tier change keeps the ring",
			clients: map[string]ClientSettings{"x": {}},
			ops:     two,
			steps: []step{
				{sec(2), enq("x1", "x"), ringing("x1", "a")},
				{sec(3), skills("a", map[string]int{"x": 2, "y": 1}), nil},
				{sec(4), answer("x1", "a"), one("op a ringing>on-call answered", "connect x1 a")},
			},
		},
		{
			name:    "ring all: only the operator who lost the client stops",
			clients: map[string]ClientSettings{"x": {Strategy: RingAll}},
			ops:     []opSpec{{id: "a", skills: map[string]int{"x": 1}}, {id: "b", skills: map[string]int{"x": 1}}},
			steps: []step{
				{0, enq("x1", "x"), cat(ringing("x1", "a"), ringing("x1", "b"))},
				{sec(1), skills("a", map[string]int{}), one("cancel x1 a skill-removed", "op a ringing>available skill-removed")},
				{sec(2), answer("x1", "b"), one("op b ringing>on-call answered", "connect x1 b")},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := setup(t, tc.clients, tc.ops)
			runSteps(t, c, tc.steps)
			if v, _ := c.LookupOperator("a"); v.NoAnswers != 0 {
				t.Fatalf("a has %d no-answers, want none", v.NoAnswers)
			}
		})
	}
}
