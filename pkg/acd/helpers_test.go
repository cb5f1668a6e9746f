package acd

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// input is one call into the core.
type input func(c *Core, now time.Time) []Action

// step applies an input at t0+at and expects exactly want (as strings).
type step struct {
	at   time.Duration
	in   input
	want []string
}

// opSpec is an operator set up before the steps.
type opSpec struct {
	id       string
	skills   map[string]int
	availAt  time.Duration // logs in at t0+availAt
	paused   string        // pause reason, if paused
	offline  bool
	unreachd bool
}

func all(tier int) map[string]int { return map[string]int{WildcardClient: tier} }

func settingsFrom(m map[string]ClientSettings) func(string) ClientSettings {
	return func(id string) ClientSettings { return m[id] }
}

// setup builds a core with operators logged in at their times.
func setup(t *testing.T, clients map[string]ClientSettings, ops []opSpec) *Core {
	t.Helper()
	c := New(settingsFrom(clients))
	sorted := slices.Clone(ops)
	slices.SortStableFunc(sorted, func(a, b opSpec) int { return int(a.availAt - b.availAt) })
	for _, o := range sorted {
		now := t0.Add(o.availAt)
		c.UpsertOperator(Operator{ID: o.id, Skills: o.skills}, now)
		c.SetReachable(o.id, !o.unreachd, now)
		switch {
		case o.offline:
		case o.paused != "":
			c.Pause(o.id, o.paused, now)
		default:
			c.SetAvailable(o.id, now)
		}
	}
	return c
}

func render(acts []Action) []string {
	out := make([]string, 0, len(acts))
	for _, a := range acts {
		out = append(out, a.String())
	}
	return out
}

func runSteps(t *testing.T, c *Core, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := render(s.in(c, t0.Add(s.at)))
		want := s.want
		if want == nil {
			want = []string{}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("step %d at +%s:\n got: %s\nwant: %s", i, s.at,
				strings.Join(got, " | "), strings.Join(want, " | "))
		}
		checkConsistent(t, c, t0.Add(s.at))
	}
}

func enq(id, client string) input {
	return func(c *Core, now time.Time) []Action { return c.Enqueue(Call{ID: id, ClientID: client}, now) }
}

func enqAt(id, client string, at time.Duration) input {
	return func(c *Core, now time.Time) []Action {
		return c.Enqueue(Call{ID: id, ClientID: client, EnqueuedAt: t0.Add(at)}, now)
	}
}

// enqNew: a caller joining the line for the first time (vip or not).
func enqNew(id, client string, vip bool) input {
	return func(c *Core, now time.Time) []Action {
		return c.Enqueue(Call{ID: id, ClientID: client, New: true, VIP: vip}, now)
	}
}

func enqVIP(id, client string) input {
	return func(c *Core, now time.Time) []Action {
		return c.Enqueue(Call{ID: id, ClientID: client, VIP: true}, now)
	}
}

// answer and failed report on the operator's latest ring (its ring in
// progress, if any); answerRing and failedRing name a ring by its Seq.
func answer(call, op string) input {
	return func(c *Core, now time.Time) []Action { return c.RingAnswered(call, op, c.latestRing(op), now) }
}

func failed(call, op string, why RingFailure) input {
	return func(c *Core, now time.Time) []Action { return c.RingFailed(call, op, c.latestRing(op), why, now) }
}

func answerRing(call, op string, seq uint64) input {
	return func(c *Core, now time.Time) []Action { return c.RingAnswered(call, op, seq, now) }
}

func failedRing(call, op string, seq uint64, why RingFailure) input {
	return func(c *Core, now time.Time) []Action { return c.RingFailed(call, op, seq, why, now) }
}

func (c *Core) latestRing(op string) uint64 {
	if o := c.ops[op]; o != nil {
		return o.ring
	}
	return 0
}

// legGone reports the leg of the operator's ring the core gave up gone.
func legGone(call, op string) input {
	return func(c *Core, now time.Time) []Action {
		var seq uint64
		if o := c.ops[op]; o != nil {
			seq = o.legRing
		}
		return c.RingLegGone(call, op, seq, now)
	}
}

func legGoneRing(call, op string, seq uint64) input {
	return func(c *Core, now time.Time) []Action { return c.RingLegGone(call, op, seq, now) }
}

func ended(call string) input {
	return func(c *Core, now time.Time) []Action { return c.CallEnded(call, now) }
}

func endedBeforeTalk(call string) input {
	return func(c *Core, now time.Time) []Action { return c.CallEndedBeforeTalk(call, now) }
}

func abandon(call string) input {
	return func(c *Core, now time.Time) []Action { return c.Abandon(call, now) }
}

func tick(c *Core, now time.Time) []Action { return c.Tick(now) }

func pause(op, reason string) input {
	return func(c *Core, now time.Time) []Action { return c.Pause(op, reason, now) }
}

func avail(op string) input {
	return func(c *Core, now time.Time) []Action { return c.SetAvailable(op, now) }
}

func reach(op string, r bool) input {
	return func(c *Core, now time.Time) []Action { return c.SetReachable(op, r, now) }
}

func endWrap(op string) input {
	return func(c *Core, now time.Time) []Action { return c.EndWrapUp(op, now) }
}

func extWrap(op string, d time.Duration) input {
	return func(c *Core, now time.Time) []Action { return c.ExtendWrapUp(op, d, now) }
}

func hold(op, call string) input {
	return func(c *Core, now time.Time) []Action { return c.HoldWrapUp(op, call, now) }
}

func saved(op, call string) input {
	return func(c *Core, now time.Time) []Action { return c.ReleaseWrapUp(op, call, now) }
}

// skills replaces the operator's skills (a reload).
func skills(op string, sk map[string]int) input {
	return func(c *Core, now time.Time) []Action { return c.UpsertOperator(Operator{ID: op, Skills: sk}, now) }
}

func remove(op string) input {
	return func(c *Core, now time.Time) []Action { return c.RemoveOperator(op, now) }
}

// ringing renders the two actions of a ring with the default timeout.
func ringing(call, op string) []string {
	return []string{"op " + op + " available>ringing ring", "ring " + call + " " + op + " 15s"}
}

func cat(parts ...[]string) []string { return slices.Concat(parts...) }

func one(s ...string) []string { return s }

func otherCall(op string, busy bool) input {
	return func(c *Core, now time.Time) []Action { return c.SetOtherCall(op, busy, now) }
}
