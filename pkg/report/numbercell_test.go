package report

import (
	"strings"
	"testing"
)

func TestNumberCell(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{"0312345678", "03-1234-5678"},
		{"+81312345678", "03-1234-5678"},
		{"+12125550123", `="+12125550123"`}, // Excel shows no apostrophe
		{"5001", `="5001"`},                 // an extension: kept, not 番号不明
		{"14155551234", `="14155551234"`},   // a foreign number sent without its +
		{"0123", `="0123"`},                 // the leading zero kept
		{"anonymous", "非通知"},
		{"", "表示圏外"},
		{"=HYPERLINK(\"x\")", `="=HYPERLINK(""x"")"`}, // a string, never run
		{"-1+2", `="-1+2"`},
		{"(5001)", `="(5001)"`}, // not -5001
		{"1E5", `="1E5"`},       // not 100000
		{"5001.5", `="5001.5"`},
		{"sip:alice", `="sip:alice"`},
	} {
		if got := numberCell(c.raw); got != c.want {
			t.Errorf("numberCell(%q) = %s, want %s", c.raw, got, c.want)
		}
	}
}

// FuzzNumberCell: whatever a trunk sends as a number, the cell is no
// formula a spreadsheet would run: it starts with none of = + - @ (tab,
// CR), except as the ="…" text form, a string whose quotes are doubled.
func FuzzNumberCell(f *testing.F) {
	for _, s := range []string{"0312345678", "+1 (212) 555-0123", "=1+1", "@SUM(A1)", "\t=1", "5001", "非通知", `="x"`, `a"b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := numberCell(raw)
		if inner, ok := strings.CutPrefix(got, `="`); ok {
			inner, closed := strings.CutSuffix(inner, `"`)
			if !closed || strings.Contains(strings.ReplaceAll(inner, `""`, ""), `"`) {
				t.Fatalf("numberCell(%q) = %s: not one quoted string", raw, got)
			}
			return
		}
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
			t.Fatalf("numberCell(%q) = %q starts a formula", raw, got)
		}
	})
}
