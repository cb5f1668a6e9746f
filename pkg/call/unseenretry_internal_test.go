package call

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/internal/leakcheck"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// flakyIfAbsent is a store whose first fails PutCallIfAbsent fail, as a
// full disk's commits do.
type flakyIfAbsent struct {
	*store.Store
	fails atomic.Int32
}

func (r *flakyIfAbsent) PutCallIfAbsent(c store.CallRecord) (bool, error) {
	if r.fails.Add(-1) >= 0 {
		return false, errors.New("write toritsugi.db: no space left on device")
	}
	return r.Store.PutCallIfAbsent(c)
}

// finishedRecords notes the records told to OnFinished (the relay's
// missed-call and voicemail notices).
type finishedRecords struct {
	mu   sync.Mutex
	recs []store.CallRecord
}

func (f *finishedRecords) add(rec store.CallRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs = append(f.recs, rec)
}

func (f *finishedRecords) get() []store.CallRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.CallRecord(nil), f.recs...)
}

// waitStored waits for call id's record (stored on a later try).
func waitStored(t *testing.T, s *store.Store, id string) store.CallRecord {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		rec, err := s.Call(id)
		if err == nil {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("no record of %s stored on a later try: %v", id, err)
		}
	}
}

// TestUnseenRecordStoredOnALaterTry: a caller who hung up waiting while
// no controller ran is recorded at the first connect from the state kept;
// the store failing that write (a full disk, for a moment) does not leave
// the call unrecorded and unrelayed until the next start, weeks away (a
// reviewer found it missing from the calls, the month's counts and the
// client's missed-call notices): it is stored again as a running call's
// record is, and its notice follows.
func TestUnseenRecordStoredOnALaterTry(t *testing.T) {
	leakcheck.Check(t)
	s := storetest.Open(t)
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	st := Persisted{ClientID: "acme", DID: "0312345678", Step: StepQueued, StartedAt: start, AnsweredAt: start, EnqueuedAt: start.Add(10 * time.Second)}
	s.SaveLive("c1", withWatchedUntil(LiveState("09012345678", st), start.Add(time.Minute)))
	waitLive(t, s, "c1")
	rec := &flakyIfAbsent{Store: s}
	rec.fails.Store(1)
	var told finishedRecords
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewManager(ctx, Deps{Recorder: rec, Config: func() *config.Config { return unseenConfig(t) }, Logger: storetest.Logger(t),
		RecordRetry: 10 * time.Millisecond, OnFinished: told.add})
	m.adopt(nil, nil) // the first connect: no channel, no bridge
	got := waitStored(t, s, "c1")
	if got.Result != store.ResultAbandoned || got.WaitMS != 50_000 {
		t.Fatalf("record %s (%s) waited %d ms; want the missed call, 50 s", got.Result, got.Reason, got.WaitMS)
	}
	for deadline := time.Now().Add(5 * time.Second); len(told.get()) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := told.get(); len(n) != 1 || n[0].ID != "c1" || n[0].Result != store.ResultAbandoned {
		t.Fatalf("records told for relay: %+v; want c1's, once", n)
	}
	if live, _, err := s.LiveCalls(); err != nil || live["c1"] != "" {
		t.Fatalf("live state after the record: %q, %v", live["c1"], err)
	}
	cancel()
	m.Wait()
}

// bridgeDeletes is an ARI client that notes the bridges deleted, and
// whether the call's record was stored by then.
type bridgeDeletes struct {
	ari.Client
	s       *store.Store
	call    string
	mu      sync.Mutex
	deleted []string
	early   bool // one was deleted before the record was stored
}

func (c *bridgeDeletes) Bridge() ari.Bridge { return deleteNoting{c: c} }

func (c *bridgeDeletes) get() ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.deleted...), c.early
}

type deleteNoting struct {
	ari.Bridge
	c *bridgeDeletes
}

func (b deleteNoting) Delete(key *ari.Key) error {
	_, err := b.c.s.Call(b.c.call)
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	b.c.deleted = append(b.c.deleted, key.ID)
	b.c.early = b.c.early || err != nil
	return nil
}

// TestBridgedUnseenCallKeptUntilRecorded: a call answered and bridged
// ended while no controller ran, and the store has no state of it (a
// restore from a backup, which leaves states out). Its bridge is all
// that says it was answered and billable: the first write of its record
// failing must not lose the call (its bridge was destroyed first, and the
// record only logged). It is stored on a later try, and the bridge
// destroyed only once it is.
func TestBridgedUnseenCallKeptUntilRecorded(t *testing.T) {
	leakcheck.Check(t)
	s := storetest.Open(t)
	rec := &flakyIfAbsent{Store: s}
	rec.fails.Store(1)
	cl := &bridgeDeletes{s: s, call: "c1"}
	var told finishedRecords
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewManager(ctx, Deps{Recorder: rec, ARI: cl, App: "toritsugi", Config: func() *config.Config { return unseenConfig(t) }, Logger: storetest.Logger(t),
		RecordRetry: 10 * time.Millisecond, OnFinished: told.add})
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	st := Persisted{ClientID: "acme", DID: "0312345678", StartedAt: start, AnsweredAt: start, Step: StepConnected, OpID: "op1001", OpChannel: "l", Bridge: "b1",
		BridgedAt: start.Add(10 * time.Second)}
	// The first connect: the operator's leg still in the bridge, the
	// caller gone.
	m.adopt(nil, []*ari.BridgeData{{ID: "b1", Name: BridgeName("toritsugi", "c1", "09012345678", st), ChannelIDs: []string{"l"}}})
	got := waitStored(t, s, "c1")
	if got.Result != store.ResultAnswered || !got.Billable || got.OperatorID != "op1001" {
		t.Fatalf("record %s (%s) billable=%v operator %q; want answered with op1001, billable", got.Result, got.Reason, got.Billable, got.OperatorID)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		deleted, early := cl.get()
		if early {
			t.Fatalf("bridges deleted %v, one before the record was stored", deleted)
		}
		if len(deleted) == 1 && deleted[0] == "b1" && len(told.get()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridges deleted %v, records told %d; want b1 destroyed once stored, the record told once", deleted, len(told.get()))
		}
	}
	cancel()
	m.Wait()
}
