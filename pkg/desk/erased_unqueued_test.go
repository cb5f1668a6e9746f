package desk_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/desk"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestErasedCallersUnqueuedNoticeNotSent: a missed call's notice the
// outbox could not take (a full disk) waits in memory; the caller's data
// is erased meanwhile; RetryUnqueued must not queue the notice (with the
// caller's number) after the erasure.
func TestErasedCallersUnqueuedNoticeNotSent(t *testing.T) {
	d, ob := newDesk(t)
	var fail atomic.Bool
	desk.FailOutboxWrites(d, &fail)
	now := time.Now()
	rec := store.CallRecord{ID: "call-1", ClientID: "acme", CallerID: "09011112222", CallerKind: "number", Result: store.ResultAbandoned,
		WaitMS: 30000, StartedAt: now.Add(-10 * time.Minute), EndedAt: now.Add(-9 * time.Minute)}
	if err := d.Store.PutCall(rec); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	d.Finished(rec)
	fail.Store(false)
	if _, err := d.Store.ForgetCaller("+819011112222", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Forget([]string{"call-1-missed-call", "call-1-voicemail"}); err != nil {
		t.Fatal(err)
	}
	if q, _ := d.RetryUnqueued(); q != 0 {
		es, _ := ob.List(relay.Filter{MessageID: "call-1-missed-call"})
		t.Fatalf("the erased caller's notice was queued after the erasure: %d, %q", q, es[0].Message.Text)
	}
}
