package sipphone

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// startOperators runs an OperatorPhone against pbx until the test ends and
// waits for every account to register.
func startOperators(t *testing.T, pbx *testPBX, cfg OperatorConfig) *OperatorPhone {
	t.Helper()
	cfg.Registrar = pbx.addr.String()
	cfg.Transport = pbx.transport
	o, err := NewOperatorPhone(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	for range cfg.Accounts {
		select {
		case <-pbx.regs:
		case err := <-done:
			t.Fatalf("run ended before registering: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("operators did not register")
		}
	}
	return o
}

var testOps = []OperatorAccount{{"op1001", "pw1"}, {"op1002", "pw2"}}

func testUsers() map[string]string { return map[string]string{"op1001": "pw1", "op1002": "pw2"} }

func TestOperatorsRegisterAndAnswer(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			pbx := newTestPBX(t, tr, testUsers(), false)
			o := startOperators(t, pbx, OperatorConfig{Accounts: testOps, AnswerAfter: 30 * time.Millisecond, Talk: 300 * time.Millisecond, Media: MediaEcho, Expires: 120 * time.Second})
			pbx.mu.Lock()
			exp := pbx.expires["op1002"]
			pbx.mu.Unlock()
			if exp != 120 {
				t.Errorf("Expires sent = %d, want 120", exp)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			rr, err := pbx.ring(ctx, "op1001", 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			// sipgo may hand back-to-back provisionals up out of order on TCP.
			if !slices.Contains(rr.codes, 100) || !slices.Contains(rr.codes, 180) || rr.final != 200 || !rr.hungUp {
				t.Fatalf("codes %v hungUp %v", rr.codes, rr.hungUp)
			}
			if rr.rtp == 0 {
				t.Error("PBX got no echoed RTP")
			}
			rep := waitReport(t, o, func(r OperatorReport) bool { return r.LocalBye == 1 && r.RTPReceived > 0 })
			if rep.Invites != 1 || rep.Answered != 1 || rep.Registrations < 2 {
				t.Errorf("report %+v", rep)
			}
		})
	}
}

// TestOperatorHoldsAndUnholds: an operator phone with HoldAfter puts the
// answered call on hold (a re-INVITE offering sendonly, acknowledged) and
// off hold (sendrecv) HoldFor later, in the call's dialog, before its BYE.
func TestOperatorHoldsAndUnholds(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			pbx := newTestPBX(t, tr, testUsers(), false)
			var mu sync.Mutex
			var kinds []string
			o := startOperators(t, pbx, OperatorConfig{Accounts: testOps, AnswerAfter: 10 * time.Millisecond, Talk: 600 * time.Millisecond,
				HoldAfter: 100 * time.Millisecond, HoldFor: 200 * time.Millisecond, Media: MediaEcho,
				OnEvent: func(ev OperatorEvent) {
					if ev.Kind == "hold" || ev.Kind == "unhold" || ev.Kind == "local-bye" {
						mu.Lock()
						kinds = append(kinds, fmt.Sprintf("%s %v", ev.Kind, ev.Err))
						mu.Unlock()
					}
				}})
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			rr, err := pbx.ring(ctx, "op1001", 0, nil)
			if err != nil || rr.final != 200 || !rr.hungUp {
				t.Fatalf("ring: %+v, %v", rr, err)
			}
			waitReport(t, o, func(r OperatorReport) bool { return r.LocalBye == 1 })
			pbx.mu.Lock()
			reinvites, acks := slices.Clone(pbx.reinvites), pbx.acks
			pbx.mu.Unlock()
			if !slices.Equal(reinvites, []string{"sendonly", "sendrecv"}) || acks != 2 {
				t.Fatalf("re-INVITEs %v, %d ACKs; want sendonly then sendrecv, each acknowledged", reinvites, acks)
			}
			mu.Lock()
			defer mu.Unlock()
			if want := []string{"hold <nil>", "unhold <nil>", "local-bye <nil>"}; !slices.Equal(kinds, want) {
				t.Fatalf("events %v, want %v", kinds, want)
			}
		})
	}
}

func TestOperatorsRejectBusy(t *testing.T) {
	pbx := newTestPBX(t, "udp", testUsers(), false)
	o := startOperators(t, pbx, OperatorConfig{Accounts: testOps[:1], Reject: 486})
	rr, err := pbx.ring(t.Context(), "op1001", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rr.final != 486 {
		t.Fatalf("final %d, want 486 (codes %v)", rr.final, rr.codes)
	}
	waitReport(t, o, func(r OperatorReport) bool { return r.Rejected == 1 })
}

func TestOperatorsNoAnswerUntilCancel(t *testing.T) {
	pbx := newTestPBX(t, "tcp", testUsers(), false)
	o := startOperators(t, pbx, OperatorConfig{Accounts: testOps[:1], NoAnswer: true})
	ctx, cancel := context.WithCancel(t.Context())
	rr, err := pbx.ring(ctx, "op1001", 0, cancel)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ring err = %v, want canceled", err)
	}
	if rr.final != 487 {
		t.Fatalf("final %d, want 487 (codes %v)", rr.final, rr.codes)
	}
	waitReport(t, o, func(r OperatorReport) bool { return r.Canceled == 1 && r.Answered == 0 })
}

func TestOperatorsBadPassword(t *testing.T) {
	pbx := newTestPBX(t, "udp", map[string]string{"op1001": "other"}, false)
	o, err := NewOperatorPhone(t.Context(), OperatorConfig{Registrar: pbx.addr.String(), Accounts: testOps[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Run(t.Context()); !errors.Is(err, ErrRegister) {
		t.Fatalf("run = %v, want ErrRegister", err)
	}
}

func TestParseAccounts(t *testing.T) {
	tests := []struct {
		in      string
		want    []OperatorAccount
		wantErr bool
	}{
		{"op1001:secret,op1002:s2", []OperatorAccount{{"op1001", "secret"}, {"op1002", "s2"}}, false},
		{" op1:a:b ", []OperatorAccount{{"op1", "a:b"}}, false},
		{"op1", nil, true},
		{"", nil, true},
	}
	for _, tc := range tests {
		got, err := ParseAccounts(tc.in)
		if (err != nil) != tc.wantErr || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ParseAccounts(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// waitReport polls the report until cond holds; operator events are
// emitted from sipgo handler goroutines after the PBX-side call returns.
func waitReport(t *testing.T, o *OperatorPhone, cond func(OperatorReport) bool) OperatorReport {
	t.Helper()
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		r := o.Report()
		if cond(r) {
			return r
		}
		select {
		case <-deadline:
			t.Fatalf("report never matched: %+v", r)
		case <-tick.C:
		}
	}
}
