//go:build e2e

package e2e

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/sipphone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestClosedClientRefusesUnanswered: a client closed, with nothing to say
// after hours and no voicemail, has its callers refused unanswered: no 200
// (the caller's carrier would bill a connected call) and SIP 480, the
// cause toritsugi gives Asterisk (no_answer), not 603 Decline, which
// chan_pjsip sends for "normal" on an unanswered channel. The call is
// recorded after-hours.
func TestClosedClientRefusesUnanswered(t *testing.T) {
	e, err := loadEnv(os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := startService(t, e, "http://127.0.0.1:1/unused", log)
	svc.waitUp(t, phaseTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), phaseTimeout)
	defer cancel()
	caller := newTrunkCaller(ctx, t, e, log)
	before := time.Now().Add(-time.Second)
	res, err := caller.Call(ctx, sipphone.CallOptions{To: "sip:" + closed.Dial + "@" + e.SIPAddr, From: closed.From, RingTimeout: 30 * time.Second})
	if !errors.Is(err, sipphone.ErrRejected) || res.StatusCode != 480 || res.Answered != 0 {
		t.Fatalf("a call to a closed client with nothing to say: %+v, %v; want refused with 480, never answered", res, err)
	}
	var found *store.CallRecord
	poll(t, phaseTimeout, "the refused call's record", func() (bool, string) {
		calls, err := svc.store.ListCalls(store.CallFilter{ClientID: closed.ID, From: before})
		if err == nil && len(calls) > 0 {
			found = &calls[0]
		}
		return found != nil, "list: " + errString(err)
	})
	if found.Result != store.ResultAfterHours || !found.AnsweredAt.IsZero() {
		t.Errorf("record %+v, want after-hours, never answered", *found)
	}
}
