package controller_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestRefusedGreetingThenAnsweredCall: queue mode. The greeting's play is
// refused with a genuine 500 (the caller stays on the line); the call goes
// on, is answered by op1001, they talk; at the end both hang up at once:
// the operator's BYE makes us DELETE the caller as the caller's own BYE
// arrives. The call was answered and is recorded as answered: the refusal
// (which would make a caller's hangup right after it a missed call) no
// longer outlives the greeting.
func TestRefusedGreetingThenAnsweredCall(t *testing.T) {
	for _, mode := range []string{"DELETE finds the caller gone (404)", "caller's hangup request follows our DELETE"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, oneClient)
			h.fake.AddEndpoint("PJSIP/op1001", true, answers)
			var plays atomic.Int32
			var caller atomic.Pointer[string]
			h.intercept(func(w http.ResponseWriter, r *http.Request) bool {
				id := caller.Load()
				if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/play") && plays.Add(1) == 1 {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(500)
					_, _ = w.Write([]byte(`{"message":"Failed to queue media for playback"}`))
					return true
				}
				if id != nil && r.Method == http.MethodDelete && r.URL.Path == "/ari/channels/"+*id {
					_ = h.fake.RemoteHangup(*id) // the caller's BYE, at the same instant
					if strings.HasPrefix(mode, "caller's") {
						w.WriteHeader(http.StatusNoContent)
						return true
					}
				}
				return false
			})
			h.start()
			h.eventually("op1001 available", func() bool { return h.operatorState("op1001") == acd.Available })
			id := h.call("0312345678", "0901234567")
			caller.Store(&id)
			rec := h.record(id)
			if rec.Result != store.ResultAnswered || !rec.Billable {
				var ev []string
				for _, e := range rec.Events {
					ev = append(ev, e.What)
				}
				t.Fatalf("record %s (%s) billable %v op %q; want answered, billable\nevents: %s", rec.Result, rec.Reason, rec.Billable, rec.OperatorID, strings.Join(ev, " | "))
			}
		})
	}
}
