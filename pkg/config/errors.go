package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem found in a configuration file, with the position
// of the offending key or value. Line and Column are 1-based; Column is 0 when
// unknown. Field is a path such as "clients[1].dids[0]" and is empty for
// problems that concern the whole document (syntax errors).
type FieldError struct {
	File   string
	Line   int
	Column int
	Field  string
	Msg    string
}

// Error formats the problem as "file:line:col: field: msg".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(e.Line))
	if e.Column > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Column))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one configuration, sorted by position.
// Parse returns it as its error; use errors.As to get it back.
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

// sorted orders the problems by line, column and field, and drops duplicates.
func (es Errors) sorted() Errors {
	slices.SortStableFunc(es, func(a, b *FieldError) int {
		return cmp.Or(
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			strings.Compare(a.Field, b.Field),
			strings.Compare(a.Msg, b.Msg),
		)
	})
	return slices.CompactFunc(es, func(a, b *FieldError) bool { return *a == *b })
}
