package controller_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/config"
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

// TestPhonesReadAgainAfterAReload: a reload adds op1003, whose softphone
// is registered; reading it fails once (Asterisk busy). It is read again
// shortly: op1003 is available without waiting for its next event or a
// reconnect.
func TestPhonesReadAgainAfterAReload(t *testing.T) {
	h := newHarness(t, oneClient)
	h.fake.AddEndpoint("PJSIP/op1001", true, answers)
	h.fake.AddEndpoint("PJSIP/op1002", false, answers)
	h.fake.AddEndpoint("PJSIP/op1003", true, answers)
	h.recheckAfter = 50 * time.Millisecond
	h.updates = make(chan *config.Config, 1)
	var failed atomic.Bool
	h.failThrough(func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/endpoints/PJSIP/op1003") && failed.CompareAndSwap(false, true)
	})
	h.start()
	h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
	full := fmt.Sprintf("ari: {url: %s, user: toritsugi, password: toritsugi}\ndata_dir: /nonexistent\n%s", h.cfg.ARI.URL,
		strings.Replace(oneClient, "operators:\n", "operators:\n  - {id: op1003, name: 高橋, endpoint: PJSIP/op1003, clients: [\"*\"]}\n", 1))
	cfg, err := config.Parse("test.yaml", []byte(full), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.updates <- cfg
	h.eventually("op1003, its read failed once after the reload, available", func() bool {
		return failed.Load() && h.operatorState("op1003") == acd.Available
	})
}
