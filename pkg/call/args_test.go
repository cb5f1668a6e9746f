package call

import (
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
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
		// A Request-URI user with number-portability parameters, passed
		// whole when pjsip.conf lacks ignore_uri_user_options.
		{[]string{"inbound", "0312345678;npdi;rn=+81312340000"}, Args{Leg: LegInbound, DID: "0312345678"}, true},
		{[]string{"0312345678;npdi"}, Args{Leg: LegInbound, DID: "0312345678"}, true},
		{[]string{"inbound", "3;user=phone", "to"}, Args{Leg: LegInbound, DIDInTo: true, Exten: "3"}, true},
		{[]string{"inbound", ";npdi"}, Args{}, false},
		{[]string{"operator", "1795898038.56"}, Args{Leg: LegOperator, CallID: "1795898038.56"}, true},
		{[]string{"inbound", "03-1234"}, Args{}, false},
		{[]string{"inbound", ""}, Args{}, false},
		{[]string{"operator", ""}, Args{}, false},
		{[]string{"operator"}, Args{}, false},
		{nil, Args{}, false},
		{[]string{"s"}, Args{}, false},
		{[]string{"inbound", strings.Repeat("1", 21)}, Args{}, false},
		// A gateway that calls an extension: the number is in the To header.
		{[]string{"inbound", "3", "to"}, Args{Leg: LegInbound, DIDInTo: true, Exten: "3"}, true},
		{[]string{"inbound", "s", "to"}, Args{Leg: LegInbound, DIDInTo: true, Exten: "s"}, true},
		{[]string{"inbound", "0312345678", "to"}, Args{Leg: LegInbound, DIDInTo: true, Exten: "0312345678"}, true},
		{[]string{"inbound", "", "to"}, Args{}, false},
		{[]string{"inbound", "h", "to"}, Args{}, false}, // the hangup extension
		{[]string{"inbound", "3", "from"}, Args{}, false},
		{[]string{"inbound", "3 4", "to"}, Args{}, false},
		{[]string{"inbound", "3", "to", "x"}, Args{}, false},
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
	if a, err := argsFromAppData("toritsugi,inbound,3,to"); err != nil || !a.DIDInTo || a.Exten != "3" {
		t.Errorf("argsFromAppData = %+v, %v", a, err)
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("inbound,0312345678")
	f.Add("operator,1.2")
	f.Add("+81312345678")
	f.Add("inbound,3,to")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseArgs(strings.Split(s, ","))
		if err != nil {
			return
		}
		switch a.Leg {
		case LegInbound:
			if a.DIDInTo {
				if a.DID != "" || !validExten(a.Exten) {
					t.Fatalf("accepted %+v", a)
				}
			} else if !validDID(a.DID) {
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
		// The recording notice heard after the greeting.
		{ClientID: "acme", DID: "1", Step: StepQueued, StartedAt: start, EnqueuedAt: start.Add(3 * time.Second), NoticeHeard: true},
		// A ringback caller answered at the connect, not greeted yet.
		{ClientID: "acme", DID: "1", Step: StepQueued, StartedAt: start, EnqueuedAt: start.Add(3 * time.Second), AnsweredAt: start.Add(9 * time.Second), Ungreeted: true},
		// Callers queued in one millisecond keep their order across a
		// restart: the enqueue time is kept to the nanosecond.
		{ClientID: "acme", DID: "1", Step: StepQueued, StartedAt: start, EnqueuedAt: start.Add(3*time.Second + 417*time.Microsecond + 9)},
		{ClientID: "a&b=c", DID: "1", Step: StepConnected, StartedAt: start, OpID: "op1", OpChannel: "x-op", Bridge: "x-br"},
		{ClientID: "acme", DID: "1", Step: StepConnected, StartedAt: start, VIP: true, OpChannel: "x-xfer", Bridge: "x-br"}, // the client's phone
		{ClientID: "acme", DID: "1", Step: StepHangup, StartedAt: start, Result: "overflow", Reason: "overflow: max-wait"},
		// Decided after hours, billed or not as the client said then.
		{ClientID: "acme", DID: "1", Step: StepHangup, StartedAt: start, Result: "after-hours", Reason: "closed: holiday", BillAfterHours: BillYes},
		{ClientID: "acme", DID: "1", Step: StepHangup, StartedAt: start, Result: "after-hours", Reason: "closed: holiday", BillAfterHours: BillNo},
		{ClientID: "acme", DID: "1", Step: StepHangup, StartedAt: start, Result: "overflow", Reason: "overflow: max-wait", Then: ThenVoicemail + "overflow", Playback: "1-pb-ab12cd34-2", Prompt: true},
		{ClientID: "acme", DID: "1", Step: StepVoicemail, StartedAt: start, Recording: "1-2-vm-abc"},
		// The conversation Asterisk could not record, and why.
		{ClientID: "acme", DID: "1", Step: StepConnected, StartedAt: start, OpID: "op1", OpChannel: "x-op", Bridge: "x-br", RecordingFailed: "disk full & r=x"},
		// A VIP back from a transfer: max_wait counts from the return.
		{ClientID: "acme", DID: "1", Step: StepQueued, StartedAt: start, EnqueuedAt: start.Add(3 * time.Second), VIP: true, WaitFrom: start.Add(40 * time.Second)},
		// The message Asterisk could not record: said to the client.
		{ClientID: "acme", DID: "1", Step: StepHangup, StartedAt: start, Result: "overflow", Reason: "overflow: max-wait", VoicemailFailed: true},
		// A message with nothing said in it.
		{ClientID: "acme", DID: "1", Step: StepVoicemail, StartedAt: start, Recording: "1-2-vm-abc", Result: "overflow", Reason: "overflow: max-wait", VoicemailSilent: true, SilenceDetected: true},
		{ClientID: "acme", DID: "1", Step: StepCallback, StartedAt: start, Result: "overflow", Reason: "overflow: max-wait", Playback: "1-pb-ab12cd34-3"},
		// Thanked for a callback to a number keyed.
		{ClientID: "acme", DID: "1", Step: StepHangup, StartedAt: start, Result: "overflow", Reason: "overflow: callback requested", CallbackNumber: "+819011112222"},
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
	// The state an older version saved: the enqueue time in milliseconds.
	if got, err := DecodePersisted("c=acme&d=1&s=queued&t=1795898038000&q=1795898041000"); err != nil || !got.EnqueuedAt.Equal(start.Add(3*time.Second)) {
		t.Fatalf("an older version's state = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "t=x&s=new", "t=1&s=flying", "t=1&s=connected", "t=1&s=queued&q=z", "t=1&s=queued&qn=z", "%zz"} {
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

func TestBridgeName(t *testing.T) {
	start := time.UnixMilli(1795898038000)
	for _, p := range []bridgePeer{
		{App: "toritsugi", Call: "1795916251.1", CallerNumber: "0901234567", State: Persisted{ClientID: "acme", DID: "0312345678", Step: StepConnected,
			StartedAt: start, EnqueuedAt: start.Add(3 * time.Second), OpID: "op1000", OpChannel: "1795916251.1-op-op1000-31c0c606-2", Bridge: "1795916251.1-br-31c0c606-4"}},
		// The client's phone (VIP transfer): no operator; a withheld number.
		{App: "toritsugi", Call: "1795916251.1", State: Persisted{ClientID: "acme", DID: "1", Step: StepConnected, StartedAt: start, VIP: true,
			OpChannel: "1795916251.1-xfer-31c0c606-2", Bridge: "b"}},
		{App: "tori tsugi&2", Call: "a&b=c;d", CallerNumber: "+81 3&4", State: Persisted{ClientID: "a&b=c", DID: "1", Step: StepConnected, StartedAt: start,
			OpID: "op-1&2", OpChannel: "x y", Bridge: "b;1"}},
	} {
		got, ok := parseBridgeName(BridgeName(p.App, p.Call, p.CallerNumber, p.State))
		if !ok || !got.State.StartedAt.Equal(p.State.StartedAt) || !got.State.EnqueuedAt.Equal(p.State.EnqueuedAt) {
			t.Fatalf("round trip of %+v = %+v, %v", p, got, ok)
		}
		got.State.StartedAt, got.State.EnqueuedAt, p.State.StartedAt, p.State.EnqueuedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got != p {
			t.Fatalf("round trip = %+v, want %+v", got, p)
		}
	}
	// What the call's saved results say does not go into the name.
	// Nor what is kept in the store only.
	st := Persisted{ClientID: "acme", DID: "1", Step: StepConnected, StartedAt: start, OpID: "op1", OpChannel: "l", Bridge: "b", Result: "overflow", Reason: "x", Playback: "p",
		Recording: "r", RecordingFailed: "disk full"}
	if got, ok := parseBridgeName(BridgeName("toritsugi", "c", "", st)); !ok || got.State.Result != "" || got.State.Playback != "" || got.State.Recording != "" || got.State.RecordingFailed != "" {
		t.Fatalf("name kept the saved result, playback or recording: %+v, %v", got, ok)
	}
	// Bridges toritsugi did not name, or named before names carried the
	// call (the name was the bridge's id), are no call's.
	for _, other := range []string{"", "1795916251.1-br-31c0c606-4", "toritsugi;", "toritsugi;call=1", "toritsugi;app=t&call=1",
		"toritsugi;app=t&call=1&s=connected&t=1&oc=x", "toritsugi;app=t&call=1&s=queued&t=1", "toritsugi;app=t&call=1&oc=%zz"} {
		if p, ok := parseBridgeName(other); ok {
			t.Errorf("parseBridgeName(%q) = %+v, want none", other, p)
		}
	}
}

func FuzzParseBridgeName(f *testing.F) {
	f.Add(BridgeName("toritsugi", "1795916251.1", "0901234567", Persisted{ClientID: "acme", DID: "0312345678", Step: StepConnected,
		StartedAt: time.UnixMilli(1), OpID: "op1000", OpChannel: "1795916251.1-op-op1000-31c0c606-2", Bridge: "1795916251.1-br-31c0c606-4"}))
	f.Add("1795916251.1-br-31c0c606-4")
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parseBridgeName(s)
		if !ok {
			return
		}
		if p.App == "" || p.Call == "" || p.State.Step != StepConnected || p.State.OpChannel == "" || p.State.Bridge == "" {
			t.Fatalf("parseBridgeName(%q) = %+v without app, call or a connected state", s, p)
		}
		again, ok := parseBridgeName(BridgeName(p.App, p.Call, p.CallerNumber, p.State))
		if !ok || again.App != p.App || again.Call != p.Call || again.CallerNumber != p.CallerNumber || again.State.OpChannel != p.State.OpChannel ||
			again.State.OpID != p.State.OpID || again.State.ClientID != p.State.ClientID || !again.State.StartedAt.Equal(p.State.StartedAt) {
			t.Fatalf("re-naming %+v gave %+v, %v", p, again, ok)
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
		{4, 20 * time.Second, "sound:queue-thereare number:4 sound:queue-callswaiting"},
		{3, 90 * time.Second, "sound:queue-thereare number:3 sound:queue-callswaiting sound:queue-holdtime number:2 sound:queue-minutes"},
	}
	for _, tt := range tests {
		if got := strings.Join(Announcement(tt.pos, tt.wait), " "); got != tt.want {
			t.Errorf("Announcement(%d, %v) = %s, want %s", tt.pos, tt.wait, got, tt.want)
		}
	}
}

func TestTransferCause(t *testing.T) {
	for cause, want := range map[int]string{
		17: "busy", 19: "no answer", 16: "no answer", 0: "no answer",
		21: "refused by the network (cause 21", 1: "number not reachable (cause 1", 34: "network failure (cause 34)", 127: "no answer (cause 127)",
	} {
		if got := transferCause(cause); !strings.HasPrefix(got, want) {
			t.Errorf("transferCause(%d) = %q, want %q…", cause, got, want)
		}
	}
}

// TestRingFailure: an operator's phone refusing a ring (busy, declined,
// a 480 before the ring timeout, any cause but a no-answer) is a refusal,
// which rests the operator; Asterisk's dial timeout (cause 19 after the
// ring timeout) and an unknown end are no-answers.
func TestRingFailure(t *testing.T) {
	const timeout = 15 * time.Second
	for _, tc := range []struct {
		cause int
		lived time.Duration
		want  acd.RingFailure
	}{
		{17, time.Second, acd.Busy}, {21, time.Second, acd.Busy}, {34, 0, acd.Busy}, {38, 20 * time.Second, acd.Busy}, {16, time.Second, acd.Busy},
		{19, 18 * time.Second, acd.NoAnswer},   // Asterisk's dial timeout, 3 s after the queue's
		{19, 200 * time.Millisecond, acd.Busy}, // a 480 at once
		{19, 0, acd.NoAnswer}, {0, 0, acd.NoAnswer}, {0, time.Second, acd.Busy},
	} {
		if got := ringFailure(tc.cause, tc.lived, timeout); got != tc.want {
			t.Errorf("ringFailure(%d, %v) = %s, want %s", tc.cause, tc.lived, got, tc.want)
		}
	}
}

// TestOwnChannel: the legs calls originate are toritsugi's; a channel
// Asterisk names itself (a call the operator's phone placed) is not.
func TestOwnChannel(t *testing.T) {
	for id, want := range map[string]bool{
		"1795987015.1-op-op1001-k3f9-2": true, "1795987015.1-tx-k3f9-1": true,
		"1795987015.7": false, "": false, "op1001": false,
	} {
		if got := OwnChannel(id); got != want {
			t.Errorf("OwnChannel(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestOperatorLegOf(t *testing.T) {
	type want struct {
		call, op string
		ok       bool
	}
	for id, w := range map[string]want{
		"1795987015.1-op-op1001-k3f9-2":     {"1795987015.1", "op1001", true},
		"1795987015.1-op-op-desk-2-k3f9-12": {"1795987015.1", "op-desk-2", true},
		"1795987015.1-tx-k3f9-1":            {},
		"1795987015.7":                      {},
		"1795987015.1-op-k3f9-2":            {},
		"-op-op1001-k3f9-2":                 {},
		"":                                  {},
	} {
		call, op, ok := operatorLegOf(id)
		if (want{call, op, ok}) != w {
			t.Errorf("operatorLegOf(%q) = %q, %q, %v, want %+v", id, call, op, ok, w)
		}
	}
}

func TestEndpointOf(t *testing.T) {
	for name, want := range map[string]string{
		"PJSIP/op1001-00000046":    "PJSIP/op1001",
		"PJSIP/op-desk-2-0000000a": "PJSIP/op-desk-2",
		"IAX2/op7-1234":            "IAX2/op7",
		"PJSIP/op1001":             "",
		"Recorder/ARI-00000006;2":  "Recorder/ARI",
		"":                         "",
		"-00000001":                "",
		"Local/s@toritsugi-0001;1": "Local/s@toritsugi",
	} {
		if got := endpointOf(name); got != want {
			t.Errorf("endpointOf(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestCallerID: the name goes between quotes as it is, so that Asterisk
// (which turns no escape sequence back) gives the phone the name as
// written: an ideographic or no-break space stays a space; quotes,
// backslashes and control characters, which would cut or garble it, are
// left out.
func TestCallerID(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"さくら建設", `"さくら建設" <0901234567>`},
		{"株式会社\u3000さくら建設", "\"株式会社\u3000さくら建設\" <0901234567>"},
		{"ACME\u00a0Japan", "\"ACME\u00a0Japan\" <0901234567>"},
		{`星野"本店"`, `"星野本店" <0901234567>`},
		{`A\B` + "\x00\n", `"AB" <0901234567>`},
	} {
		if got := callerID(tc.name, "0901234567"); got != tc.want {
			t.Errorf("callerID(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	// A number as a caller wrote it (a From user the trunk passed on):
	// Asterisk would take the number after its last '<', the text before
	// it into the name the operator's phone shows.
	for _, tc := range []struct{ number, want string }{
		{"+81312345678", `"ACME" <+81312345678>`},
		{`x" <1>"VIP-Beta" <0312345678`, `"ACME" <x 1VIP-Beta 0312345678>`},
		{"09012345678\r\n", `"ACME" <09012345678>`},
	} {
		if got := callerID("ACME", tc.number); got != tc.want {
			t.Errorf("callerID(ACME, %q) = %q, want %q", tc.number, got, tc.want)
		}
	}
}
