package reception

import (
	"errors"
	"testing"
	"time"
)

func testRules(t testing.TB) Rules {
	return Rules{
		Hours: officeHours(t, nil),
		Callers: []CallerRule{
			{Match: "+8150*", Action: RuleBlock, BlockMode: BlockHangup},
			{Match: "+815012345678", Action: RuleVIP, Name: "山田社長", Whisper: "sound:toritsugi/yamada-whisper"},
			{Match: "+81120*", Action: RuleBlock},
			{Match: "+8190*", Action: RuleKnown, Name: "携帯の取引先"},
			{Match: "+819012*", Action: RuleBlock},
			{Match: "+81901234*", Action: RuleVIP, Name: "鈴木部長"},
			{Match: "+81311112222", Action: RuleKnown, Name: "取引先A"},
			{Match: "+81311112222", Action: RuleBlock},
			{Match: "+81322223333", Action: RuleKnown, Name: "取引先B"},
			{Match: "+81344445555", Action: RuleAction(42), Name: "unknown action"},
		},
		BlockWithheld: true,
	}
}

var (
	openTime   = at(2025, 12, 1, 10, 0, 0) // Monday
	closedTime = at(2025, 12, 1, 20, 0, 0)
	newYearDay = at(2027, 1, 1, 10, 0, 0) // 元日, a Friday, no closure that year
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Rules)
		call   Call
		want   Decision // HoursStatus is checked only for Open
	}{
		{"block prefix while open", nil, Call{CallerE164: "+815099990000", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionBlock, Reason: "block-rule:+8150*", BlockMode: BlockHangup, Rule: "+8150*"}},
		{"block precedes hours", nil, Call{CallerE164: "+815099990000", CallerKind: CallerNumber, At: closedTime},
			Decision{Action: ActionBlock, Reason: "block-rule:+8150*", BlockMode: BlockHangup, Rule: "+8150*"}},
		{"block announces by default", nil, Call{CallerE164: "+81120444444", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionBlock, Reason: "block-rule:+81120*", BlockMode: BlockAnnounce, Rule: "+81120*"}},
		{"exact VIP beats block prefix", nil, Call{CallerE164: "+815012345678", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionAccept, Reason: "vip:+815012345678", VIP: true, KnownName: "山田社長", Whisper: "sound:toritsugi/yamada-whisper", Billable: true, Rule: "+815012345678"}},
		{"VIP after hours", nil, Call{CallerE164: "+815012345678", CallerKind: CallerNumber, At: closedTime},
			Decision{Action: ActionAfterHours, Reason: ReasonOutsideHours, VIP: true, KnownName: "山田社長", Whisper: "sound:toritsugi/yamada-whisper", Rule: "+815012345678"}},
		{"longer block prefix beats shorter known", nil, Call{CallerE164: "+819012000000", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionBlock, Reason: "block-rule:+819012*", BlockMode: BlockAnnounce, Rule: "+819012*"}},
		{"longer VIP prefix beats shorter block", nil, Call{CallerE164: "+819012345678", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionAccept, Reason: "vip:+81901234*", VIP: true, KnownName: "鈴木部長", Billable: true, Rule: "+81901234*"}},
		{"known prefix", nil, Call{CallerE164: "+819099998888", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionAccept, Reason: "known:+8190*", Known: true, KnownName: "携帯の取引先", Billable: true, Rule: "+8190*"}},
		{"tie: block beats known", nil, Call{CallerE164: "+81311112222", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionBlock, Reason: "block-rule:+81311112222", BlockMode: BlockAnnounce, Rule: "+81311112222"}},
		{"known after hours not billed", nil, Call{CallerE164: "+81322223333", CallerKind: CallerNumber, At: closedTime},
			Decision{Action: ActionAfterHours, Reason: ReasonOutsideHours, Known: true, KnownName: "取引先B", Rule: "+81322223333"}},
		{"after hours billed when configured", func(r *Rules) { r.BillAfterHours = true }, Call{CallerE164: "+81322223333", CallerKind: CallerNumber, At: closedTime},
			Decision{Action: ActionAfterHours, Reason: ReasonOutsideHours, Known: true, KnownName: "取引先B", Billable: true, Rule: "+81322223333"}},
		{"holiday", nil, Call{CallerE164: "+81300000000", CallerKind: CallerNumber, At: newYearDay},
			Decision{Action: ActionAfterHours, Reason: "public-holiday:元日"}},
		{"unknown caller open", nil, Call{CallerE164: "+81300000000", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionAccept, Reason: ReasonOpen, Billable: true}},
		{"empty kind with a number is a number", nil, Call{CallerE164: "+81322223333", At: openTime},
			Decision{Action: ActionAccept, Reason: "known:+81322223333", Known: true, KnownName: "取引先B", Billable: true, Rule: "+81322223333"}},
		{"unknown rule action ignored", nil, Call{CallerE164: "+81344445555", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionAccept, Reason: ReasonOpen, Billable: true}},
		{"withheld blocked", nil, Call{CallerKind: CallerWithheld, At: openTime},
			Decision{Action: ActionBlock, Reason: ReasonWithheld, BlockMode: BlockAnnounce}},
		{"withheld blocked after hours too", nil, Call{CallerKind: CallerWithheld, At: closedTime},
			Decision{Action: ActionBlock, Reason: ReasonWithheld, BlockMode: BlockAnnounce}},
		{"withheld allowed, number never matched", func(r *Rules) { r.BlockWithheld = false }, Call{CallerE164: "+815012345678", CallerKind: CallerWithheld, At: openTime},
			Decision{Action: ActionAccept, Reason: ReasonOpen, Billable: true}},
		{"payphone not blocked by BlockWithheld", nil, Call{CallerKind: CallerPayphone, At: openTime},
			Decision{Action: ActionAccept, Reason: ReasonOpen, Billable: true}},
		{"unavailable not blocked", nil, Call{At: openTime},
			Decision{Action: ActionAccept, Reason: ReasonOpen, Billable: true}},
		{"ringback answer mode", func(r *Rules) { r.AnswerMode = AnswerRingback }, Call{CallerE164: "+81300000000", CallerKind: CallerNumber, At: openTime},
			Decision{Action: ActionAccept, Reason: ReasonOpen, Billable: true, AnswerMode: AnswerRingback}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testRules(t)
			if tc.modify != nil {
				tc.modify(&r)
			}
			got := Decide(r, tc.call)
			want := tc.want
			if want.AnswerMode == "" {
				want.AnswerMode = AnswerGreeting
			}
			if got.HoursStatus != r.Hours.At(tc.call.At) {
				t.Errorf("HoursStatus = %+v, want %+v", got.HoursStatus, r.Hours.At(tc.call.At))
			}
			got.HoursStatus = Status{}
			if got != want {
				t.Errorf("Decide(%+v)\n got %+v\nwant %+v", tc.call, got, want)
			}
		})
	}
}

func TestRulesValidate(t *testing.T) {
	good := testRules(t)
	good.Callers = good.Callers[:len(good.Callers)-1] // drop the unknown action
	if err := good.Validate(); err != nil {
		t.Fatalf("valid rules: %v", err)
	}
	tests := []struct {
		name   string
		modify func(*Rules)
	}{
		{"bare star", func(r *Rules) { r.Callers = []CallerRule{{Match: "*", Action: RuleBlock}} }},
		{"domestic number", func(r *Rules) { r.Callers = []CallerRule{{Match: "0312345678", Action: RuleKnown}} }},
		{"star inside", func(r *Rules) { r.Callers = []CallerRule{{Match: "+81*5", Action: RuleKnown}} }},
		{"too long", func(r *Rules) { r.Callers = []CallerRule{{Match: "+8131234567890123", Action: RuleKnown}} }},
		{"no action", func(r *Rules) { r.Callers = []CallerRule{{Match: "+81312345678"}} }},
		{"bad block mode", func(r *Rules) { r.Callers = []CallerRule{{Match: "+8150*", Action: RuleBlock, BlockMode: "drop"}} }},
		{"bad answer mode", func(r *Rules) { r.AnswerMode = "voicemail" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testRules(t)
			r.Callers = nil
			tc.modify(&r)
			if err := r.Validate(); !errors.Is(err, ErrInvalidRule) {
				t.Errorf("Validate err = %v, want ErrInvalidRule", err)
			}
		})
	}
	bad := good
	bad.Hours.Weekly[time.Monday] = []Interval{{0, 2000}}
	if err := bad.Validate(); !errors.Is(err, ErrInvalidHours) {
		t.Errorf("Validate bad hours err = %v", err)
	}
}

func TestRuleActionText(t *testing.T) {
	for _, a := range []RuleAction{RuleBlock, RuleVIP, RuleKnown} {
		b, err := a.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back RuleAction
		if err := back.UnmarshalText(b); err != nil || back != a {
			t.Errorf("round trip %v → %q → %v, %v", a, b, back, err)
		}
	}
	var a RuleAction
	if err := a.UnmarshalText([]byte("allow")); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("UnmarshalText(allow) err = %v", err)
	}
	if _, err := RuleAction(0).MarshalText(); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("MarshalText(0) err = %v", err)
	}
	if got := ActionAfterHours.String(); got != "after-hours" {
		t.Errorf("ActionAfterHours.String() = %q", got)
	}
}

// FuzzDecide checks invariants for arbitrary rules and calls.
func FuzzDecide(f *testing.F) {
	f.Add("+815012345678", CallerNumber, int64(1764550800), "+8150*", uint8(1), "+815012345678", uint8(2), true, 540, 1080)
	f.Add("", CallerWithheld, int64(1767193200), "*", uint8(3), "+", uint8(0), false, 1320, 360)
	f.Add("+81311112222", "", int64(0), "+81311112222", uint8(3), "+81311112222", uint8(1), true, 0, 1440)
	f.Add("+1", CallerPayphone, int64(-62135596800), "", uint8(9), "+1*", uint8(2), false, -1, 99999)
	f.Fuzz(func(t *testing.T, caller, kind string, unix int64, m1 string, a1 uint8, m2 string, a2 uint8, blockWithheld bool, start, end int) {
		var w Weekly
		for d := range w {
			w[d] = []Interval{{Start: start, End: end}}
		}
		r := Rules{
			Hours: Hours{Weekly: w, PublicHolidays: a1%2 == 0,
				Closures: []Closure{{From: Date{Year: 2026, Month: time.January, Day: 1}, To: Date{Year: 2026, Month: time.January, Day: 3}}}},
			Callers:       []CallerRule{{Match: m1, Action: RuleAction(a1 % 5)}, {Match: m2, Action: RuleAction(a2 % 5), BlockMode: BlockHangup}},
			BlockWithheld: blockWithheld,
		}
		c := Call{CallerE164: caller, CallerKind: kind, At: time.Unix(unix, 0)}
		d := Decide(r, c)
		switch d.Action {
		case ActionBlock:
			if d.Billable || d.BlockMode == "" {
				t.Fatalf("block must be unbillable with a mode: %+v", d)
			}
		case ActionAfterHours:
			if d.HoursStatus.Open || d.Billable {
				t.Fatalf("after hours while open or billed: %+v", d)
			}
		case ActionAccept:
			if !d.HoursStatus.Open || !d.Billable {
				t.Fatalf("accepted while closed or unbilled: %+v", d)
			}
		default:
			t.Fatalf("no action: %+v", d)
		}
		if d.Reason == "" || (d.AnswerMode != AnswerGreeting && d.AnswerMode != AnswerRingback) {
			t.Fatalf("missing reason or answer mode: %+v", d)
		}
		if d.VIP && d.Rule == "" {
			t.Fatalf("VIP without a rule: %+v", d)
		}
		if kind == CallerWithheld && (d.Rule != "" || d.KnownName != "") {
			t.Fatalf("withheld caller matched a rule: %+v", d)
		}
		if nc := d.HoursStatus.NextChange; !nc.IsZero() && !nc.After(c.At) {
			t.Fatalf("NextChange %v not after the call %v", nc, c.At)
		}
	})
}
