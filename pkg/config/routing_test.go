package config

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/reception"
)

func TestSampleRules(t *testing.T) {
	cfg := mustParseFile(t, "sample.yaml", noEnv)
	sakura, _ := cfg.Client("sakura-kensetsu")
	r := sakura.Rules()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	wantCallers := []reception.CallerRule{
		{Match: "+81398765432", Action: reception.RuleVIP, Name: "山田社長", Whisper: "sound:toritsugi/sakura-kensetsu-vip-yamada"},
		{Match: "+819011112222", Action: reception.RuleKnown, Name: "現場監督 木村"},
		{Match: "+81120*", Action: reception.RuleBlock, BlockMode: reception.BlockHangup},
		{Match: "+8150*", Action: reception.RuleBlock},
	}
	if !slices.Equal(r.Callers, wantCallers) || !r.BlockWithheld || r.AnswerMode != reception.AnswerRingback {
		t.Errorf("rules = %+v", r)
	}
	if sakura.RingbackMax != 10*time.Second || sakura.WhisperSound != "sound:toritsugi/sakura-kensetsu-whisper" ||
		!sakura.Record || sakura.RecordAnnouncement != "sound:toritsugi/recording-notice" ||
		sakura.RecordingRetentionDays != 180 || sakura.OverflowSound != DefaultOverflowSound || sakura.BlockedSound != "" {
		t.Errorf("sakura = %+v", sakura)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	monday := time.Date(2026, time.November, 30, 10, 0, 0, 0, tokyo)
	tests := []struct {
		call   reception.Call
		action reception.Action
		reason string
	}{
		{reception.Call{CallerE164: "+81398765432", At: monday}, reception.ActionAccept, "vip:+81398765432"},
		{reception.Call{CallerE164: "+815012345678", At: monday}, reception.ActionBlock, "block-rule:+8150*"},
		{reception.Call{CallerKind: reception.CallerWithheld, At: monday}, reception.ActionBlock, reception.ReasonWithheld},
		{reception.Call{CallerE164: "+81311112222", At: monday.Add(9 * time.Hour)}, reception.ActionAfterHours, reception.ReasonOutsideHours},
		{reception.Call{CallerE164: "+81311112222", At: time.Date(2027, 1, 11, 10, 0, 0, 0, tokyo)}, reception.ActionAfterHours, "public-holiday:成人の日"},
		{reception.Call{CallerE164: "+81311112222", At: time.Date(2026, 12, 30, 10, 0, 0, 0, tokyo)}, reception.ActionAfterHours, "closure:年末年始"},
	}
	for _, tt := range tests {
		if d := reception.Decide(r, tt.call); d.Action != tt.action || d.Reason != tt.reason {
			t.Errorf("Decide(%+v) = %v %q, want %v %q", tt.call, d.Action, d.Reason, tt.action, tt.reason)
		}
	}

	law, _ := cfg.Client("hoshino-law")
	lr := law.Rules()
	if !lr.Hours.AlwaysOpen || lr.Hours.PublicHolidays || lr.AnswerMode != reception.AnswerGreeting || len(lr.Callers) != 0 {
		t.Errorf("hoshino-law rules = %+v", lr)
	}
	if d := reception.Decide(lr, reception.Call{At: time.Date(2027, 1, 1, 3, 0, 0, 0, tokyo)}); d.Action != reception.ActionAccept {
		t.Errorf("always-open client on 元日 03:00: %+v", d)
	}
	if law.WhisperSound != DefaultWhisperSound || law.Record || law.RecordingRetentionDays != DefaultRecordingRetentionDays ||
		law.RingbackMax != DefaultRingbackMax || law.BlockWithheld {
		t.Errorf("hoshino-law defaults = %+v", law)
	}
}

func TestACDSettings(t *testing.T) {
	cfg := mustParseFile(t, "sample.yaml", noEnv)
	sakura, _ := cfg.Client("sakura-kensetsu")
	want := acd.ClientSettings{Strategy: acd.LongestIdle, RingTimeout: 15 * time.Second, MaxWait: 3 * time.Minute,
		WrapUp: 30 * time.Second, WrapUpHold: 2 * time.Minute, AutoPauseAfter: 3, EscalateAfter: 20 * time.Second, AnnouncePeriod: 45 * time.Second}
	if got := sakura.ACDSettings(); got != want {
		t.Errorf("sakura = %+v, want %+v", got, want)
	}
	clinic, _ := cfg.Client("aozora-clinic")
	want = acd.ClientSettings{Strategy: acd.RingAll, RingTimeout: 20 * time.Second, MaxWait: 5 * time.Minute,
		WrapUp: 45 * time.Second, AutoPauseAfter: 3}
	if got := clinic.ACDSettings(); got != want {
		t.Errorf("clinic = %+v, want %+v", got, want)
	}
	if got := (&Client{}).ACDSettings(); got.Strategy != acd.LongestIdle || got.RingTimeout != 15*time.Second {
		t.Errorf("hand-built client = %+v", got)
	}
}

func TestSkills(t *testing.T) {
	cfg := mustParseFile(t, "sample.yaml", noEnv)
	tests := []struct {
		op   string
		want map[string]int
	}{
		{"op1001", map[string]int{"*": 1}},
		{"op1002", map[string]int{"sakura-kensetsu": 1, "hoshino-law": 2}},
		{"op1004", map[string]int{"*": 2, "aozora-clinic": 1}},
	}
	for _, tt := range tests {
		op, _ := cfg.Operator(tt.op)
		if got := op.Skills(); !maps.Equal(got, tt.want) {
			t.Errorf("%s Skills = %v, want %v", tt.op, got, tt.want)
		}
	}
	op4, _ := cfg.Operator("op1004")
	if !slices.Equal(op4.Clients, []string{"*", "aozora-clinic"}) || !op4.Serves("hoshino-law") {
		t.Errorf("op1004 clients = %v", op4.Clients)
	}
	for _, tt := range []struct {
		client string
		tier   int
		ok     bool
	}{{"aozora-clinic", 1, true}, {"sakura-kensetsu", 2, true}} {
		if tier, ok := op4.Tier(tt.client); tier != tt.tier || ok != tt.ok {
			t.Errorf("op1004 Tier(%s) = %d, %v", tt.client, tier, ok)
		}
	}
	op2, _ := cfg.Operator("op1002")
	if tier, ok := op2.Tier("aozora-clinic"); ok || op2.Serves("aozora-clinic") {
		t.Errorf("op1002 Tier(aozora-clinic) = %d, %v", tier, ok)
	}
	hand := Operator{Clients: []string{"a", "b"}}
	if got := hand.Skills(); !maps.Equal(got, map[string]int{"a": 1, "b": 1}) {
		t.Errorf("hand-built Skills = %v", got)
	}
}

func TestUnquotedTier(t *testing.T) {
	doc := "ari: {user: u, password: p}\ndata_dir: /d\nclients:\n  - {id: acme, name: A, dids: [\"03-1234-5678\"], greeting: sound:a}\n" +
		"operators:\n  - id: op1\n    name: N\n    endpoint: PJSIP/op1\n    clients: [acme:2]\n" +
		"  - id: op2\n    name: M\n    endpoint: PJSIP/op2\n    clients:\n      - acme:3\n"
	cfg, err := Parse("t.yaml", []byte(doc), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{2, 3} {
		if got := cfg.Operators[i].Skills()["acme"]; got != want {
			t.Errorf("operator %d tier = %d, want %d", i, got, want)
		}
	}
}

// TestRoutingAccessorsDoNotAllocate: they are read on every routing decision.
func TestRoutingAccessorsDoNotAllocate(t *testing.T) {
	cfg := mustParseFile(t, "sample.yaml", noEnv)
	sakura, _ := cfg.Client("sakura-kensetsu")
	op, _ := cfg.Operator("op1004")
	var sink int
	allocs := testing.AllocsPerRun(100, func() {
		r := sakura.Rules()
		s := sakura.ACDSettings()
		sink += len(r.Callers) + int(s.MaxWait) + len(op.Skills())
	})
	if allocs != 0 || sink == 0 {
		t.Errorf("allocations per run = %v", allocs)
	}
}

func TestNormalizeMatch(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"+81312345678", "+81312345678", ""},
		{"03-1234-5678", "+81312345678", ""},
		{"+81 (0)3 1234 5678", "+81312345678", ""},
		{"050*", "+8150*", ""},
		{"０５０＊", "+8150*", ""}, // as a Japanese input method types them
		{"050ー*", "+8150*", ""},
		{"０３－１２３４－５６７８", "+81312345678", ""},
		{"+8150*", "+8150*", ""},
		{"+81 (0)50*", "+8150*", ""},
		{"0120-*", "+81120*", ""},
		{" 03 * ", "+813*", ""},
		{"0*", "+81*", ""},
		{"+1 212*", "+1212*", ""},
		{"5*", "", "write a Japanese prefix with its leading 0 (050*) or an international one with + (+8150*)"},
		{"*", "", "write at least one digit before *, e.g. 050* or +8150*"},
		{"+*", "", "write at least one digit before *, e.g. 050* or +8150*"},
		{"010*", "", "do not dial out with 00 or 010, write +<country code>...*"},
		{"+03*", "", "a country code never starts with 0: write +81 50* or 050*"},
		{"0a*", "", `"a" is not allowed in a prefix; use digits, a leading + and a final *`},
		{"03**", "", `"*" is allowed only at the end`},
		{"+1234567890123456*", "", "a prefix is at most 15 digits in E.164 form"},
		{"03-12", "", "a Japanese number has 10 or 11 digits"},
	}
	for _, tt := range tests {
		got, reason := normalizeMatch(tt.in)
		if got != tt.want || reason != tt.reason {
			t.Errorf("normalizeMatch(%q) = %q, %q; want %q, %q", tt.in, got, reason, tt.want, tt.reason)
		}
		if reason == "" {
			if err := (reception.CallerRule{Match: got, Action: reception.RuleBlock}).Validate(); err != nil {
				t.Errorf("normalizeMatch(%q) = %q, refused by reception: %v", tt.in, got, err)
			}
		}
	}
}

// TestTransferSettings: transfer_caller_id is did (default), caller or a
// number; a transfer_to that is one of the service's own numbers is
// refused (the VIP would come back in as a new call).
func TestTransferSettings(t *testing.T) {
	doc := func(extra string) []byte {
		return []byte("ari: {user: u, password: p}\ndata_dir: /d\nclients:\n" +
			"  - {id: acme, name: A, dids: [\"03-1234-5678\"], greeting: \"sound:g\"" + extra + "}\n" +
			"  - {id: beta, name: B, dids: [\"03-2222-3333\"], greeting: \"sound:g\"}\n" + anOperator)
	}
	for extra, want := range map[string]string{
		`, transfer_to: "090-1111-2222"`:                                    TransferCallerDID,
		`, transfer_to: "090-1111-2222", transfer_caller_id: caller`:        TransferCallerCaller,
		`, transfer_to: "090-1111-2222", transfer_caller_id: 050-1111-2222`: "+815011112222",
	} {
		cfg, err := Parse("c.yaml", doc(extra), noEnv)
		if err != nil {
			t.Fatalf("%s: %v", extra, err)
		}
		if cl, _ := cfg.Client("acme"); cl.TransferCallerID != want {
			t.Errorf("%s: TransferCallerID %q, want %q", extra, cl.TransferCallerID, want)
		}
	}
	for extra, want := range map[string]string{
		`, transfer_to: "03-2222-3333"`:                          `clients[0].transfer_to: 03-2222-3333 is a number this service answers, of client "beta" (clients[1].dids[0])`,
		`, transfer_to: "090-1111-2222", transfer_caller_id: me`: `clients[0].transfer_caller_id: "me" is not did, caller or a phone number`,
	} {
		if _, err := Parse("c.yaml", doc(extra), noEnv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", extra, err, want)
		}
	}
}

func TestDialString(t *testing.T) {
	c := &Config{Trunk: "PJSIP/trunk"}
	for number, want := range map[string]string{
		"+81312345678":  "PJSIP/0312345678@trunk",
		"+819011112222": "PJSIP/09011112222@trunk",
		"+81120123456":  "PJSIP/0120123456@trunk",
		"+12125550123":  "PJSIP/01012125550123@trunk", // Japan's international prefix
	} {
		if got := c.DialString(number); got != want {
			t.Errorf("DialString(%q) = %q, want %q", number, got, want)
		}
	}
}

// TestDefaultACDSettings: a client that sets nothing of its own gets the
// configuration's queue section, defaults filled in.
func TestDefaultACDSettings(t *testing.T) {
	cfg, err := Parse("q.yaml", []byte("ari: {user: u, password: p}\ndata_dir: /d\nqueue: {wrapup: 45s}\nclients:\n  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: \"sound:x\"}\n"+anOperator), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	acme, _ := cfg.Client("acme")
	if got, want := cfg.DefaultACDSettings(), acme.ACDSettings(); got != want || got.MaxWait != 5*time.Minute || got.WrapUp != 45*time.Second {
		t.Errorf("DefaultACDSettings = %+v, want a client's without settings of its own, %+v (max wait 5m, wrap-up 45s)", got, want)
	}
}
