package call

import (
	"context"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

type dropInbox struct{}

func (dropInbox) Push(ari.Event) {}

// TestCancelOfALegAlreadyGoneFreesTheOperator: the queue gives up a ring
// (here: the phone became unreachable) whose leg had ended as the cancel
// came (its failure, reported meanwhile, was ignored). The leg's end will
// not come again: the actor reports it gone at the cancel, so that the
// operator is rung for the next caller at once, not after
// acd.LegGoneWait.
func TestCancelOfALegAlreadyGoneFreesTheOperator(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rings := make(chan acd.Ring, 8)
	q := queue.New(queue.Options{
		Settings: func(string) acd.ClientSettings { return acd.ClientSettings{RingTimeout: time.Minute} },
		OnAction: func(a acd.Action) {
			if r, ok := a.(acd.Ring); ok {
				rings <- r
			}
		},
	})
	go q.Run(ctx)
	const ep = "PJSIP/op1"
	q.SetOperators([]queue.Operator{{ID: "op1", Endpoint: ep, Clients: map[string]int{"*": 1}}})
	q.SetReachable(ep, true)
	q.Enqueue(acd.Call{ID: "c1", ClientID: "acme"}, dropInbox{})
	var first acd.Ring
	select {
	case first = <-rings:
	case <-time.After(5 * time.Second):
		t.Fatal("op1 never rung for c1")
	}
	q.SetReachable(ep, false) // the ring is given up
	q.SetReachable(ep, true)
	q.Enqueue(acd.Call{ID: "c2", ClientID: "acme"}, dropInbox{})

	m := NewManager(ctx, Deps{Dispatcher: pbx.NewDispatcher(pbx.Hooks{}, storetest.Logger(t)), Queue: q,
		Config: func() *config.Config { return unseenConfig(t) }, Logger: storetest.Logger(t)})
	a := m.newActor("c1", nil)
	l := &leg{id: "c1-op-op1-1", opID: "op1", ring: first.Seq, gone: true}
	a.legs = map[string]*leg{l.id: l}
	start := time.Now()
	a.cancelRing("op1", first.Seq, "unreachable")
	for {
		select {
		case r := <-rings:
			if r.OpID != "op1" {
				continue
			}
			if d := time.Since(start); d >= acd.LegGoneWait/2 {
				t.Fatalf("op1 rung again %s after the cancel of a leg already gone: its end was not reported", d)
			}
			cancel()
			m.Wait()
			return
		case <-time.After(5 * time.Second):
			t.Fatal("op1 never rung again")
		}
	}
}
