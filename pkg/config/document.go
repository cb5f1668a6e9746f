package config

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/toritsugi/toritsugi/pkg/yamlpos"
)

// maxNodes bounds the walk so that alias expansion cannot blow it up.
const maxNodes = 200_000

// maxDepth bounds how deeply the YAML may nest (the deepest setting is
// fewer than ten levels down).
const maxDepth = 64

// tooDeep returns the node at which the tree below n, aliases expanded
// (the decoder expands them), is nested more than maxDepth levels deep:
// the first node past that depth on the deepest path, nil when the tree is
// not that deep; or, with loop, an alias naming an anchor it is inside.
// Each node's height is computed once, so an anchor named by many aliases
// costs one walk.
func tooDeep(n *yaml.Node) (at *yaml.Node, loop bool) {
	heights := map[*yaml.Node]int{}
	inside := map[*yaml.Node]bool{}
	var looped *yaml.Node
	var height func(n *yaml.Node) int
	height = func(n *yaml.Node) int {
		if h, ok := heights[n]; ok {
			return h
		}
		heights[n] = maxDepth + 2 // a node met again below itself: an endless tree
		inside[n] = true
		defer delete(inside, n)
		h := 0
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			if inside[n.Alias] && looped == nil {
				looped = n // names the anchor it is inside
			}
			h = height(n.Alias)
		}
		for _, c := range n.Content {
			h = max(h, 1+height(c))
			if h > maxDepth+1 {
				break // deep enough to refuse: no need to know how deep
			}
		}
		heights[n] = h
		return h
	}
	if height(n) <= maxDepth {
		return nil, false
	}
	if looped != nil {
		return looped, true
	}
	// Down the deepest path to the first node past maxDepth, an alias
	// standing for its anchor (its own line: where the tree gets deep).
	at, depth := n, 0
	for depth <= maxDepth {
		next := at
		if at.Kind == yaml.AliasNode && at.Alias != nil && len(at.Content) == 0 {
			next = at.Alias
		}
		var deepest *yaml.Node
		for _, c := range next.Content {
			if deepest == nil || heights[c] > heights[deepest] {
				deepest = c
			}
		}
		if deepest == nil {
			return at, false
		}
		at, depth = deepest, depth+1
	}
	return at, false
}

// document is the YAML node tree of one configuration: where each field path
// sits, which keys are unknown, and which values have the wrong kind.
type document struct {
	file      string
	root      *yaml.Node // the document node; nil when the file is empty
	positions yamlpos.Positions
	bad       yamlpos.PathSet // wrong-kind paths: no further errors under them
	errs      Errors
	budget    int
	// merged: the keys of merged mappings, by key node, and whether each
	// is known where it is merged: an anchor may be merged into sections
	// of different kinds (a client and an operator), and a key it has
	// for one is unknown in the other.
	merged map[*yaml.Node]*mergedKey
	// blanks are the paths of keys written with no value (`fallback_log:`):
	// they keep their defaults, which is rarely what was meant (warned).
	blanks []blank
	// placeholders are the paths of values that still hold the sample
	// configuration's "change-me" (warned unless the environment
	// overrides them).
	placeholders []string
}

// blank is a key written with no value, and whether it is a setting (a
// scalar) or a section or list.
type blank struct {
	path    string
	setting bool
}

// mergedKey is a key of a merged mapping: unknown wherever it was merged
// (field and msg say where first and why), or known somewhere.
type mergedKey struct {
	known bool
	pos   yamlpos.Pos
	field string
	msg   string
}

// parseDocument decodes data into a node tree and checks it against the
// schema. ok is false when the tree cannot be used any further.
func parseDocument(file string, data []byte) (d *document, ok bool) {
	d = &document{
		file:      file,
		positions: yamlpos.Positions{"": {Line: 1, Col: 1}},
		bad:       yamlpos.PathSet{},
		budget:    maxNodes,
	}
	root, next, err := yamlpos.Decode(data)
	if err != nil {
		d.errs = append(d.errs, syntaxError(file, data, err))
		return d, false
	}
	if next != nil {
		d.errs = append(d.errs, &FieldError{File: file, Line: max(next.Line, 1), Column: next.Column,
			Msg: "only one YAML document is allowed"})
	}
	if root == nil || len(root.Content) == 0 || isNull(root.Content[0]) {
		// Nothing to run with; and a reload that catches a file being
		// written (truncated, not yet filled) must keep the running
		// configuration, not apply one without clients or operators
		// (the required keys may all come from the environment).
		d.errs = append(d.errs, &FieldError{File: file, Line: 1, Column: 1,
			Msg: "the file holds no settings (it is empty, or comments only); a file caught while being written is read again when it is saved"})
		return d, false
	}
	if deep, loop := tooDeep(root); deep != nil {
		// The settings are a few levels deep; a tree far deeper (in an x-
		// key, which the schema does not look into) took the decoder
		// minutes to read, holding a reload.
		msg := fmt.Sprintf("nested more than %d levels deep here: no setting is that deep", maxDepth)
		if loop {
			msg = "an anchor is named inside itself here: its value would never end"
		}
		d.errs = append(d.errs, &FieldError{File: file, Line: max(deep.Line, 1), Column: deep.Column, Msg: msg})
		return d, false
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		d.errs = append(d.errs, &FieldError{File: file, Line: max(top.Line, 1), Column: top.Column,
			Msg: "the top level must be a mapping of keys such as ari:, clients:, operators:"})
		return d, false
	}
	d.root = root
	d.walk(top, rootShape, "")
	d.reportMergedUnknown()
	return d, d.budget >= 0
}

// reportMergedUnknown reports the keys of merged mappings that are known
// nowhere they are merged: a typo in a shared anchor (x-client: &base
// {recrod: true}) would otherwise drop the setting everywhere it is used.
// Each is reported once, where it is written.
func (d *document) reportMergedUnknown() {
	keys := make([]*mergedKey, 0, len(d.merged))
	for _, k := range d.merged {
		if !k.known {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		d.addAt(k.pos, k.field, k.msg)
	}
}

func syntaxError(file string, data []byte, err error) *FieldError {
	line, msg, ok := yamlpos.SyntaxLine(err)
	if !ok {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	// A tab in an indentation, the commonest cause, is reported by the
	// YAML parser on the line before, or where the enclosing mapping
	// began, and at times without a word of a tab: the first line from
	// there indented with a tab is named instead.
	if n := tabIndented(data, line); n > 0 {
		return &FieldError{File: file, Line: n, Msg: "invalid YAML: a tab in the indentation (YAML indents with spaces only)"}
	}
	if ok {
		// the line of the problem, not of the block it is in
		line, _, _ = yamlpos.ProblemLine(data, err)
	}
	return &FieldError{File: file, Line: line, Msg: "invalid YAML: " + msg}
}

// tabIndented is the number of the first line from line on whose
// indentation holds a tab, or 0.
func tabIndented(data []byte, from int) int {
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 < from {
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if strings.Contains(indent, "\t") && strings.TrimSpace(l) != "" {
			return i + 1
		}
	}
	return 0
}

func isNull(n *yaml.Node) bool { return yamlpos.IsNull(n) }

func childPath(path, key string) string { return yamlpos.Child(path, key) }

func indexPath(path string, i int) string { return yamlpos.Index(path, i) }

// at is the position of a field, or of its closest ancestor present in the file.
func (d *document) at(path string) yamlpos.Pos {
	if p, ok := d.positions.Locate(path); ok {
		return p
	}
	return yamlpos.Pos{Line: 1, Col: 1}
}

// suppressed reports whether path lies under a value of the wrong kind.
func (d *document) suppressed(path string) bool { return d.bad.Covers(path) }

func (d *document) addAt(p yamlpos.Pos, field, msg string) {
	d.errs = append(d.errs, &FieldError{File: d.file, Line: p.Line, Column: p.Col, Path: field, Msg: msg})
}

// walk checks n against sh, records positions, and makes every scalar a
// string so that the decoder sees values exactly as written ("0312345678"
// stays a string, not an octal-looking number; dates stay text).
func (d *document) walk(n *yaml.Node, sh *shape, path string) {
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.addAt(yamlpos.Pos{Line: 1, Col: 1}, "", "document too large or too many aliases")
		}
		return
	}
	at := n
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.positions.Mark(path, yamlpos.Pos{Line: max(at.Line, 1), Col: at.Column})
	if isNull(n) {
		if path != "" && at.Kind != yaml.AliasNode {
			d.blanks = append(d.blanks, blank{path, sh.kind == kindScalar})
		}
		return
	}
	want := map[kind]yaml.Kind{kindScalar: yaml.ScalarNode, kindMap: yaml.MappingNode, kindList: yaml.SequenceNode}[sh.kind]
	if n.Kind != want {
		d.addAt(d.positions[path], path, fmt.Sprintf("expected %s, found %s", describeKind(want), describeKind(n.Kind)))
		d.bad[path] = true
		*at = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: at.Line, Column: at.Column}
		return
	}
	switch sh.kind {
	case kindScalar:
		n.Tag = "!!str"
		n.Style &^= yaml.TaggedStyle
		if strings.Contains(strings.ToLower(n.Value), "change-me") {
			d.placeholders = append(d.placeholders, path)
		}
	case kindList:
		for i, e := range n.Content {
			d.walk(e, sh.elem, indexPath(path, i))
		}
	case kindMap:
		d.walkMapping(n, sh, path, map[string]int{}, false)
	}
}

// listIndexes are the [0] of a path, written [] in a schema's places.
var listIndexes = regexp.MustCompile(`\[[0-9]+\]`)

// walkMapping checks the keys of one mapping; merged mappings ("<<: *base")
// are walked after the explicit keys, which take precedence.
func (d *document) walkMapping(n *yaml.Node, sh *shape, path string, seen map[string]int, merged bool) {
	var merges []*yaml.Node
	kept := n.Content[:0:0]
	defer func() {
		if !merged {
			n.Content = kept // duplicates dropped so that decoding can go on
		}
	}()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !merged {
			if line, dup := seen[k.Value]; dup && k.Kind == yaml.ScalarNode && k.Tag != "!!merge" {
				d.addAt(yamlpos.Pos{Line: max(k.Line, 1), Col: k.Column}, childPath(path, k.Value),
					fmt.Sprintf("duplicate key (first at line %d)", line))
				continue
			}
			kept = append(kept, k, v)
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		kp := yamlpos.Pos{Line: max(k.Line, 1), Col: k.Column}
		if k.Kind != yaml.ScalarNode {
			d.addAt(kp, path, "keys must be plain names")
			continue
		}
		if path == "" && strings.HasPrefix(k.Value, "x-") {
			continue // top-level x-... keys hold anchors for reuse, like docker compose
		}
		field := childPath(path, k.Value)
		if _, dup := seen[k.Value]; dup { // an explicit key overrides merged ones
			continue
		}
		seen[k.Value] = kp.Line
		sub, known := sh.fields[k.Value]
		if merged {
			if d.merged == nil {
				d.merged = map[*yaml.Node]*mergedKey{}
			}
			mk := d.merged[k]
			if mk == nil {
				mk = &mergedKey{pos: kp, field: field, msg: fmt.Sprintf("unknown key %q in a mapping merged with <<", k.Value)}
				if s := suggest(k.Value, sh.fields); s != "" {
					mk.msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				d.merged[k] = mk
			}
			mk.known = mk.known || known
		}
		if !known {
			if !merged {
				msg := fmt.Sprintf("unknown key %q", k.Value)
				if strings.ContainsRune(k.Value, '\u3000') {
					msg += " (a full-width space, 全角スペース, in it or in the indentation: indent with half-width spaces)"
				} else if s := suggest(k.Value, sh.fields); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else if places := placesBelow(listIndexes.ReplaceAllString(path, "[]"), k.Value); len(places) > 0 {
					msg += " here (it goes at " + strings.Join(places, " or ") + ")"
				} else if places := sectionsNamed(k.Value); len(places) > 0 {
					msg += " here (the section of that name is " + strings.Join(places, " or ") + ")"
				}
				d.addAt(kp, field, msg)
			}
			continue
		}
		d.walk(v, sub, field)
	}
	for _, m := range merges {
		if m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			if src.Kind == yaml.AliasNode && src.Alias != nil {
				src = src.Alias
			}
			if src.Kind == yaml.MappingNode {
				if d.budget--; d.budget < 0 {
					return
				}
				d.walkMapping(src, sh, path, seen, true)
			}
		}
	}
}

func describeKind(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping of keys"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// encode re-encodes the checked tree for the decoder.
func (d *document) encode() ([]byte, error) {
	if d.root == nil {
		return nil, nil
	}
	return yaml.Marshal(d.root)
}
