package acd

import (
	"testing"
	"time"
)

func occupy(call, client, op string) input {
	return func(c *Core, now time.Time) []Action { return c.Occupy(call, client, op, now) }
}

func upsert(op string) input {
	return func(c *Core, now time.Time) []Action {
		return c.UpsertOperator(Operator{ID: op, Skills: all(1)}, now)
	}
}

func TestOccupy(t *testing.T) {
	plain := map[string]ClientSettings{"A": {}}
	tests := []struct {
		name    string
		clients map[string]ClientSettings
		ops     []opSpec
		steps   []step
	}{
		{
			name:    "an occupied operator is not rung, then wraps up and takes the next caller",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(10)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, occupy("c1", "A", "a"), one("op a available>on-call re-adopted")},
				{sec(1), enq("c2", "A"), nil},
				{sec(2), occupy("c1", "A", "a"), nil},
				{sec(30), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(31), ended("c1"), nil},
				{sec(40), tick, cat(one("op a wrap-up>available wrap-up-end"), ringing("c2", "a"))},
			},
		},
		{
			name:    "offline (not yet registered) operator is on the call, then available",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1), offline: true, unreachd: true}},
			steps: []step{
				{0, occupy("c1", "A", "a"), one("op a offline>on-call re-adopted")},
				{sec(1), enq("c2", "A"), nil},
				{sec(2), reach("a", true), nil},
				{sec(3), ended("c1"), cat(one("op a on-call>available call-ended"), ringing("c2", "a"))},
			},
		},
		{
			name:    "unknown operator: applied when the operator is installed",
			clients: plain,
			steps: []step{
				{0, occupy("c1", "A", "a"), nil},
				{0, occupy("c1", "A", "a"), nil},
				{sec(1), upsert("a"), one("op a offline>on-call re-adopted")},
				{sec(2), reach("a", true), nil},
				{sec(3), enq("c2", "A"), nil},
				{sec(4), abandon("c1"), cat(one("op a on-call>available call-ended-before-talk"), ringing("c2", "a"))},
			},
		},
		{
			name:    "unknown operator whose call ended first stays offline",
			clients: plain,
			steps: []step{
				{0, occupy("c1", "A", "a"), nil},
				{sec(1), ended("c1"), nil},
				{sec(2), upsert("a"), nil},
			},
		},
		{
			name:    "a paused operator returns to the same pause after the call",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1), paused: "lunch"}},
			steps: []step{
				{0, occupy("c1", "A", "a"), one("op a paused>on-call re-adopted")},
				{sec(1), enq("c2", "A"), nil},
				{sec(2), ended("c1"), one("op a on-call>paused lunch")},
			},
		},
		{
			name:    "a ring of another call is cancelled and handed to the next operator",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1), availAt: sec(1)}},
			steps: []step{
				{sec(2), enq("c2", "A"), ringing("c2", "a")},
				{sec(3), occupy("c1", "A", "a"), cat(one("cancel c2 a re-adopted", "op a ringing>on-call re-adopted"), ringing("c2", "b"))},
			},
		},
		{
			name:    "wrap-up in progress ends; pending pause kept",
			clients: map[string]ClientSettings{"A": {WrapUp: sec(30)}},
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, enq("c0", "A"), ringing("c0", "a")},
				{sec(1), answer("c0", "a"), one("op a ringing>on-call answered", "connect c0 a")},
				{sec(2), pause("a", "meeting"), nil},
				{sec(3), ended("c0"), one("op a on-call>wrap-up call-ended")},
				{sec(4), occupy("c1", "A", "a"), one("op a wrap-up>on-call re-adopted")},
				{sec(33), tick, nil},
				{sec(40), ended("c1"), one("op a on-call>wrap-up call-ended")},
				{sec(70), tick, one("op a wrap-up>paused meeting")},
			},
		},
		{
			name:    "an operator already on another call is left as is",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, occupy("c1", "A", "a"), one("op a available>on-call re-adopted")},
				{sec(1), occupy("c2", "A", "a"), nil},
				{sec(2), ended("c2"), nil},
				{sec(3), ended("c1"), one("op a on-call>available call-ended")},
			},
		},
		{
			name:    "a call still queued leaves the queue",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1)}, {id: "b", skills: all(1), paused: "x"}},
			steps: []step{
				{0, enq("c1", "A"), ringing("c1", "a")},
				{sec(1), occupy("c1", "A", "b"), one("cancel c1 a re-adopted", "op a ringing>available re-adopted", "op b paused>on-call re-adopted")},
				{sec(2), ended("c1"), one("op b on-call>paused x")},
			},
		},
		{
			name:    "empty ids are ignored",
			clients: plain,
			ops:     []opSpec{{id: "a", skills: all(1)}},
			steps: []step{
				{0, occupy("", "A", "a"), nil},
				{0, occupy("c1", "A", ""), nil},
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
