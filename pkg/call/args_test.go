package call

import (
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		want Args
		ok   bool
	}{
		{[]string{"inbound", "0312345678"}, Args{Leg: LegInbound, DID: "0312345678"}, true},
		{[]string{"inbound", "+81312345678"}, Args{Leg: LegInbound, DID: "+81312345678"}, true},
		{[]string{"0312345678"}, Args{Leg: LegInbound, DID: "0312345678"}, true},
		{[]string{"operator", "1795898038.56"}, Args{Leg: LegOperator, CallID: "1795898038.56"}, true},
		{[]string{"inbound", "03-1234"}, Args{}, false},
		{[]string{"inbound", ""}, Args{}, false},
		{[]string{"operator", ""}, Args{}, false},
		{[]string{"operator"}, Args{}, false},
		{nil, Args{}, false},
		{[]string{"s"}, Args{}, false},
		{[]string{"inbound", strings.Repeat("1", 21)}, Args{}, false},
	}
	for _, tt := range tests {
		got, err := ParseArgs(tt.args)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseArgs(%q) = %+v, %v; want %+v ok=%v", tt.args, got, err, tt.want, tt.ok)
		}
	}
	if a, err := argsFromAppData("toritsugi,inbound,0312345678"); err != nil || a.DID != "0312345678" {
		t.Errorf("argsFromAppData = %+v, %v", a, err)
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("inbound,0312345678")
	f.Add("operator,1.2")
	f.Add("+81312345678")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseArgs(strings.Split(s, ","))
		if err != nil {
			return
		}
		switch a.Leg {
		case LegInbound:
			if !validDID(a.DID) {
				t.Fatalf("accepted bad DID %q", a.DID)
			}
		case LegOperator, LegTransfer:
			if a.CallID == "" {
				t.Fatal("operator leg without call id")
			}
		default:
			t.Fatalf("unknown leg %v", a.Leg)
		}
	})
}

func TestPersistedRoundTrip(t *testing.T) {
	start := time.UnixMilli(1795898038000)
	for _, p := range []Persisted{
		{ClientID: "acme", DID: "0312345678", Step: StepGreeting, StartedAt: start},
		{ClientID: "acme", DID: "+81312345678", Step: StepQueued, StartedAt: start, EnqueuedAt: start.Add(3 * time.Second), VIP: true},
		{ClientID: "a&b=c", DID: "1", Step: StepConnected, StartedAt: start, OpID: "op1", OpChannel: "x-op", Bridge: "x-br"},
		{ClientID: "acme", DID: "1", Step: StepHangup, StartedAt: start, Result: "overflow", Reason: "overflow: max-wait"},
		{ClientID: "acme", DID: "1", Step: StepVoicemail, StartedAt: start, Recording: "1-2-vm-abc"},
		{ClientID: "acme", DID: "1", Step: StepCallback, StartedAt: start, Result: "overflow", Reason: "overflow: max-wait"},
	} {
		got, err := DecodePersisted(p.Encode())
		if err != nil || !got.StartedAt.Equal(p.StartedAt) || !got.EnqueuedAt.Equal(p.EnqueuedAt) {
			t.Fatalf("round trip of %+v = %+v, %v", p, got, err)
		}
		got.StartedAt, got.EnqueuedAt, p.StartedAt, p.EnqueuedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got != p {
			t.Fatalf("round trip = %+v, want %+v", got, p)
		}
	}
	for _, bad := range []string{"", "t=x&s=new", "t=1&s=flying", "t=1&s=connected", "t=1&s=queued&q=z", "%zz"} {
		if _, err := DecodePersisted(bad); err == nil {
			t.Errorf("DecodePersisted(%q) accepted", bad)
		}
	}
}

func FuzzDecodePersisted(f *testing.F) {
	f.Add(Persisted{ClientID: "acme", DID: "0312345678", Step: StepQueued, StartedAt: time.UnixMilli(1), EnqueuedAt: time.UnixMilli(2)}.Encode())
	f.Fuzz(func(t *testing.T, s string) {
		p, err := DecodePersisted(s)
		if err != nil {
			return
		}
		again, err := DecodePersisted(p.Encode())
		if err != nil || again.Step != p.Step || again.ClientID != p.ClientID || again.DID != p.DID {
			t.Fatalf("re-encoding %+v gave %+v, %v", p, again, err)
		}
	})
}

func TestAnnouncement(t *testing.T) {
	tests := []struct {
		pos  int
		wait time.Duration
		want string
	}{
		{1, 0, "sound:queue-youarenext"},
		{1, 2 * time.Minute, "sound:queue-youarenext sound:queue-holdtime number:2 sound:queue-minutes"},
		{4, 20 * time.Second, "sound:queue-thereare number:3 sound:queue-callswaiting"},
		{3, 90 * time.Second, "sound:queue-thereare number:2 sound:queue-callswaiting sound:queue-holdtime number:2 sound:queue-minutes"},
	}
	for _, tt := range tests {
		if got := strings.Join(Announcement(tt.pos, tt.wait), " "); got != tt.want {
			t.Errorf("Announcement(%d, %v) = %s, want %s", tt.pos, tt.wait, got, tt.want)
		}
	}
}
