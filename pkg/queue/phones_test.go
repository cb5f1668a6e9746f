package queue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
)

// phones lists the phones the owner keeps a reachability or an other
// call of, read on its goroutine.
func phones(o *Owner) (reachable, otherCall map[string]bool) {
	res := make(chan [2]map[string]bool, 1)
	o.do(func() {
		r, oc := map[string]bool{}, map[string]bool{}
		for ep := range o.reachable {
			r[ep] = true
		}
		for ep := range o.otherCall {
			oc[ep] = true
		}
		res <- [2]map[string]bool{r, oc}
	})
	got := <-res
	return got[0], got[1]
}

func reachableOp(t *testing.T, o *Owner, id string) bool {
	t.Helper()
	s, err := o.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range s.Operators {
		if op.ID == id {
			return op.Reachable
		}
	}
	t.Fatalf("no operator %s", id)
	return false
}

// TestOwnerForgetsPhonesNoOperatorHas: operators added by a reload and
// removed by the next, each with a phone of its own. The owner kept the
// reachability (and an other call, its end never told) of every phone
// ever configured. A phone no operator has any more is forgotten, unless
// a call is still on it (until a reload after it ends); one given back
// to an operator is as the registry, which tracks it afresh, tells.
func TestOwnerForgetsPhonesNoOperatorHas(t *testing.T) {
	o := startOwner(t, acd.ClientSettings{RingTimeout: time.Minute})
	o.SetReachable("PJSIP/op1", true)
	op1 := Operator{ID: "op1", Endpoint: "PJSIP/op1", Clients: map[string]int{"*": 1}}
	tmp := func(i int) Operator {
		return Operator{ID: fmt.Sprintf("tmp%d", i), Endpoint: fmt.Sprintf("PJSIP/tmp%d", i), Clients: map[string]int{"*": 1}}
	}
	for i := range 50 {
		o.SetOperators([]Operator{op1, tmp(i)})
		o.SetReachable(tmp(i).Endpoint, true)
		o.SetOtherCall(tmp(i).Endpoint, true)
		o.SetReachable(tmp(i).Endpoint, false) // the registry: no longer tracked
		o.SetOperators([]Operator{op1})
	}
	if r, oc := phones(o); len(r) != 1 || !r["PJSIP/op1"] || len(oc) != 0 {
		t.Fatalf("after 50 operators added and removed, the reachability of %d phones kept, the other call of %d; want op1's reachability only", len(r), len(oc))
	}
	if !reachableOp(t, o, "op1") {
		t.Fatal("op1 lost its reachability")
	}

	// A phone with a call on it is kept until the call ends.
	o.SetOperators([]Operator{op1, tmp(99)})
	o.SetReachable(tmp(99).Endpoint, true)
	o.Occupy("c1", "acme", "tmp99", "")
	o.SetOperators([]Operator{op1})
	if r, _ := phones(o); !r["PJSIP/tmp99"] {
		t.Fatalf("the phone of a call going on forgotten: %v", r)
	}
	o.CallEnded("c1")
	o.SetOperators([]Operator{op1})
	if r, _ := phones(o); len(r) != 1 {
		t.Fatalf("after the call and a reload, reachable kept of %v, want op1's only", r)
	}

	// Given back: reachable once the registry says so.
	o.SetOperators([]Operator{op1, tmp(99)})
	if reachableOp(t, o, "tmp99") {
		t.Fatal("tmp99 reachable before its phone was read")
	}
	o.SetReachable(tmp(99).Endpoint, true)
	if !reachableOp(t, o, "tmp99") {
		t.Fatal("tmp99 not reachable once its phone was read")
	}
}
