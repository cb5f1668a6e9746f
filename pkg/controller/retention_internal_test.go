package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestEachCallPagesThroughEveryCall: a sweep reads the calls a page at a
// time and sees each once, also when more calls than a page started at the
// same instant (a page boundary falls among them).
func TestEachCallPagesThroughEveryCall(t *testing.T) {
	st := storetest.Open(t)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var want []string
	const page = 10
	for i := range 2*page + 7 {
		at := t0.Add(time.Duration(i) * time.Second)
		if i >= 3 && i < 3+page+5 {
			at = t0.Add(3 * time.Second) // a crowd at one instant, across a page boundary
		}
		rec := store.CallRecord{ID: fmt.Sprintf("c%04d", i), ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
			Result: store.ResultAbandoned, Reason: "caller hung up", WaitMS: 1000, StartedAt: at, EndedAt: at.Add(time.Minute)}
		if err := st.PutCall(rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec.ID)
	}
	r := &Retention{Store: st, page: page}
	seen := map[string]int{}
	err := r.eachCall(context.Background(), store.CallFilter{ClientID: "acme"}, func(c store.CallRecord) { seen[c.ID]++ })
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Fatalf("call %s seen %d times; %d calls seen in all, want %d each once", id, seen[id], len(seen), len(want))
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d calls seen, want %d", len(seen), len(want))
	}
}

// slowDeletes is an ARI client whose stored recordings' deletes each take
// delay (an Asterisk that answers at the request timeout), and that says
// when the first began.
type slowDeletes struct {
	ari.Client
	delay   time.Duration
	began   chan struct{}
	once    sync.Once
	deletes atomic.Int64
}

func (d *slowDeletes) StoredRecording() ari.StoredRecording { return slowStored{storedDeletes{}, d} }

type slowStored struct {
	storedDeletes
	d *slowDeletes
}

func (s slowStored) Delete(*ari.Key) error {
	s.d.once.Do(func() { close(s.d.began) })
	time.Sleep(s.d.delay)
	s.d.deletes.Add(1)
	return nil
}

// TestRetentionStopsWithTheController: a stop during a long sweep (the
// first after an upgrade, a recording to delete for each of a year's
// calls, each delete up to the ARI request timeout) does not wait for the
// rest of it: the controller's Run waits for the retention, and the stop
// waited for every delete, far past systemd's 30 s, the live calls'
// states unwritten. The client whose sweep was cut keeps its cutoff: the
// next start goes on from its first call.
func TestRetentionStopsWithTheController(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(daysConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	old := now.Add(-60 * 24 * time.Hour)
	const calls = 200
	for i := range calls {
		at := old.Add(time.Duration(i) * time.Minute)
		rec := store.CallRecord{ID: fmt.Sprintf("c%04d", i), ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
			Result: store.ResultAnswered, OperatorID: "op1001", StartedAt: at, EndedAt: at.Add(time.Minute), Recording: fmt.Sprintf("rec-%04d", i)}
		if err := st.PutCall(rec); err != nil {
			t.Fatal(err)
		}
	}
	// 200 deletes of 50 ms: 10 s for the whole sweep.
	ari1 := &slowDeletes{delay: 50 * time.Millisecond, began: make(chan struct{})}
	r := &Retention{Store: st, ARI: ari1, Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t), orphansSwept: now}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, time.Hour) }()
	<-ari1.began
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatalf("the retention still ran 2 s after the stop (%d of %d recordings deleted)", ari1.deletes.Load(), calls)
	}
	n := ari1.deletes.Load()
	if n >= calls {
		t.Fatalf("all %d recordings deleted: the sweep was not cut", n)
	}
	swept, err := st.RetentionSwept()
	if err != nil {
		t.Fatal(err)
	}
	if !swept["acme"].IsZero() {
		t.Fatalf("acme's cutoff after a sweep cut short: %v, want none (the next start goes on from the first call)", swept["acme"])
	}
	// The next start's sweep deletes the rest (and the first again:
	// Asterisk answers 404, fine), and moves the cutoff on.
	ari2 := &slowDeletes{began: make(chan struct{})}
	r2 := &Retention{Store: st, ARI: ari2, Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t), orphansSwept: now}
	if _, err := r2.Sweep(now); err != nil {
		t.Fatal(err)
	}
	if got := ari2.deletes.Load(); got+n < calls {
		t.Fatalf("the sweep after the restart deleted %d, %d before: %d recordings left", got, n, calls-got-n)
	}
	if swept, err := st.RetentionSwept(); err != nil || !swept["acme"].Equal(now.Add(-30*24*time.Hour)) {
		t.Fatalf("acme's cutoff after the next sweep: %v (%v)", swept["acme"], err)
	}
}
