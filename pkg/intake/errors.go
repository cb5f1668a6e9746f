package intake

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalidScript is wrapped by every problem ParseScript and Check report.
var ErrInvalidScript = errors.New("invalid intake script")

// ErrUnknownScope is returned by Preset for a scope without a preset.
var ErrUnknownScope = errors.New("intake: no preset for this scope")

// FieldError is one problem in a script, with the position of the offending
// key or value. Line and Column are 1-based and 0 when unknown (scripts built
// in Go). Path is such as "fields[2].show_if.field", empty for the whole
// document.
type FieldError struct {
	File   string
	Line   int
	Column int
	Path   string
	Msg    string
}

// Error formats the problem as "file:line:col: path: msg".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" || e.Line > 0 {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
			if e.Column > 0 {
				b.WriteByte(':')
				b.WriteString(strconv.Itoa(e.Column))
			}
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalidScript) hold.
func (e *FieldError) Unwrap() error { return ErrInvalidScript }

// Errors is every problem found in one script, sorted by position.
type Errors []*FieldError

// Error joins the problems, one a line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *FieldError.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted orders the problems by position and path and drops duplicates.
func (es Errors) sorted() Errors {
	slices.SortStableFunc(es, func(a, b *FieldError) int {
		return cmp.Or(
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			strings.Compare(a.Path, b.Path),
			strings.Compare(a.Msg, b.Msg),
		)
	})
	return slices.CompactFunc(es, func(a, b *FieldError) bool { return *a == *b })
}
