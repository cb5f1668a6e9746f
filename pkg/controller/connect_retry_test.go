package controller_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/acd"
)

// TestEndpointSubscriptionRetriedAfterConnect: Asterisk, busy after its
// restart, answers the endpoint subscription 500 once. The link tries the
// connect hook again: a softphone that registers afterwards is reachable
// and rung, not left out until the next reconnect.
func TestEndpointSubscriptionRetriedAfterConnect(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", false, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	var failed atomic.Bool
	h.failThrough(func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/subscription") && failed.CompareAndSwap(false, true)
	})
	h.start()
	if err := h.fake.Register("PJSIP/op1001"); err != nil {
		t.Fatal(err)
	}
	h.eventually("op1001, registered after the failed subscription, available", func() bool {
		return failed.Load() && h.operatorState("op1001") == acd.Available
	})
}

// TestEndpointReadRetriedAfterConnect: op1001's softphone registered while
// the link was down (its event lost), and the read at connect fails once.
// The read is tried again: op1001 is available without waiting for its
// next event or a reconnect.
func TestEndpointReadRetriedAfterConnect(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	var failed atomic.Bool
	h.failThrough(func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/endpoints/PJSIP/op1001") && failed.CompareAndSwap(false, true)
	})
	h.start()
	h.eventually("op1001, its read failed once at connect, available", func() bool {
		return failed.Load() && h.operatorState("op1001") == acd.Available
	})
}
