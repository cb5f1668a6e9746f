package relay

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"
)

// urgentMark starts what an urgent message says first (DefaultTemplate,
// an email's subject).
const urgentMark = "【至急】"

// DefaultTemplate is the Japanese body used when a client has no template
// of its own: the subject, the caller's number, every line of the message
// (an intake: each answer under its form label, in the form's order), the
// time and the link. Templates see a Message; helpers: jst (time →
// "2006/01/02 15:04" in Japan time), kind (kind → Japanese label), field
// (key → value or "—").
const DefaultTemplate = `{{if .Urgent}}【至急】{{end}}【{{kind .Kind}}】{{.Subject}}

発信者: {{field "caller"}}
{{range .Lines}}{{.Label}}: {{.Value}}
{{end}}受付日時: {{jst .CreatedAt}}
{{- with .Link}}

詳細: {{.}}{{end}}
`

// jst is Japan time, fixed at UTC+9, so rendering does not depend on the
// host's tzdata.
var jst = japan.Zone

var kindLabels = map[string]string{
	KindIntake:     "お電話承り",
	KindMissedCall: "不在着信",
	KindVoicemail:  "留守番電話",
}

// Render applies the text/template tmpl (DefaultTemplate when empty) to m.
func Render(tmpl string, m Message) (string, error) {
	if tmpl == "" {
		tmpl = DefaultTemplate
	}
	// A client's own template may format .CreatedAt or .UpdatedAt itself:
	// in Japan time, not the machine's (UTC in a container).
	m = m.InJapan()
	funcs := template.FuncMap{
		"jst": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(jst).Format("2006/01/02 15:04")
		},
		"kind": func(k string) string {
			if l, ok := kindLabels[k]; ok {
				return l
			}
			return k
		},
		"field": func(key string) string {
			if v := strings.TrimSpace(m.Fields[key]); v != "" {
				return v
			}
			return "—"
		},
	}
	t, err := template.New("relay").Funcs(funcs).Option("missingkey=zero").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("relay: parse template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, m); err != nil {
		return "", fmt.Errorf("relay: render message %s: %w", m.ID, err)
	}
	return b.String(), nil
}
