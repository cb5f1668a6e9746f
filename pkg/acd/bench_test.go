package acd

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkEnqueueDispatch measures one full cycle with a long queue: an
// operator finishes a call and the leg of it is gone, the head caller
// rings them and is connected, a new caller joins the queue. The cost
// must stay flat as the queue grows.
func BenchmarkEnqueueDispatch(b *testing.B) {
	for _, waiting := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("waiting=%d/ops=50", waiting), func(b *testing.B) {
			clients := map[string]ClientSettings{}
			for i := range 20 {
				clients[fmt.Sprintf("client%02d", i)] = ClientSettings{
					MaxWait: time.Hour, AnnouncePeriod: 30 * time.Second, Strategy: []Strategy{LongestIdle, RoundRobin}[i%2],
				}
			}
			c := New(settingsFrom(clients))
			now := t0
			seq := 0
			enqueue := func() []Action {
				seq++
				return c.Enqueue(Call{ID: fmt.Sprintf("call%d", seq), ClientID: fmt.Sprintf("client%02d", seq%20), VIP: seq%50 == 0}, now)
			}
			onCall := make([]Ring, 0, 50) // the rings answered, one per operator
			for i := range 50 {
				id := fmt.Sprintf("op%02d", i)
				c.UpsertOperator(Operator{ID: id, Skills: all(1 + i%2)}, now)
				c.SetReachable(id, true, now)
				for _, a := range c.SetAvailable(id, now) {
					if r, ok := a.(Ring); ok {
						c.RingAnswered(r.CallID, r.OpID, r.Seq, now)
					}
				}
				for _, a := range enqueue() {
					if r, ok := a.(Ring); ok {
						c.RingAnswered(r.CallID, r.OpID, r.Seq, now)
						onCall = append(onCall, r)
					}
				}
			}
			for range waiting {
				enqueue()
			}
			if len(onCall) != 50 || len(c.calls) != 50+waiting {
				b.Fatalf("setup: %d on call, %d calls", len(onCall), len(c.calls))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				now = now.Add(time.Millisecond)
				slot := i % len(onCall)
				var rung Ring
				// The operator is rung once the leg of the call that
				// ended is gone.
				c.CallEnded(onCall[slot].CallID, now)
				for _, a := range c.RingLegGone(onCall[slot].CallID, onCall[slot].OpID, onCall[slot].Seq, now) {
					if r, ok := a.(Ring); ok {
						rung = r
					}
				}
				if rung.CallID == "" {
					b.Fatal("no ring after an operator became free")
				}
				c.RingAnswered(rung.CallID, rung.OpID, rung.Seq, now)
				onCall[slot] = rung
				enqueue()
				c.Tick(now)
			}
		})
	}
}

// BenchmarkAnnouncementBurst: 10,000 callers re-adopted after a restart
// have their first announcement due at once: one Tick works out every
// caller's position (over the clients sharing an operator with theirs).
func BenchmarkAnnouncementBurst(b *testing.B) {
	for _, tc := range []struct{ clients, ops, skills int }{{20, 50, 20}, {300, 200, 30}} {
		b.Run(fmt.Sprintf("clients=%d/ops=%d", tc.clients, tc.ops), func(b *testing.B) {
			clients := map[string]ClientSettings{}
			for i := range tc.clients {
				clients[fmt.Sprintf("cl%03d", i)] = ClientSettings{AnnouncePeriod: 30 * time.Second}
			}
			for b.Loop() {
				b.StopTimer()
				c := New(settingsFrom(clients))
				for i := range tc.ops {
					sk := map[string]int{}
					for j := range tc.skills {
						sk[fmt.Sprintf("cl%03d", (i+j)%tc.clients)] = 1
					}
					c.UpsertOperator(Operator{ID: fmt.Sprintf("op%03d", i), Skills: sk}, t0)
				}
				for i := range 10000 {
					c.Enqueue(Call{ID: fmt.Sprintf("c%d", i), ClientID: fmt.Sprintf("cl%03d", i%tc.clients), EnqueuedAt: t0.Add(time.Duration(i) * time.Millisecond)}, t0)
				}
				b.StartTimer()
				if acts := c.Tick(t0.Add(31 * time.Second)); len(acts) != 10000 {
					b.Fatalf("%d actions, want 10,000 announcements", len(acts))
				}
			}
		})
	}
}

// BenchmarkReleaseDispatch: the dispatch with most choices to make, the
// release after a restart: 50 operators (specialists of one client and
// generalists of three, some as backups) free at once, 200 callers of 20
// clients waiting; the lookahead's worst case.
func BenchmarkReleaseDispatch(b *testing.B) {
	clients := map[string]ClientSettings{}
	for i := range 20 {
		clients[fmt.Sprintf("cl%02d", i)] = ClientSettings{Strategy: []Strategy{LongestIdle, RoundRobin}[i%2]}
	}
	for b.Loop() {
		b.StopTimer()
		c := New(settingsFrom(clients))
		for i := range 50 {
			sk := map[string]int{fmt.Sprintf("cl%02d", i%20): 1}
			if i%2 == 1 {
				sk[fmt.Sprintf("cl%02d", (i+7)%20)] = 1
				sk[fmt.Sprintf("cl%02d", (i+13)%20)] = 2
			}
			id := fmt.Sprintf("op%02d", i)
			now := t0.Add(time.Duration(i) * time.Second)
			c.UpsertOperator(Operator{ID: id, Skills: sk}, now)
			c.SetReachable(id, true, now)
			c.SetAvailable(id, now)
		}
		c.Hold()
		now := t0.Add(time.Minute)
		for i := range 200 {
			c.Enqueue(Call{ID: fmt.Sprintf("c%d", i), ClientID: fmt.Sprintf("cl%02d", (i*7)%20), EnqueuedAt: now.Add(-time.Duration(200-i) * time.Second)}, now)
		}
		b.StartTimer()
		if rings := c.Release(now); len(rings) == 0 {
			b.Fatal("no ring")
		}
	}
}
