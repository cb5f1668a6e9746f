package desk_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/desk"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

const presenceYAML = `
ari: {user: toritsugi, password: x}
data_dir: /nonexistent
clients:
  - {id: acme, name: 株式会社ACME, dids: ["03-1234-5678"], greeting: sound:acme}
operators:
  - {id: op1, name: 佐藤, endpoint: PJSIP/op1, clients: ["*"], password_hash: "$argon2id$v=19$m=64,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$ZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWU"}
  - {id: op2, name: 鈴木, endpoint: PJSIP/op2, clients: ["*"], password_hash: "$argon2id$v=19$m=64,t=1,p=1$AgICAgICAgICAgICAgICAg$ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY"}
  - {id: op3, name: 高橋, endpoint: PJSIP/op3, clients: ["*"], password_hash: "$argon2id$v=19$m=64,t=1,p=1$AwMDAwMDAwMDAwMDAwMDAw$Z2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2dnZ2c"}
  - {id: op4, name: 田中, endpoint: PJSIP/op4, clients: ["*"], password_hash: "$argon2id$v=19$m=64,t=1,p=1$BAQEBAQEBAQEBAQEBAQEBA$aGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGg"}
  - {id: op5, name: 伊藤, endpoint: PJSIP/op5, clients: ["*"], password_hash: "$argon2id$v=19$m=64,t=1,p=1$BQUFBQUFBQUFBQUFBQUFBQ$aWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWk"}
  - {id: op6, name: 山本, endpoint: PJSIP/op6, clients: ["*"]}
`

func presenceConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(presenceYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// presenceProcess is one run of toritsugi's desk and queue on a store
// file, wired as serve wires them.
type presenceProcess struct {
	d    *desk.Desk
	st   *store.Store
	stop func()
}

func startPresence(t *testing.T, path string, cfg *config.Config) *presenceProcess {
	t.Helper()
	return startPresenceWith(t, path, cfg, nil)
}

// startPresenceWith: startPresence with the clients' queue settings.
func startPresenceWith(t *testing.T, path string, cfg *config.Config, settings func(string) acd.ClientSettings) *presenceProcess {
	t.Helper()
	st := storetest.OpenPath(t, path)
	var d *desk.Desk
	q := queue.New(queue.Options{Settings: settings, OnOperatorChange: func(c acd.OperatorStateChanged) { d.OperatorChanged(c) }})
	d = &desk.Desk{Config: func() *config.Config { return cfg }, Store: st, Queue: q, Logger: storetest.Logger(t)}
	var ops []queue.Operator
	for _, op := range cfg.Operators {
		ops = append(ops, queue.Operator{ID: op.ID, Endpoint: op.Endpoint, Clients: op.Skills(), Manual: op.PasswordHash != ""})
	}
	q.SetOperators(ops)
	for _, op := range ops {
		q.SetReachable(op.Endpoint, true)
	}
	ctx, cancel := context.WithCancel(context.Background())
	qDone, pDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(qDone); q.Run(ctx) }()
	pctx, pcancel := context.WithCancel(context.Background())
	go func() { defer close(pDone); d.RunPresence(pctx) }()
	p := &presenceProcess{d: d, st: st}
	var stopped atomic.Bool
	p.stop = func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		<-qDone
		pcancel()
		<-pDone
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(p.stop)
	return p
}

func (p *presenceProcess) states(t *testing.T) map[string]acd.OperatorView {
	t.Helper()
	snap, err := p.d.Queue.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]acd.OperatorView{}
	for _, v := range snap.Operators {
		out[v.ID] = v
	}
	return out
}

// TestPresenceOutlivesARestart: console operators available, on a break
// (with its reason) or auto-paused for unanswered rings are so again after
// a restart if their console session is still valid; one logged out, one
// whose session is no longer valid and one who does not use the console
// are offline (the latter until their phone registers), and the states of
// the two first are forgotten. Before, a restart left every console
// operator offline: callers re-adopted in line were rung by nobody until
// each operator pressed 受付可 again.
func TestPresenceOutlivesARestart(t *testing.T) {
	cfg := presenceConfig(t)
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	p := startPresence(t, path, cfg)
	p.d.SetAvailable("op1")
	p.d.Pause("op2", "休憩")
	p.d.SetAvailable("op3")
	p.d.SetAvailable("op4")
	p.d.Logout("op4")
	p.d.SetAvailable("op5")
	waitStored := func(what string, ok func(map[string]store.Presence) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			saved, err := p.st.Presences()
			if err == nil && ok(saved) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("states stored: %v (%v), want %s", saved, err, what)
			}
		}
	}
	waitStored("op1, op2 (休憩), op3, op5", func(s map[string]store.Presence) bool { return len(s) == 4 && s["op2"].Reason == "休憩" })
	// Then the queue's own pause of op3 for unanswered rings, as it
	// reports it.
	p.d.OperatorChanged(acd.OperatorStateChanged{OpID: "op3", From: acd.Available, To: acd.Paused, Reason: acd.ReasonNoAnswer})
	waitStored("op3 paused (no-answer)", func(s map[string]store.Presence) bool { return s["op3"].Reason == acd.ReasonNoAnswer })
	p.stop()

	p = startPresence(t, path, cfg)
	loggedIn := map[string]bool{"op1": true, "op2": true, "op3": true, "op4": true} // op5's session expired
	if n, err := p.d.RestorePresence(func(id string) bool { return loggedIn[id] }); err != nil || n != 3 {
		t.Fatalf("RestorePresence = %d, %v; want op1, op2, op3", n, err)
	}
	want := map[string]struct {
		state  acd.State
		reason string
	}{"op1": {acd.Available, ""}, "op2": {acd.Paused, "休憩"}, "op3": {acd.Paused, acd.ReasonNoAnswer},
		"op4": {acd.Offline, ""}, "op5": {acd.Offline, ""}, "op6": {acd.Available, ""}}
	for id, v := range p.states(t) {
		if w := want[id]; v.State != w.state || v.State == acd.Paused && v.PauseReason != w.reason {
			t.Errorf("%s after the restart: %v %q, want %v %q", id, v.State, v.PauseReason, w.state, w.reason)
		}
	}
	if saved, err := p.st.Presences(); err != nil || len(saved) != 3 || saved["op4"] != (store.Presence{}) || saved["op5"] != (store.Presence{}) {
		t.Errorf("states kept: %v (%v), want op1, op2 and op3 only", saved, err)
	}
}

// TestPresenceWriteRetried: a state that could not be stored (a full
// disk) is stored once writes work again, unless a newer one came; a
// restart meanwhile would restore the state before.
func TestPresenceWriteRetried(t *testing.T) {
	cfg := presenceConfig(t)
	p := startPresence(t, filepath.Join(t.TempDir(), "toritsugi.db"), cfg)
	var fail atomic.Bool
	fail.Store(true)
	desk.FailPresenceWrites(p.d, &fail)
	p.d.Pause("op1", "昼休憩")
	time.Sleep(100 * time.Millisecond) // the write fails meanwhile
	if saved, _ := p.st.Presences(); len(saved) != 0 {
		t.Fatalf("stored while writes fail: %v", saved)
	}
	fail.Store(false)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if saved, err := p.st.Presences(); err == nil && saved["op1"].Paused && saved["op1"].Reason == "昼休憩" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the pause was never stored after writes worked again")
		}
	}
}

// TestPauseAskedDuringACallOutlivesARestart: a break asked for during a
// call takes effect after it, with no state change before; a restart
// meanwhile restores the break, not 受付可.
func TestPauseAskedDuringACallOutlivesARestart(t *testing.T) {
	cfg := presenceConfig(t)
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	p := startPresence(t, path, cfg)
	p.d.SetAvailable("op1")
	p.d.Queue.Occupy("c1", "acme", "op1", "") // op1 is on a call
	for deadline := time.Now().Add(5 * time.Second); p.states(t)["op1"].State != acd.OnCall; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("op1 never on the call")
		}
	}
	p.d.Pause("op1", "休憩")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if saved, err := p.st.Presences(); err == nil && saved["op1"].Paused && saved["op1"].Reason == "休憩" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the break asked for during the call was never stored")
		}
	}
	p.stop()
	p = startPresence(t, path, cfg)
	if n, err := p.d.RestorePresence(func(id string) bool { return id == "op1" }); err != nil || n != 1 {
		t.Fatalf("RestorePresence = %d, %v", n, err)
	}
	if v := p.states(t)["op1"]; v.State != acd.Paused || v.PauseReason != "休憩" {
		t.Errorf("op1 after the restart: %v %q, want paused 休憩", v.State, v.PauseReason)
	}
}

// TestRestartKeepsTimeInState: op2 went on a break 40 minutes before a
// restart. The queue paused op2 anew at the restart, the wallboard showed
// 休憩 0:00, and the state stored again overwrote the break's start for
// good (a review). The wallboard counts from the break's start, and so
// does the state stored for the next restart.
func TestRestartKeepsTimeInState(t *testing.T) {
	cfg := presenceConfig(t)
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	p := startPresence(t, path, cfg)
	since := time.Now().Add(-40 * time.Minute).Truncate(time.Millisecond)
	if err := p.st.PutPresence("op2", store.Presence{Paused: true, Reason: "休憩", Since: since}); err != nil {
		t.Fatal(err)
	}
	p.stop()
	p = startPresence(t, path, cfg)
	if n, err := p.d.RestorePresence(func(id string) bool { return id == "op2" }); err != nil || n != 1 {
		t.Fatalf("RestorePresence = %d, %v", n, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := p.states(t)["op2"]
		if st.State == acd.Paused && st.Since.Equal(since) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("op2 after the restart: %s since %v ago; paused 40 min ago", st.State, time.Since(st.Since).Round(time.Second))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// What this process stored of it, for the next restart: stopped (its
	// writes done) and read back.
	p.stop()
	p = startPresence(t, path, cfg)
	if saved, err := p.st.Presences(); err != nil || !saved["op2"].Since.Equal(since) {
		t.Fatalf("stored for the next restart: %+v, %v; want the break's start", saved["op2"], err)
	}
	if n, err := p.d.RestorePresence(func(id string) bool { return id == "op2" }); err != nil || n != 1 {
		t.Fatalf("RestorePresence = %d, %v", n, err)
	}
	// Back from the break: its time counts from now.
	p.d.Queue.SetAvailable("op2")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st := p.states(t)["op2"]; st.State == acd.Available && time.Since(st.Since) < time.Minute {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("op2 back from the break: %+v", p.states(t)["op2"])
		}
	}
}

// TestWrapUpOutlivesARestart: op1 is in wrap-up after a call, held for the
// message they have not saved; op2's wrap-up, after a call of its own,
// has more time asked for. A restart made both available at once, and the
// next caller rang while they were still writing (README said a wrap-up
// was not kept). Both are in wrap-up after the restart, until when they
// would have been; op1's saved message ends theirs; a wrap-up over by the
// restart is not given back.
func TestWrapUpOutlivesARestart(t *testing.T) {
	cfg := presenceConfig(t)
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	settings := func(string) acd.ClientSettings {
		return acd.ClientSettings{WrapUp: time.Minute, WrapUpHold: 10 * time.Minute}
	}
	p := startPresenceWith(t, path, cfg, settings)
	for _, op := range []string{"op1", "op2", "op3"} {
		p.d.SetAvailable(op)
	}
	p.d.Queue.Occupy("c1", "acme", "op1", "")
	p.d.Queue.Occupy("c2", "acme", "op2", "")
	p.d.Queue.Occupy("c3", "acme", "op3", "")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		s := p.states(t)
		if s["op1"].State == acd.OnCall && s["op2"].State == acd.OnCall && s["op3"].State == acd.OnCall {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("operators never on their calls: %v", s)
		}
	}
	p.d.HoldWrapUp("op1", "c1") // the pop of c1 is on op1's screen
	p.d.Queue.CallEnded("c1")
	p.d.Queue.CallEnded("c2")
	p.d.Queue.ExtendWrapUp("op2", 5*time.Minute)
	p.d.Queue.CallEnded("c3")
	p.d.Queue.EndWrapUp("op3") // op3 is done
	var before map[string]acd.OperatorView
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		before = p.states(t)
		saved, err := p.st.Presences()
		if err == nil && saved["op1"].Wrap != nil && saved["op1"].Wrap.Hold && saved["op2"].Wrap != nil &&
			saved["op2"].Wrap.Until.Equal(before["op2"].WrapUpUntil) && saved["op3"].Wrap == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wrap-ups stored: %+v (%v)", saved, err)
		}
	}
	if before["op3"].State != acd.Available {
		t.Fatalf("op3 before the restart: %v", before["op3"].State)
	}
	p.stop()

	p = startPresenceWith(t, path, cfg, settings)
	if n, err := p.d.RestorePresence(func(string) bool { return true }); err != nil || n != 3 {
		t.Fatalf("RestorePresence = %d, %v", n, err)
	}
	after := p.states(t)
	for _, id := range []string{"op1", "op2"} {
		if v := after[id]; v.State != acd.WrapUp || !v.WrapUpUntil.Equal(before[id].WrapUpUntil) {
			t.Errorf("%s after the restart: %v until %v, want wrap-up until %v", id, v.State, v.WrapUpUntil, before[id].WrapUpUntil)
		}
	}
	if v := after["op3"]; v.State != acd.Available {
		t.Errorf("op3 after the restart: %v, want available", v.State)
	}
	// The console reads its state again and saves the message, within
	// the client's wrap-up: it runs its course, held no more.
	p.d.HoldWrapUp("op1", "c1")
	p.d.ReleaseWrapUp("op1", "c1")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if saved, err := p.st.Presences(); err == nil && saved["op1"].Wrap != nil && !saved["op1"].Wrap.Hold {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the saved message's wrap-up was never stored without its hold")
		}
	}
	p.stop()
	p = startPresenceWith(t, path, cfg, settings)
	if _, err := p.d.RestorePresence(func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	s := p.states(t)
	if s["op1"].State != acd.WrapUp || s["op1"].WrapUpHeld || s["op2"].State != acd.WrapUp {
		t.Errorf("after a second restart: op1 %v (held %v), op2 %v; want both in wrap-up", s["op1"].State, s["op1"].WrapUpHeld, s["op2"].State)
	}
	// Ended early: available, and so after the next restart.
	p.d.Queue.EndWrapUp("op1")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if saved, err := p.st.Presences(); err == nil && saved["op1"].Wrap == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the end of op1's wrap-up was never stored")
		}
	}
}

// TestWrapUpOverByTheRestart: a wrap-up stored with an end already past
// gives the operator back available, and their time available counts
// from now.
func TestWrapUpOverByTheRestart(t *testing.T) {
	cfg := presenceConfig(t)
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	p := startPresence(t, path, cfg)
	past := time.Now().Add(-time.Minute)
	if err := p.st.PutPresence("op1", store.Presence{Since: past.Add(-time.Minute), Wrap: &store.WrapUp{CallID: "c1", ClientID: "acme", Until: past}}); err != nil {
		t.Fatal(err)
	}
	p.stop()
	p = startPresence(t, path, cfg)
	if n, err := p.d.RestorePresence(func(string) bool { return true }); err != nil || n != 1 {
		t.Fatalf("RestorePresence = %d, %v", n, err)
	}
	if v := p.states(t)["op1"]; v.State != acd.Available || v.Since.Before(past) {
		t.Errorf("op1 after the restart: %v since %v, want available from now", v.State, v.Since)
	}
}

// TestPauseAskedOnTheCallAfterWrapUpOverByTheRestart: a break asked for
// on a call begins as its wrap-up ends; one that ended during the restart
// gave the operator back available, rung while away (a review). They are
// on the break they asked for, since the wrap-up's end.
func TestPauseAskedOnTheCallAfterWrapUpOverByTheRestart(t *testing.T) {
	cfg := presenceConfig(t)
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	p := startPresence(t, path, cfg)
	past := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	if err := p.st.PutPresence("op1", store.Presence{Since: past.Add(-time.Minute), Wrap: &store.WrapUp{CallID: "c1", ClientID: "acme", Until: past, Pause: "昼休憩"}}); err != nil {
		t.Fatal(err)
	}
	p.stop()
	p = startPresence(t, path, cfg)
	if _, err := p.d.RestorePresence(func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if v := p.states(t)["op1"]; v.State != acd.Paused || v.PauseReason != "昼休憩" || !v.Since.Equal(past) {
		t.Errorf("op1 after the restart: %v %q since %v, want paused 昼休憩 since the wrap-up's end %v", v.State, v.PauseReason, v.Since, past)
	}
}
