package queue

import (
	"context"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
)

// waitingRings returns the operators ringing for callID (ok false when the
// call is not waiting).
func waitingRings(t *testing.T, o *Owner, callID string) ([]string, bool) {
	t.Helper()
	s, err := o.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range s.Clients {
		for _, w := range cv.Waiting {
			if w.CallID == callID {
				return w.RingingOps, true
			}
		}
	}
	return nil, false
}

func TestOwnerOccupyKeepsOperatorBusyUntilCallEnds(t *testing.T) {
	o := startOwner(t, acd.ClientSettings{RingTimeout: time.Minute})
	// Re-adopted before the softphone's registration is read.
	o.Occupy("c1", "acme", "op1", "")
	if got := state(t, o, "op1"); got != acd.OnCall {
		t.Fatalf("occupied operator is %v, want on-call", got)
	}
	in := newRecInbox()
	o.Enqueue(acd.Call{ID: "c2", ClientID: "acme"}, in)
	o.SetReachable("PJSIP/op1", true)
	if got := state(t, o, "op1"); got != acd.OnCall {
		t.Fatalf("after registration the operator is %v, want still on-call", got)
	}
	if rings, ok := waitingRings(t, o, "c2"); !ok || len(rings) != 0 {
		t.Fatalf("c2 waiting %v ringing %v, want waiting and not ringing", ok, rings)
	}
	o.CallEnded("c1")
	if ring, ok := in.next(t).(*RingOperator); !ok || ring.OpID != "op1" {
		t.Fatalf("after the re-adopted call ended got %#v, want RingOperator op1", ring)
	}
}

func TestOwnerOccupyManualOperatorLoggedOutAfter(t *testing.T) {
	o := runOwner(t, Options{Settings: func(string) acd.ClientSettings { return acd.ClientSettings{} }})
	o.SetOperators([]Operator{{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}, Manual: true}})
	o.SetReachable("PJSIP/op1", true)
	o.Occupy("c1", "acme", "op1", "")
	if got := state(t, o, "op1"); got != acd.OnCall {
		t.Fatalf("occupied console operator is %v, want on-call", got)
	}
	o.CallEnded("c1")
	if got := state(t, o, "op1"); got != acd.Offline {
		t.Fatalf("console operator after the call is %v, want offline (a restart logs them out)", got)
	}
}
