package intake

import (
	"errors"

	"github.com/toritsugi/toritsugi/pkg/yamlpos"
)

// ErrInvalidScript is wrapped by every problem ParseScript and Check report.
var ErrInvalidScript = errors.New("invalid intake script")

// ErrUnknownScope is returned by Preset for a scope without a preset.
var ErrUnknownScope = errors.New("intake: no preset for this scope")

// FieldError is one problem in a script, with the position of the offending
// key or value. Line and Column are 1-based and 0 when unknown (scripts built
// in Go). Path is such as "fields[2].show_if.field", empty for the whole
// document. It formats as "file:line:col: path: msg"; the problems this
// package reports wrap ErrInvalidScript.
type FieldError = yamlpos.FieldError

// Errors is every problem found in one script, sorted by position.
type Errors = yamlpos.Errors

// newFieldError is a problem at a path that wraps ErrInvalidScript.
func newFieldError(file string, at yamlpos.Pos, path, msg string) *FieldError {
	return &FieldError{File: file, Line: at.Line, Column: at.Col, Path: path, Msg: msg, Err: ErrInvalidScript}
}
