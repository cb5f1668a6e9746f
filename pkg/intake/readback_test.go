package intake

import (
	"strings"
	"testing"
)

// TestReadBackGolden renders read-back lines for several scripts and
// answers and compares them with testdata/readback.golden.
func TestReadBackGolden(t *testing.T) {
	simple, err := Preset(ScopeSimple)
	if err != nil {
		t.Fatal(err)
	}
	standard, err := Preset(ScopeStandard)
	if err != nil {
		t.Fatal(err)
	}
	branching := loadBranching(t)
	plain := simple
	plain.ReadBack = ""
	cases := []struct {
		name   string
		script Script
		in     Values
	}{
		{"simple", simple, Values{"company": "株式会社○○", "name": "山田", "callback": "0312345678", "purpose": "見積もり"}},
		{"simple_no_company", simple, Values{"name": "山田", "callback": "090 1234 5678", "purpose": "見積もり"}},
		{"simple_bad_phone_read_as_written", simple, Values{"name": "山田", "callback": "03-12", "purpose": "見積もり"}},
		{"simple_nothing", simple, Values{}},
		{"standard_full", standard, Values{
			"company": "株式会社○○", "name": "山田", "addressee": "鈴木", "callback": "+81 6-1234-5678",
			"purpose": "納期の確認", "callback_needed": "yes", "callback_at": "2026-01-05 14:00", "urgency": "urgent",
		}},
		{"standard_callback_hidden", standard, Values{
			"name": "山田", "callback": "0120-123-456", "purpose": "納期の確認",
			"callback_needed": "no", "callback_at": "2026-01-05 14:00",
		}},
		{"standard_foreign", standard, Values{"name": "Smith", "callback": "+1 212 555 0123", "purpose": "取材", "callback_needed": "yes"}},
		{"standard_will_call_again", standard, Values{"company": "山田商事", "name": "山田", "purpose": "見積もり", "callback_needed": "no", "urgency": "normal"}},
		{"branching_sales", branching, Values{"purpose": "sales", "name": "営業太郎", "callback": "0312345678"}},
		{"branching_existing", branching, Values{
			"purpose": "support", "caller_type": "existing", "company": "アクメ", "name": "山田",
			"callback": "03-1234-5678", "detail": "請求書の\n再発行",
		}},
		{"default_template", plain, Values{"company": "株式会社○○", "name": "山田", "callback": "0312345678"}},
	}
	var b strings.Builder
	for _, c := range cases {
		line := c.script.ReadBackLine(c.in)
		b.WriteString(c.name + ": " + line + "\n")
		if v := c.script.Validate(c.in); v.ReadBack != line && v.OK() {
			t.Errorf("%s: Validate read-back %q differs from ReadBackLine %q", c.name, v.ReadBack, line)
		}
		if again := c.script.ReadBackLine(c.script.Validate(c.in).Values); again != line && c.script.Validate(c.in).OK() {
			t.Errorf("%s: read-back of normalised values %q differs from %q", c.name, again, line)
		}
	}
	golden(t, "testdata/readback.golden", b.String())
}

func TestTemplate(t *testing.T) {
	values := map[string]string{"a": "A", "b": "B"}
	tests := []struct {
		tmpl, want string
	}{
		{"{a}と{b}", "AとB"},
		{"[{a}の]{b}", "AのB"},
		{"[{x}の]{b}", "B"},
		{"[{a}[（{x}）]の]{b}", "AのB"},
		{"[{a}[（{b}）]の]", "A（B）の"},
		{"[{x}[（{b}）]の]end", "end"},
		{"[固定]", "固定"},
		{`\{a\}\[\]\\`, `{a}[]\`},
		{"{x}", ""},
	}
	for _, tt := range tests {
		parts, err := parseTemplate(tt.tmpl)
		if err != nil {
			t.Errorf("parseTemplate(%q): %v", tt.tmpl, err)
			continue
		}
		if got, _ := render(parts, func(id string) string { return values[id] }); got != tt.want {
			t.Errorf("render(%q) = %q, want %q", tt.tmpl, got, tt.want)
		}
	}
	for tmpl, want := range map[string]string{
		"{a":                        `template character 1: "{" is never closed: write \{ for the character`,
		"a}":                        `template character 2: "}" without "{": write \} for the character`,
		"[a":                        `template character 1: "[" is never closed`,
		"a]":                        `template character 2: "]" without "["`,
		"{}":                        "template character 1: empty {}: name a field, as in {name}",
		`a\`:                        `template character 2: "\" at the end: write \\ for a backslash`,
		"{a{b}}":                    `template character 1: "{" is never closed: write \{ for the character`,
		strings.Repeat("[", 9) + "": "template character 9: optional parts nest at most 8 deep",
		"\xff":                      "template character 1: the template is not valid UTF-8",
	} {
		_, err := parseTemplate(tmpl)
		if err == nil || err.Error() != want {
			t.Errorf("parseTemplate(%q) error = %v, want %s", tmpl, err, want)
		}
	}
}

func TestDisplay(t *testing.T) {
	s, err := Preset(ScopeStandard)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Display(Values{"name": "山田", "callback": "+819012345678", "urgency": "urgent", "callback_needed": "no", "callback_at": "2026-01-05T14:00:00+09:00"})
	want := Values{"name": "山田", "urgency": "至急", "callback_needed": "いいえ"}
	if len(got) != len(want) {
		t.Fatalf("Display = %v, want %v (hidden callback and callback_at dropped)", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("Display[%s] = %q, want %q", k, got[k], w)
		}
	}
}
