package desk_test

import (
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestErasedCallersMissedCallNotRequeued: a missed call whose notice the
// caller's erasure took out of the outbox has no outbox entry any more;
// the next start's RequeueUnrelayedCalls must not take it for a notice
// never queued and send a new one for the blanked record.
func TestErasedCallersMissedCallNotRequeued(t *testing.T) {
	d, ob := newDesk(t)
	now := time.Now()
	rec := store.CallRecord{ID: "call-1", ClientID: "acme", CallerID: "09011112222", CallerKind: "number", Result: store.ResultAbandoned,
		WaitMS: 30000, StartedAt: now.Add(-10 * time.Minute), EndedAt: now.Add(-9 * time.Minute)}
	if err := d.Store.PutCall(rec); err != nil {
		t.Fatal(err)
	}
	d.Finished(rec)
	if es, _ := ob.List(relay.Filter{MessageID: "call-1-missed-call"}); len(es) == 0 {
		t.Fatal("no notice queued")
	}
	// What POST /api/v1/callers/forget does.
	f, err := d.Store.ForgetCaller("+819011112222", nil)
	if err != nil || len(f.Calls) != 1 {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := ob.Forget([]string{"call-1-missed-call", "call-1-voicemail"}); err != nil {
		t.Fatal(err)
	}
	// A restart.
	n, err := d.RequeueUnrelayedCalls(now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		es, _ := ob.List(relay.Filter{MessageID: "call-1-missed-call"})
		t.Fatalf("the erased caller's missed call was notified again after a restart: %d queued, %q", n, es[0].Message.Text)
	}
}
