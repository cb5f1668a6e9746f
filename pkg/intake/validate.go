package intake

import (
	"fmt"
	"slices"
	"strings"
)

// Values are answers by field id, as the console sends them.
type Values map[string]string

// Result is the outcome of checking a form.
type Result struct {
	// Values holds the answers of the visible fields: normalised when
	// valid (phone → E.164, datetime → RFC 3339 in Japan time, yesno →
	// "yes"/"no", text trimmed), as written (trimmed) when not. Empty
	// answers, hidden fields and unknown ids are left out.
	Values Values `json:"values"`
	// Errors maps field ids to a message in Japanese for the operator.
	Errors map[string]string `json:"errors"`
	// ReadBack is the read-back line for the answers.
	ReadBack string `json:"read_back"`
}

// OK reports whether every visible field was answered correctly.
func (r Result) OK() bool { return len(r.Errors) == 0 }

// Visible returns the fields to show given the current answers, in order. A
// field with show_if is shown when the field it names is itself shown and
// its answer is one of the listed values; so hiding a field also hides the
// fields that depend on it. A field with show_if caller is shown when the
// script's caller class (ForCaller) is one it lists.
func (s Script) Visible(v Values) []Field {
	shown := make(map[string]string, len(s.Fields)) // id → comparable answer
	out := make([]Field, 0, len(s.Fields))
	for _, f := range s.Fields {
		if c := f.ShowIf; c != nil && !s.holds(c, shown) {
			continue
		}
		if _, dup := shown[f.ID]; dup {
			continue // a malformed script repeats an id: show it once
		}
		shown[f.ID] = comparable(f, v[f.ID])
		out = append(out, f)
	}
	return out
}

// holds reports whether a show_if condition holds, given the comparable
// answers of the fields shown so far.
func (s Script) holds(c *Cond, shown map[string]string) bool {
	if c.Caller != nil {
		return s.caller != "" && slices.Contains(c.Caller, s.caller)
	}
	answer, ok := shown[c.Field]
	return ok && slices.Contains(c.Equals, answer)
}

// comparable returns the answer as show_if compares it: trimmed, and yes/no
// in stored form.
func comparable(f Field, raw string) string {
	raw = clean(raw)
	if f.Type == TypeYesNo {
		if v, ok := yesNo(raw); ok {
			return v
		}
	}
	return raw
}

// Validate checks the answers against the script. Only visible fields are
// checked and kept: a required field that is hidden is not required, and
// the answer of a hidden field is dropped. Answers are trimmed; see Result
// for the normalised forms.
func (s Script) Validate(v Values) Result {
	r := Result{Values: Values{}, Errors: map[string]string{}}
	for _, f := range s.Visible(v) {
		raw := clean(v[f.ID])
		if raw == "" {
			if f.Required {
				r.Errors[f.ID] = requiredMessage(f)
			}
			continue
		}
		val, msg := normalise(f, raw)
		if msg != "" {
			r.Errors[f.ID] = msg
			val = raw
		}
		r.Values[f.ID] = val
	}
	r.ReadBack = s.ReadBackLine(r.Values)
	return r
}

// requiredMessage asks for a missing answer.
func requiredMessage(f Field) string {
	label := strings.TrimSpace(f.Label)
	if label == "" {
		label = f.ID
	}
	if f.Type == TypeChoice || f.Type == TypeYesNo {
		return fmt.Sprintf("「%s」を選択してください", label)
	}
	return fmt.Sprintf("「%s」を入力してください", label)
}
