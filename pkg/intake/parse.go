package intake

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/toritsugi/toritsugi/pkg/yamlpos"
)

// Limits that keep a hostile or mistaken file cheap to read.
const (
	maxScriptBytes = 1 << 20
	maxFields      = 200
	maxChoices     = 100
	maxEquals      = 100
)

// position is a 1-based line and column in the file.
type position = yamlpos.Pos

// parser turns a YAML document into a Script, remembering where each path
// was written so that later checks can point at it.
type parser struct {
	file   string
	pos    yamlpos.Positions
	broken yamlpos.PathSet // paths whose value had the wrong kind
	errs   Errors
}

// ParseScript reads an intake script from YAML; filename is used only in
// messages. On failure the error is an Errors listing every problem found
// as "file:line:col: path: message", sorted by position; each wraps
// ErrInvalidScript. The script is also checked as Script.Check does.
func ParseScript(filename string, data []byte) (Script, error) {
	p := &parser{file: filename, pos: yamlpos.Positions{}, broken: yamlpos.PathSet{}}
	root, ok := p.document(data)
	if !ok {
		return Script{}, p.errs.Sorted()
	}
	s := p.script(root)
	c := &checker{file: p.file, locate: p.pos.Locate, skip: p.broken.Covers}
	p.errs = append(p.errs, c.run(s)...)
	if len(p.errs) > 0 {
		return Script{}, p.errs.Sorted()
	}
	return s, nil
}

// document decodes exactly one YAML document and returns its root node.
func (p *parser) document(data []byte) (*yaml.Node, bool) {
	if len(data) > maxScriptBytes {
		p.addAt(position{Line: 1, Col: 1}, "", fmt.Sprintf("the script is larger than %d bytes", maxScriptBytes))
		return nil, false
	}
	doc, extra, err := yamlpos.Decode(data)
	switch {
	case err != nil:
		p.syntax(data, err)
		return nil, false
	case doc == nil:
		p.addAt(position{Line: 1, Col: 1}, "", "the script is empty")
		return nil, false
	case extra != nil && !emptyDocument(extra): // a trailing "---" is fine
		p.addAt(position{Line: extra.Line, Col: extra.Column}, "", "only one YAML document is allowed in a script")
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.addAt(position{Line: 1, Col: 1}, "", "the script is empty")
		return nil, false
	}
	return doc.Content[0], true
}

// emptyDocument reports whether a document holds nothing.
func emptyDocument(doc *yaml.Node) bool {
	return len(doc.Content) == 0 || (len(doc.Content) == 1 && isNull(doc.Content[0]))
}

// wrongKind reports a value of the wrong kind and marks path broken.
func (p *parser) wrongKind(n *yaml.Node, path, want string) {
	p.broken[path] = true
	p.add(n, path, "expected "+want+", found "+describe(n))
}

// syntax records a YAML syntax error at the line of the problem
// (yamlpos.ProblemLine).
func (p *parser) syntax(data []byte, err error) {
	line, msg, _ := yamlpos.ProblemLine(data, err)
	p.addAt(position{Line: line}, "", "invalid YAML: "+msg)
}

// addAt records a problem at a position.
func (p *parser) addAt(at position, path, msg string) {
	p.errs = append(p.errs, newFieldError(p.file, at, path, msg))
}

// add records a problem at a node.
func (p *parser) add(n *yaml.Node, path, msg string) {
	p.addAt(position{Line: n.Line, Col: n.Column}, path, msg)
}

// mark remembers where path was written.
func (p *parser) mark(path string, n *yaml.Node) {
	p.pos.Mark(path, position{Line: n.Line, Col: n.Column})
}

// join appends a key to a path.
func join(path, key string) string { return yamlpos.Child(path, key) }

// index appends a list index to a path.
func index(path string, i int) string { return yamlpos.Index(path, i) }
