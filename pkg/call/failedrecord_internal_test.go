package call

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/gogo/protobuf/types"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// heldLive is a store whose live states are held back, as a disk that
// fails writes them late.
type heldLive struct {
	*store.Store
	mu   sync.Mutex
	held map[string]string
}

func (h *heldLive) SaveLive(id, state string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == nil {
		h.held = map[string]string{}
	}
	h.held[id] = state
}

// TestFailedRecordNotReplacedByNeverSeen: an answered call's record
// fails to be stored (the disk, for a moment) and waits to be tried
// again, its state not written either; the call's StasisEnd comes after
// its actor is gone. It is not recorded as a call never seen (a missed
// call, unbilled, notified to the client): the controller stops before
// the retry, and the next start records the call answered and billable
// from its state (a review of billing found the missed-call record, and
// the state then skipped at close as the call had a record).
func TestFailedRecordNotReplacedByNeverSeen(t *testing.T) {
	s := storetest.Open(t)
	rec := &heldLive{Store: s}
	ctx, cancel := context.WithCancel(context.Background())
	m := NewManager(ctx, Deps{Recorder: rec, Config: func() *config.Config { return unseenConfig(t) }, RecordRetry: time.Hour, Logger: storetest.Logger(t)})
	started := time.Now().Add(-2 * time.Minute).Truncate(time.Millisecond)
	answered := store.CallRecord{ID: "c1", ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
		Result: store.ResultAnswered, Reason: "talked with op1001", OperatorID: "op1001", Billable: true,
		StartedAt: started, AnsweredAt: started, BridgedAt: started.Add(5 * time.Second), EndedAt: started.Add(time.Minute)}
	st := Persisted{ClientID: "acme", DID: "0312345678", Step: StepConnected, StartedAt: started, OpID: "op1001", OpChannel: "op-leg", Bridge: "b1",
		Result: string(store.ResultAnswered), Reason: "talked with op1001", AnsweredAt: started, BridgedAt: started.Add(5 * time.Second)}
	rec.SaveLive("c1", withEndedAt(withWatchedUntil(LiveState(answered.CallerID, st), answered.EndedAt), answered.EndedAt))
	m.retryRecord(answered)
	m.Hooks().Other(&ari.StasisEnd{Channel: ari.ChannelData{ID: "c1", Caller: &ari.CallerID{Number: "09012345678"},
		Creationtime: &types.Timestamp{Seconds: started.Unix(), Nanos: int32(started.Nanosecond())},
		Dialplan:     &ari.DialplanCEP{Context: "from-trunk", AppName: "Stasis", AppData: "toritsugi,inbound,0312345678"}}})
	time.Sleep(100 * time.Millisecond)
	cancel()
	m.Wait()
	if got, err := s.Call("c1"); err == nil {
		t.Fatalf("recorded as a call never seen: %s %q", got.Result, got.Reason)
	}
	// The disk is back: the state is written, and the next start records
	// the call from it.
	for id, v := range rec.held {
		s.SaveLive(id, v)
	}
	state := waitLive(t, s, "c1")
	next := NewManager(context.Background(), Deps{Recorder: s, Config: func() *config.Config { return unseenConfig(t) }, Logger: storetest.Logger(t)})
	next.recordUnseen("c1", state, time.Time{})
	got, err := s.Call("c1")
	c, _ := s.MonthlyCounts("acme", started)
	if err != nil || got.Result != store.ResultAnswered || !got.Billable || c.Billable != 1 {
		t.Fatalf("answered call recorded as %s billable=%v (month billable %d), %v; want answered, billable", got.Result, got.Billable, c.Billable, err)
	}
}
