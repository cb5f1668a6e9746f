// Package yamlpos places problems found in YAML files: positions of
// yaml.v3 nodes, dotted field paths such as "clients[1].dids[0]", and the
// positioned errors that configuration and script parsers report.
package yamlpos

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem found in a YAML file, with the position of the
// offending key or value. Line and Column are 1-based and 0 when unknown
// (values built in Go, syntax errors without a column). Path is such as
// "clients[1].dids[0]", empty for problems of the whole document. Err, when
// set, is a sentinel the problem wraps for errors.Is.
type FieldError struct {
	File   string
	Line   int
	Column int
	Path   string
	Msg    string
	Err    error
}

// Error formats the problem as "file:line:col: path: msg", leaving out the
// parts that are unknown.
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

// Unwrap returns the sentinel the problem wraps, or nil.
func (e *FieldError) Unwrap() error { return e.Err }

// Errors is every problem found in one file.
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

// Sorted orders the problems by line, column, path and message, in place,
// and drops duplicates.
func (es Errors) Sorted() Errors {
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
