package desk_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// The wallboard's picture: operators, waiting callers, today's figures.

// TestRequeueUnrelayedCalls: a missed call whose record was stored but
// whose notice was never queued (the process died between the two
// commits) is queued at start-up; one already queued, a call the client
// does not want relayed and a call before the window are not.
func TestRequeueUnrelayedCalls(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Now()
	missed := func(id string, at time.Time) store.CallRecord {
		return store.CallRecord{ID: id, ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
			Result: store.ResultAbandoned, Reason: "caller hung up after waiting 42s", WaitMS: 42000, StartedAt: at, EndedAt: at.Add(time.Minute)}
	}
	answered := missed("answered", now.Add(-5*time.Minute))
	answered.Result, answered.Reason, answered.OperatorID, answered.Billable, answered.WaitMS = store.ResultAnswered, "talked with op1001", "op1001", true, 0
	for _, rec := range []store.CallRecord{missed("lost", now.Add(-10*time.Minute)), missed("queued", now.Add(-10*time.Minute)), answered, missed("old", now.Add(-2*time.Hour))} {
		if err := d.Store.PutCall(rec); err != nil {
			t.Fatal(err)
		}
	}
	queued, _ := d.Store.Call("queued")
	d.Finished(queued)
	n, err := d.RequeueUnrelayedCalls(now.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("RequeueUnrelayedCalls = %d, %v; want 1", n, err)
	}
	var ids []string
	all, _ := ob.List(relay.Filter{})
	for _, e := range all {
		ids = append(ids, e.MessageID)
	}
	slices.Sort(ids)
	if strings.Join(ids, ",") != "lost-missed-call,queued-missed-call" {
		t.Fatalf("outbox %v, want the lost missed call queued once and the queued one not again", ids)
	}
	if n, err := d.RequeueUnrelayedCalls(now.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("second run = %d, %v; want 0", n, err)
	}
}

func TestWallboard(t *testing.T) {
	d, _ := newDesk(t)
	d.Queue.SetReachable("PJSIP/op1001", true)
	d.Queue.Pause("op1001", "lunch")
	d.Queue.Enqueue(acd.Call{ID: "w1", ClientID: "acme"}, discard{}) // waits: the operator is paused
	now := time.Now()
	for _, r := range []store.CallRecord{
		{ID: "a", ClientID: "acme", Result: store.ResultAnswered, WaitMS: 5000, StartedAt: now},
		{ID: "b", ClientID: "acme", Result: store.ResultAnswered, WaitMS: 60000, StartedAt: now},
		{ID: "c", ClientID: "acme", Result: store.ResultAbandoned, WaitMS: 30000, StartedAt: now},
		{ID: "d", ClientID: "acme", Result: store.ResultAbandoned, StartedAt: now}, // during the greeting: not counted
	} {
		if err := d.Store.PutCall(r); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		wb, err := d.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(wb.Operators) == 1 && wb.Operators[0].State == "paused" {
			if wb.Operators[0].Name != "佐藤" || wb.Operators[0].PauseReason != "lunch" || !wb.Operators[0].Reachable {
				t.Fatalf("operator %+v", wb.Operators[0])
			}
			if len(wb.Waiting) != 1 || wb.Waiting[0].ClientName != "株式会社ACME" || wb.Waiting[0].Count != 1 {
				t.Fatalf("waiting %+v, want one caller of 株式会社ACME, by name", wb.Waiting)
			}
			if wb.Today.Answered != 2 || wb.Today.Abandoned != 1 || wb.Today.ServiceLevel < 0.33 || wb.Today.ServiceLevel > 0.34 {
				t.Fatalf("today %+v, want 2 answered, 1 abandoned, service level 1/3", wb.Today)
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("operator never shown paused")
}

// TestWallboardSaysWhoseCallRings: while an operator's phone rings, and on
// the call, their line names the call and its client (the console shows it
// over the last call's screen, which stays until the new call's pop), and
// nothing once the call is over.
func TestWallboardSaysWhoseCallRings(t *testing.T) {
	d, _ := newDesk(t)
	d.Queue.SetReachable("PJSIP/op1001", true)
	d.Queue.SetAvailable("op1001")
	rings := make(chan queue.RingOperator, 4)
	d.Queue.Enqueue(acd.Call{ID: "r1", ClientID: "acme"}, ringInbox(rings))
	d.Queue.Enqueue(acd.Call{ID: "r2", ClientID: "acme"}, ringInbox(rings))
	line := func(want string) (got string, st bool) {
		wb, err := d.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(wb.Operators) != 1 {
			t.Fatalf("operators %+v", wb.Operators)
		}
		op := wb.Operators[0]
		return op.State + " " + op.CallID + " " + op.CallClient, op.State == want
	}
	got := waitLine(t, func() (string, bool) { return line("ringing") })
	if got != "ringing r1 株式会社ACME" {
		t.Fatalf("ringing: %q, want the call r1 and its client by name", got)
	}
	// Answered (before its pop, which comes after the whisper: a phone
	// that answers at once never shows ringing on the page), then put
	// through: the line names the call and its client.
	r := <-rings
	d.Queue.RingAnswered("r1", r.OpID, r.Ring)
	got = waitLine(t, func() (string, bool) { return line("on_call") })
	if got != "on_call r1 株式会社ACME" {
		t.Fatalf("answered: %q, want the call and its client by name", got)
	}
	d.Connected(call.Connected{CallID: "r1", OperatorID: "op1001", ClientID: "acme", Client: &d.Config().Clients[0]})
	if got, _ := line("on_call"); got != "on_call r1 株式会社ACME" {
		t.Fatalf("on the call: %q, want the call and its client by name", got)
	}
	d.Queue.CallEnded("r1")
	d.Queue.EndWrapUp("op1001")
	<-rings // r2 rings the operator now
	d.Queue.Abandon("r2")
	got = waitLine(t, func() (string, bool) { return line("available") })
	if got != "available  " {
		t.Fatalf("after the caller hung up: %q, want no call named", got)
	}
}

// ringInbox passes the rings the queue asks of a call to a channel.
type ringInbox chan queue.RingOperator

func (in ringInbox) Push(e ari.Event) {
	if r, ok := e.(*queue.RingOperator); ok {
		in <- *r
	}
}

// waitLine polls read until it says it is done (the queue applies its
// commands on its own goroutine), at most 5 s, and returns its last text.
func waitLine(t *testing.T, read func() (string, bool)) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, done := read()
		if done || time.Now().After(deadline) {
			return got
		}
		time.Sleep(time.Millisecond)
	}
}

// TestTodayReadOnceForManyConsoles: today's figures are read from the
// store at most once per todayFresh (5 s), whoever asks (every console
// asks every 2 s), and afresh after it or at the day's change in Japan.
func TestTodayReadOnceForManyConsoles(t *testing.T) {
	d, _ := newDesk(t)
	now := time.Date(2026, 11, 29, 14, 59, 50, 0, time.UTC) // 23:59:50 in Japan
	d.Now = func() time.Time { return now }
	put := func(id string) {
		t.Helper()
		if err := d.Store.PutCall(store.CallRecord{ID: id, ClientID: "acme", Result: store.ResultAnswered, WaitMS: 1000, StartedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	answered := func() int {
		t.Helper()
		wb, err := d.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return wb.Today.Answered
	}
	put("a")
	if got := answered(); got != 1 {
		t.Fatalf("answered %d, want 1", got)
	}
	put("b")
	now = now.Add(4 * time.Second) // 23:59:54 in Japan
	if got := answered(); got != 1 {
		t.Errorf("4 s later: answered %d, want the figure read 4 s ago (1)", got)
	}
	now = now.Add(4 * time.Second) // 23:59:58
	if got := answered(); got != 2 {
		t.Errorf("8 s later: answered %d, want 2 (read again)", got)
	}
	now = now.Add(3 * time.Second) // 00:00:01, 3 s after the last read: another day
	if got := answered(); got != 0 {
		t.Errorf("after midnight in Japan: answered %d, want 0 (a new day, read again)", got)
	}
}

// TestSnapshotWithoutTodaysFigures: one of today's call records the store
// cannot read leaves the wallboard without today's figures (marked so),
// not every console without its operator's state.
func TestSnapshotWithoutTodaysFigures(t *testing.T) {
	d, _ := newDesk(t)
	now := time.Now()
	if err := d.Store.PutCall(store.CallRecord{ID: "bad", ClientID: "acme", StartedAt: now, EndedAt: now, Result: store.ResultAnswered}); err != nil {
		t.Fatal(err)
	}
	if err := d.Store.Bolt().Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("calls")).Put([]byte("bad"), []byte("{")) }); err != nil {
		t.Fatal(err)
	}
	var logged errorCount
	d.Logger = slog.New(&logged)
	d.Now = func() time.Time { return now }
	for range 3 { // consoles asking within todayFresh
		wb, err := d.Snapshot(context.Background())
		if err != nil || len(wb.Operators) == 0 || !wb.TodayUnavailable {
			t.Fatalf("Snapshot: %v, %d operators, today unavailable %v; want the operators, today marked unavailable", err, len(wb.Operators), wb.TodayUnavailable)
		}
	}
	// The failure is kept as a result would be: the day is not read
	// again (and logged) for every console's poll.
	if n := logged.n.Load(); n != 1 {
		t.Errorf("%d errors logged for three snapshots within %v, want 1", n, 5*time.Second)
	}
}

// TestSnapshotSaysTheLinkIsDown: the wallboard says when the link to
// Asterisk is down (its figures would only stand still).
func TestSnapshotSaysTheLinkIsDown(t *testing.T) {
	d, _ := newDesk(t)
	var up atomic.Bool
	d.LinkUp = up.Load
	for _, want := range []bool{true, false} {
		up.Store(!want)
		wb, err := d.Snapshot(context.Background())
		if err != nil || wb.ARIDown != want {
			t.Fatalf("link up %v: ARIDown %v, %v", !want, wb.ARIDown, err)
		}
	}
}

// errorCount is a slog handler counting error records.
type errorCount struct{ n atomic.Int32 }

func (h *errorCount) Enabled(context.Context, slog.Level) bool { return true }
func (h *errorCount) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.n.Add(1)
	}
	return nil
}
func (h *errorCount) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorCount) WithGroup(string) slog.Handler      { return h }
