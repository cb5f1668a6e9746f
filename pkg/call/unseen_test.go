package call

import (
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
)

func TestLiveStateRoundTrip(t *testing.T) {
	start := time.UnixMilli(1795898038000)
	for _, c := range []struct {
		number string
		st     Persisted
	}{
		{"0901234567", Persisted{ClientID: "acme", DID: "0312345678", Step: StepQueued, StartedAt: start, EnqueuedAt: start.Add(3 * time.Second)}},
		{"", Persisted{ClientID: "acme", DID: "1", Step: StepGreeting, StartedAt: start}}, // withheld
		{"+81 3&n=4", Persisted{ClientID: "a&n=c", DID: "1", Step: StepHangup, StartedAt: start, Result: "blocked", Reason: "blocked: n=1&x"}},
		{"0901234567", Persisted{ClientID: "acme", DID: "1", Step: StepConnected, StartedAt: start, OpID: "op1", OpChannel: "x-op", Bridge: "x-br"}},
	} {
		number, st, err := parseLiveState(LiveState(c.number, c.st))
		if err != nil || number != c.number || !st.StartedAt.Equal(c.st.StartedAt) || !st.EnqueuedAt.Equal(c.st.EnqueuedAt) {
			t.Fatalf("round trip of %q %+v = %q %+v, %v", c.number, c.st, number, st, err)
		}
		st.StartedAt, st.EnqueuedAt, c.st.StartedAt, c.st.EnqueuedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if st != c.st {
			t.Fatalf("round trip = %+v, want %+v", st, c.st)
		}
	}
	for _, bad := range []string{"", "n=1", "n=1&t=1&s=flying", "%zz"} {
		if _, _, err := parseLiveState(bad); err == nil {
			t.Errorf("parseLiveState(%q) accepted", bad)
		}
	}
}

func FuzzParseLiveState(f *testing.F) {
	f.Add(LiveState("0901234567", Persisted{ClientID: "acme", DID: "0312345678", Step: StepQueued, StartedAt: time.UnixMilli(1), EnqueuedAt: time.UnixMilli(2)}))
	f.Add("n=&t=1&s=greeting")
	f.Fuzz(func(t *testing.T, s string) {
		number, st, err := parseLiveState(s)
		if err != nil {
			return
		}
		n2, again, err := parseLiveState(LiveState(number, st))
		if err != nil || n2 != number || again.Step != st.Step || again.ClientID != st.ClientID || !again.StartedAt.Equal(st.StartedAt) {
			t.Fatalf("re-encoding %q %+v gave %q %+v, %v", number, st, n2, again, err)
		}
	})
}

// TestUnseenRecord: what a call that ended while no controller watched is
// recorded as, from the state it saved last.
func TestUnseenRecord(t *testing.T) {
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	now := start.Add(time.Minute)
	base := Persisted{ClientID: "acme", DID: "0312345678", StartedAt: start}
	with := func(f func(*Persisted)) Persisted { p := base; f(&p); return p }
	tests := []struct {
		name          string
		st            Persisted
		message, bill bool
		result        store.Result
		billable      bool
		waitMS        int64
		reason, opID  string
		wantRecording bool
	}{
		{name: "waiting: a missed call", st: with(func(p *Persisted) { p.Step, p.EnqueuedAt = StepQueued, start.Add(18*time.Second) }),
			result: store.ResultAbandoned, waitMS: 42000, reason: "at most 42s"},
		{name: "queue time after the restart (clocks apart)", st: with(func(p *Persisted) { p.Step, p.EnqueuedAt = StepQueued, now.Add(time.Second) }),
			result: store.ResultAbandoned, reason: "at most 0s"},
		{name: "greeting", st: with(func(p *Persisted) { p.Step = StepGreeting }), result: store.ResultAbandoned, reason: "during the greeting"},
		{name: "VIP transfer ringing", st: with(func(p *Persisted) { p.Step, p.VIP = StepTransfer, true }), result: store.ResultAbandoned, reason: "client's phone rang"},
		{name: "talking, bridge gone too", st: with(func(p *Persisted) { p.Step, p.OpID, p.OpChannel, p.Bridge = StepConnected, "op1", "l", "b" }),
			result: store.ResultAnswered, billable: true, opID: "op1", reason: "talked with op1"},
		{name: "transferred to the client", st: with(func(p *Persisted) { p.Step, p.OpChannel, p.Bridge = StepConnected, "x", "b" }),
			result: store.ResultTransferred, billable: true},
		{name: "after-hours voicemail left, billed", st: with(func(p *Persisted) { p.Step, p.Recording, p.Result = StepVoicemail, "vm1", "after-hours" }),
			message: true, bill: true, result: store.ResultVoicemail, billable: true, wantRecording: true, reason: "after hours"},
		{name: "overflow voicemail left", st: with(func(p *Persisted) { p.Step, p.Recording, p.Result = StepVoicemail, "vm1", "overflow" }),
			message: true, bill: true, result: store.ResultVoicemail, wantRecording: true, reason: "(overflow)"},
		{name: "voicemail not left", st: with(func(p *Persisted) {
			p.Step, p.Recording, p.Result, p.Reason = StepVoicemail, "vm1", "overflow", "overflow: max wait"
		}), result: store.ResultOverflow, reason: "overflow: max wait"},
		{name: "after hours, not billed", st: with(func(p *Persisted) { p.Step, p.Result, p.Reason = StepHangup, "after-hours", "closed: weekend" }),
			result: store.ResultAfterHours, reason: "closed: weekend"},
		{name: "after hours, billed", st: with(func(p *Persisted) { p.Step, p.Result = StepHangup, "after-hours" }), bill: true,
			result: store.ResultAfterHours, billable: true},
		{name: "blocked", st: with(func(p *Persisted) { p.Step, p.Result, p.Reason = StepHangup, "blocked", "blocked: sales" }), bill: true,
			result: store.ResultBlocked, reason: "blocked: sales"},
		{name: "callback offer", st: with(func(p *Persisted) { p.Step, p.Result, p.EnqueuedAt = StepCallback, "overflow", start }),
			result: store.ResultOverflow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := unseenRecord("c1", "09012345678", tc.st, now, tc.message, tc.bill)
			if rec.Result != tc.result || rec.Billable != tc.billable || rec.WaitMS != tc.waitMS || rec.OperatorID != tc.opID ||
				!strings.Contains(rec.Reason, tc.reason) || (rec.Recording != "") != tc.wantRecording {
				t.Fatalf("record %+v", rec)
			}
			if rec.ID != "c1" || rec.ClientID != "acme" || rec.DID != "0312345678" || rec.CallerID != "09012345678" || rec.CallerKind != "number" ||
				!rec.StartedAt.Equal(start) || !rec.EndedAt.Equal(now) || len(rec.Events) != 1 || !strings.Contains(rec.Events[0].What, "no controller watched") {
				t.Fatalf("record %+v", rec)
			}
		})
	}
}
