package intake

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxGroupDepth bounds the nesting of [optional] parts.
const maxGroupDepth = 8

// part is one piece of a read-back template: literal text, a {field}
// placeholder, or an [optional] group of parts.
type part struct {
	text  string
	field string
	group []part
	isGrp bool
}

// templateError says where a template is malformed; At counts characters
// from 1.
type templateError struct {
	At  int
	Msg string
}

func (e *templateError) Error() string {
	return fmt.Sprintf("template character %d: %s", e.At, e.Msg)
}

// tmplParser reads a template rune by rune.
type tmplParser struct {
	src []rune
	i   int
}

// parseTemplate parses a read-back template (see the package documentation).
func parseTemplate(s string) ([]part, error) {
	if !utf8.ValidString(s) {
		return nil, &templateError{At: 1, Msg: "the template is not valid UTF-8"}
	}
	p := &tmplParser{src: []rune(s)}
	parts, err := p.parts(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.src) { // only a stray ']' stops the top level early
		return nil, &templateError{At: p.i + 1, Msg: `"]" without "["`}
	}
	return parts, nil
}

// parts reads until the end or, inside a group, the closing ']'.
func (p *tmplParser) parts(depth int) ([]part, error) {
	var out []part
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, part{text: text.String()})
			text.Reset()
		}
	}
	for p.i < len(p.src) {
		r := p.src[p.i]
		switch r {
		case '\\':
			if p.i+1 >= len(p.src) {
				return nil, &templateError{At: p.i + 1, Msg: `"\" at the end: write \\ for a backslash`}
			}
			text.WriteRune(p.src[p.i+1])
			p.i += 2
		case '{':
			id, err := p.placeholder()
			if err != nil {
				return nil, err
			}
			flush()
			out = append(out, part{field: id})
		case '}':
			return nil, &templateError{At: p.i + 1, Msg: `"}" without "{": write \} for the character`}
		case '[':
			if depth >= maxGroupDepth {
				return nil, &templateError{At: p.i + 1, Msg: fmt.Sprintf("optional parts nest at most %d deep", maxGroupDepth)}
			}
			open := p.i
			p.i++
			g, err := p.parts(depth + 1)
			if err != nil {
				return nil, err
			}
			if p.i >= len(p.src) {
				return nil, &templateError{At: open + 1, Msg: `"[" is never closed`}
			}
			p.i++ // the ']'
			flush()
			out = append(out, part{group: g, isGrp: true})
		case ']':
			flush()
			return out, nil
		default:
			text.WriteRune(r)
			p.i++
		}
	}
	flush()
	return out, nil
}

// placeholder reads "{id}" starting at '{'.
func (p *tmplParser) placeholder() (string, error) {
	open := p.i
	end := -1
	for k := p.i + 1; k < len(p.src); k++ {
		if p.src[k] == '}' {
			end = k
			break
		}
		if p.src[k] == '{' {
			break
		}
	}
	if end < 0 {
		return "", &templateError{At: open + 1, Msg: `"{" is never closed: write \{ for the character`}
	}
	id := string(p.src[open+1 : end])
	if id == "" {
		return "", &templateError{At: open + 1, Msg: "empty {}: name a field, as in {name}"}
	}
	p.i = end + 1
	return id, nil
}

// placeholders lists the field ids a template names, in order.
func placeholders(parts []part, out []string) []string {
	for _, pt := range parts {
		switch {
		case pt.isGrp:
			out = placeholders(pt.group, out)
		case pt.field != "":
			out = append(out, pt.field)
		}
	}
	return out
}

// render fills the template. ok is false when a placeholder directly in
// parts has no value; such a group is left out by its caller.
func render(parts []part, value func(id string) string) (string, bool) {
	var b strings.Builder
	ok := true
	for _, pt := range parts {
		switch {
		case pt.isGrp:
			if s, full := render(pt.group, value); full {
				b.WriteString(s)
			}
		case pt.field != "":
			v := value(pt.field)
			if v == "" {
				ok = false
			}
			b.WriteString(v)
		default:
			b.WriteString(pt.text)
		}
	}
	return b.String(), ok
}
