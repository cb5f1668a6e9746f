package intake

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Limits that keep a hostile or mistaken file cheap to read.
const (
	maxScriptBytes = 1 << 20
	maxFields      = 200
	maxChoices     = 100
	maxEquals      = 100
)

// position is a 1-based line and column in the file.
type position struct{ line, col int }

// parser turns a YAML document into a Script, remembering where each path
// was written so that later checks can point at it.
type parser struct {
	file   string
	pos    map[string]position
	broken map[string]bool // paths whose value had the wrong kind
	errs   Errors
}

// ParseScript reads an intake script from YAML; filename is used only in
// messages. On failure the error is an Errors listing every problem found
// as "file:line:col: path: message", sorted by position; each wraps
// ErrInvalidScript. The script is also checked as Script.Check does.
func ParseScript(filename string, data []byte) (Script, error) {
	p := &parser{file: filename, pos: map[string]position{}, broken: map[string]bool{}}
	root, ok := p.document(data)
	if !ok {
		return Script{}, p.errs.sorted()
	}
	s := p.script(root)
	c := &checker{file: p.file, locate: p.locate, skip: p.isBroken}
	p.errs = append(p.errs, c.run(s)...)
	if len(p.errs) > 0 {
		return Script{}, p.errs.sorted()
	}
	return s, nil
}

// yamlLineErr matches the syntax errors of the YAML decoder.
var yamlLineErr = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// document decodes exactly one YAML document and returns its root node.
func (p *parser) document(data []byte) (*yaml.Node, bool) {
	if len(data) > maxScriptBytes {
		p.addAt(position{1, 1}, "", fmt.Sprintf("the script is larger than %d bytes", maxScriptBytes))
		return nil, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.addAt(position{1, 1}, "", "the script is empty")
		} else {
			p.syntax(err)
		}
		return nil, false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err == nil && emptyDocument(&extra): // a trailing "---"
	case err != nil:
		p.syntax(err)
		return nil, false
	default:
		p.addAt(position{extra.Line, extra.Column}, "", "only one YAML document is allowed in a script")
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.addAt(position{1, 1}, "", "the script is empty")
		return nil, false
	}
	return doc.Content[0], true
}

// emptyDocument reports whether a document holds nothing.
func emptyDocument(doc *yaml.Node) bool {
	return len(doc.Content) == 0 || (len(doc.Content) == 1 && isNull(doc.Content[0]))
}

// isBroken reports whether path or an enclosing path had a value of the
// wrong kind, already reported; checks below it would only repeat that.
func (p *parser) isBroken(path string) bool {
	for {
		if p.broken[path] {
			return true
		}
		if path == "" {
			return false
		}
		path = parent(path)
	}
}

// wrongKind reports a value of the wrong kind and marks path broken.
func (p *parser) wrongKind(n *yaml.Node, path, want string) {
	p.broken[path] = true
	p.add(n, path, "expected "+want+", found "+describe(n))
}

// syntax records a YAML syntax error at the line the decoder names.
func (p *parser) syntax(err error) {
	line, msg := 1, err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
		msg = m[2]
	}
	p.addAt(position{line, 0}, "", "invalid YAML: "+msg)
}

// addAt records a problem at a position.
func (p *parser) addAt(at position, path, msg string) {
	p.errs = append(p.errs, &FieldError{File: p.file, Line: at.line, Column: at.col, Path: path, Msg: msg})
}

// add records a problem at a node.
func (p *parser) add(n *yaml.Node, path, msg string) {
	p.addAt(position{n.Line, n.Column}, path, msg)
}

// mark remembers where path was written.
func (p *parser) mark(path string, n *yaml.Node) {
	if _, ok := p.pos[path]; !ok {
		p.pos[path] = position{n.Line, n.Column}
	}
}

// locate finds where path, or the nearest enclosing path, was written.
func (p *parser) locate(path string) (position, bool) {
	for {
		if at, ok := p.pos[path]; ok {
			return at, true
		}
		if path == "" {
			return position{}, false
		}
		path = parent(path)
	}
}

// parent strips the last segment of a path: "fields[2].id" → "fields[2]"
// → "fields" → "".
func parent(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		switch path[i] {
		case '.':
			return path[:i]
		case '[':
			return path[:i]
		}
	}
	return ""
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends a list index to a path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
