package intake

import "strings"

// ReadBackLine returns the line the operator reads back to the caller to
// confirm the answers, such as
// 「株式会社○○の山田様、お電話番号 03-1234-5678、ご用件は見積もりの件で、よろしいでしょうか。」
// Only visible fields are read; values may be raw or as Validate returns
// them; with no answer at all the line is empty. A script without a template (or with a malformed one) reads every
// answer as "label：value".
func (s Script) ReadBackLine(v Values) string {
	said := make(map[string]string, len(s.Fields))
	visible := s.Visible(v)
	for _, f := range visible {
		if w := spoken(f, v[f.ID]); w != "" {
			said[f.ID] = w
		}
	}
	if len(said) == 0 {
		return ""
	}
	if s.ReadBack != "" {
		if parts, err := parseTemplate(s.ReadBack); err == nil {
			line, _ := render(parts, func(id string) string { return said[id] })
			return line
		}
	}
	var items []string
	for _, f := range visible {
		if w, ok := said[f.ID]; ok {
			items = append(items, f.Label+"："+w)
		}
	}
	return strings.Join(items, "、") + "、以上でよろしいでしょうか。"
}

// Answer is one answered field as people read it (see Display).
type Answer struct {
	ID, Label, Value string
}

// Answers returns the visible answered fields in the form's order, each
// with its label and its value as Display gives it, except that a
// multi-line answer keeps its line breaks: what a relayed message lists,
// so that nothing the operator took down is left out.
func (s Script) Answers(v Values) []Answer {
	var out []Answer
	for _, f := range s.Visible(v) {
		if w := readable(f, v[f.ID]); w != "" {
			out = append(out, Answer{ID: f.ID, Label: f.Label, Value: w})
		}
	}
	return out
}

// readable is an answer as people read it (spoken), a multi-line answer
// keeping its line breaks.
func readable(f Field, raw string) string {
	w := spoken(f, raw)
	if w != "" && f.Type == TypeMultiline {
		if n, msg := normalise(f, clean(raw)); msg == "" {
			w = strings.TrimSpace(n)
		}
	}
	return w
}

// Display returns the visible answers in the form people read them: a
// phone number as 03-1234-5678, a choice by its label, はい/いいえ, a date
// as 1月5日(月) 14:00, a multi-line answer with its line breaks. Relayed
// messages use it; stored values stay raw.
func (s Script) Display(v Values) Values {
	out := make(Values, len(v))
	for _, f := range s.Visible(v) {
		if w := readable(f, v[f.ID]); w != "" {
			out[f.ID] = w
		}
	}
	return out
}
