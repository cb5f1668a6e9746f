package relay

import (
	"strings"
	"testing"
	"time"
)

// A call taken at 2026-01-05 00:30 JST (= 2026-01-04 15:30 UTC), as the
// store and time.Now give it in a container (UTC), whatever TZ the test
// runs in.
var tzCallAt = time.Date(2026, 1, 4, 15, 30, 0, 0, time.UTC)

// TestCustomTemplateCreatedAt: a client's own template that formats
// .CreatedAt itself (README lists .CreatedAt as a template field) must
// show Japan time, as the default template's {{jst .CreatedAt}} does.
func TestCustomTemplateCreatedAt(t *testing.T) {
	for tmpl, want := range map[string]string{
		`{{.CreatedAt.Format "2006/01/02 15:04"}}`: "2026/01/05 00:30",
		`{{.CreatedAt.Format "1月2日 15:04"}}`:       "1月5日 00:30",
	} {
		got, err := Render(tmpl, Message{ID: "m", CreatedAt: tzCallAt})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("template %s rendered %q, want %q (Japan time)", tmpl, got, want)
		}
	}
	// The default template is right whatever TZ is.
	got, _ := Render("", Message{ID: "m", CreatedAt: tzCallAt})
	if !strings.Contains(got, "受付日時: 2026/01/05 00:30") {
		t.Errorf("default template: %q", got)
	}
}
