//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/sipphone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// phaseTimeout bounds each phase of the scenario against the real PBX.
const phaseTimeout = 60 * time.Second

// TestAnsweringServiceScenario is the end-to-end scenario against a real
// Asterisk running asterisk-conf/: toritsugi connects over ARI, operators
// register their phones, a carrier-side caller dials each of three
// clients' numbers, operators answer, every call is stored as answered,
// and an intake taken on one call is saved and relayed to a signed
// webhook.
func TestAnsweringServiceScenario(t *testing.T) {
	e, err := loadEnv(os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	hookURL, hooks := startWebhook(t, hookSecret)

	svc := startService(t, e, hookURL, log)
	svc.waitUp(t, phaseTimeout)
	startOperators(t, e, log)
	svc.waitOperators(t, phaseTimeout)

	records := placeCalls(t, e, svc, log)

	// The operators held every call for a moment. Asterisk passes a hold
	// on in a two-party bridge; a recorded one (softmix) passes none, and
	// toritsugi plays the client's music into it: POST and DELETE
	// /bridges/{id}/moh answered, both noted in the call's timeline.
	for _, c := range clients {
		r := records[c.ID]
		ev := fmt.Sprint(r.Events)
		held := strings.Contains(ev, "on hold: music on hold played into the recorded conversation") && strings.Contains(ev, "off hold: music on hold stopped")
		if c.Record && (r.Recording == "" || !held) || !c.Record && strings.Contains(ev, "on hold") {
			t.Errorf("call to %s (record %v): recording %q, timeline %s", c.ID, c.Record, r.Recording, ev)
		}
	}

	// The operator of the first client's call takes the intake.
	rec := records[clients[0].ID]
	vals, errs, readBack := svc.desk.Validate(rec.ClientID, rec.ID, "", map[string]string{
		"company": "山田商事", "name": "山田太郎", "callback": "090-1234-0001", "purpose": "見積もり",
		"detail": "来月の工事の見積もり", "callback_needed": "no", "urgency": "normal",
	})
	if len(errs) != 0 {
		t.Fatalf("intake form refused the values: %v", errs)
	}
	now := time.Now()
	in, err := svc.store.PutIntake(store.Intake{
		ID: "e2e-" + rec.ID, CallID: rec.ID, ClientID: rec.ClientID, OperatorID: rec.OperatorID, EditedBy: rec.OperatorID,
		CallerNumber: rec.CallerID, Values: vals, ReadBack: readBack, UpdatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.desk.Submit(context.Background(), in); err != nil {
		t.Fatal(err)
	}

	select {
	case d := <-hooks:
		if d.err != nil {
			t.Fatalf("webhook request rejected: %v", d.err)
		}
		m := d.msg
		if m.ClientID != rec.ClientID || m.Kind != relay.KindIntake || m.Fields["name"] != "山田太郎" ||
			m.Fields["company"] != "山田商事" || m.Fields["operator"] != rec.OperatorID {
			t.Errorf("relayed message %+v, want the intake of call %s by %s", m, rec.ID, rec.OperatorID)
		}
	case <-time.After(phaseTimeout):
		t.Fatalf("webhook received nothing within %v", phaseTimeout)
	}
}

// placeCalls dials each client's number from the trunk side at once and
// waits until every call is stored; it returns the records by client id,
// each checked to be answered by an operator.
func placeCalls(t *testing.T, e env, svc *service, log *slog.Logger) map[string]store.CallRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), phaseTimeout)
	defer cancel()
	caller := newTrunkCaller(ctx, t, e, log)

	var wg sync.WaitGroup
	results := make([]error, len(clients))
	for i, c := range clients {
		wg.Go(func() {
			res, err := caller.Call(ctx, sipphone.CallOptions{
				To: "sip:" + c.Dial + "@" + e.SIPAddr, From: c.From,
				Hold: phaseTimeout - 10*time.Second, RingTimeout: 20 * time.Second,
			})
			switch {
			case errors.Is(err, sipphone.ErrRejected):
				results[i] = errors.Join(err, errors.New("is the test host's address the [trunk] identify match in pjsip.conf?"))
			case err != nil:
				results[i] = err
			default:
				log.Info("call ended", "client", c.ID, "answered_after", res.Answered, "talk", res.Talk, "hung_up_by", res.HungUpBy)
			}
		})
	}
	wg.Wait()
	for i, err := range results {
		if err != nil {
			t.Errorf("call to %s (%s): %v", clients[i].ID, clients[i].Dial, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	byClient := map[string]store.CallRecord{}
	for len(byClient) < len(clients) {
		select {
		case r := <-svc.finished:
			byClient[r.ClientID] = r
		case <-ctx.Done():
			t.Fatalf("only %d of %d calls stored within %v: %v", len(byClient), len(clients), phaseTimeout, byClient)
		}
	}
	for _, c := range clients {
		r, ok := byClient[c.ID]
		if !ok {
			t.Fatalf("no call stored for client %s (got %v)", c.ID, byClient)
		}
		stored, err := svc.store.Call(r.ID)
		if err != nil {
			t.Fatalf("call %s of %s: %v", r.ID, c.ID, err)
		}
		if stored.Result != store.ResultAnswered || stored.OperatorID == "" {
			t.Errorf("call to %s stored as %q by operator %q (%s), want answered by an operator", c.ID, stored.Result, stored.OperatorID, stored.Reason)
		}
		byClient[c.ID] = stored
	}
	if t.Failed() {
		t.FailNow()
	}
	return byClient
}

// newTrunkCaller is a SIP caller on the test host, as the carrier's side
// of the trunk, closed when the test ends.
func newTrunkCaller(ctx context.Context, t *testing.T, e env, log *slog.Logger) *sipphone.Caller {
	t.Helper()
	caller, err := sipphone.NewCaller(ctx, sipphone.CallerConfig{EndpointConfig: sipphone.EndpointConfig{
		Listen: net.JoinHostPort(e.LocalIP.String(), "0"), UserAgent: "toritsugi-e2e-trunk", Log: log.With("part", "caller"),
	}})
	if err != nil {
		t.Fatalf("caller: %v", err)
	}
	t.Cleanup(func() { _ = caller.Close() })
	return caller
}
