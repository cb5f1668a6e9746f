package config

import "github.com/toritsugi/toritsugi/pkg/yamlpos"

// FieldError is one problem found in a configuration file, with the position
// of the offending key or value. Line and Column are 1-based; Column is 0 when
// unknown. Path is such as "clients[1].dids[0]" and is empty for problems
// that concern the whole document (syntax errors). It formats as
// "file:line:col: path: msg".
type FieldError = yamlpos.FieldError

// Errors is every problem found in one configuration, sorted by position.
// Parse returns it as its error; use errors.As to get it back.
type Errors = yamlpos.Errors
