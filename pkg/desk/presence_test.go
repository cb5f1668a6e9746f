package desk_test

import (
	"context"
	"path/filepath"
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
  - {id: op1, name: 佐藤, endpoint: PJSIP/op1, clients: ["*"], password_hash: "$2a$10$abcdefghijklmnopqrstuuWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"}
  - {id: op2, name: 鈴木, endpoint: PJSIP/op2, clients: ["*"], password_hash: "$2a$10$abcdefghijklmnopqrstuuWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"}
  - {id: op3, name: 高橋, endpoint: PJSIP/op3, clients: ["*"], password_hash: "$2a$10$abcdefghijklmnopqrstuuWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"}
  - {id: op4, name: 田中, endpoint: PJSIP/op4, clients: ["*"], password_hash: "$2a$10$abcdefghijklmnopqrstuuWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"}
`

// TestPresenceOutlivesARestart: console operators who chose to take calls
// (or a break, with its reason) are back in that state after a restart,
// if still logged in; one whose session ended, or who logged out, is
// offline, and their choice is forgotten. Before, a restart left every
// console operator offline: the callers re-adopted in line were rung by
// nobody until each operator pressed 受付可 again.
func TestPresenceOutlivesARestart(t *testing.T) {
	cfg, err := config.Parse("test.yaml", []byte(presenceYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	var ops []queue.Operator
	for _, op := range cfg.Operators {
		ops = append(ops, queue.Operator{ID: op.ID, Endpoint: op.Endpoint, Clients: op.Skills(), Manual: true})
	}
	// start is one process's desk and queue on the store file.
	start := func() (*desk.Desk, *store.Store) {
		st := storetest.OpenPath(t, path)
		q := queue.New(queue.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); q.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		q.SetOperators(ops)
		for _, op := range ops {
			q.SetReachable(op.Endpoint, true)
		}
		return &desk.Desk{Config: func() *config.Config { return cfg }, Store: st, Queue: q, Logger: storetest.Logger(t)}, st
	}
	d, st := start()
	now := time.Now()
	for _, id := range []string{"op1", "op2", "op4"} { // op3's session ended meanwhile
		if err := st.PutSession("key-"+id, store.Session{OperatorID: id, Created: now, LastSeen: now}); err != nil {
			t.Fatal(err)
		}
	}
	d.SetAvailable("op1")
	d.Pause("op2", "休憩")
	d.SetAvailable("op3")
	d.SetAvailable("op4")
	d.Logout("op4")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	d, st = start()
	if n, err := d.RestorePresence(); err != nil || n != 2 {
		t.Fatalf("RestorePresence = %d, %v; want op1 and op2", n, err)
	}
	want := map[string]struct {
		state  acd.State
		reason string
	}{"op1": {acd.Available, ""}, "op2": {acd.Paused, "休憩"}, "op3": {acd.Offline, ""}, "op4": {acd.Offline, ""}}
	snap, err := d.Queue.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range snap.Operators {
		if w := want[v.ID]; v.State != w.state || v.State == acd.Paused && v.PauseReason != w.reason {
			t.Errorf("%s after the restart: %v %q, want %v %q", v.ID, v.State, v.PauseReason, w.state, w.reason)
		}
	}
	saved, err := st.Presences()
	if err != nil || len(saved) != 2 || saved["op3"] != (store.Presence{}) || saved["op4"] != (store.Presence{}) {
		t.Errorf("presences kept: %v (%v), want op1 and op2 only", saved, err)
	}
}
