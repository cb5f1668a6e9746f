package intake

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/toritsugi/toritsugi/pkg/yamlpos"
)

// Keys each mapping accepts, in the order messages list them.
var (
	scriptKeys = []string{"id", "name", "scope", "greeting", "fields", "closing", "read_back"}
	fieldKeys  = []string{"id", "label", "type", "required", "choices", "help", "show_if"}
	choiceKeys = []string{"value", "label"}
	condKeys   = []string{"field", "equals", "caller"}
)

// script reads the top-level mapping.
func (p *parser) script(n *yaml.Node) Script {
	p.mark("", n)
	m := p.mapping(n, "", scriptKeys)
	s := Script{
		ID:       p.str(m["id"], "id"),
		Name:     p.str(m["name"], "name"),
		Scope:    p.str(m["scope"], "scope"),
		Greeting: p.str(m["greeting"], "greeting"),
		Closing:  p.str(m["closing"], "closing"),
		ReadBack: p.str(m["read_back"], "read_back"),
	}
	if m["scope"] == nil {
		s.Scope = ScopeCustom
	}
	for i, fn := range p.list(m["fields"], "fields", maxFields) {
		s.Fields = append(s.Fields, p.field(fn, index("fields", i)))
	}
	return s
}

// field reads one entry of fields. A missing type means text; a choice
// without a label is labelled with its value.
func (p *parser) field(n *yaml.Node, path string) Field {
	m := p.mapping(n, path, fieldKeys)
	f := Field{
		ID:       p.str(m["id"], join(path, "id")),
		Label:    p.str(m["label"], join(path, "label")),
		Type:     FieldType(p.str(m["type"], join(path, "type"))),
		Required: p.boolean(m["required"], join(path, "required")),
		Help:     p.str(m["help"], join(path, "help")),
	}
	if m["type"] == nil {
		f.Type = TypeText
	}
	cp := join(path, "choices")
	for i, cn := range p.list(m["choices"], cp, maxChoices) {
		f.Choices = append(f.Choices, p.choice(cn, index(cp, i)))
	}
	if c := deref(m["show_if"]); c != nil && !isNull(c) {
		f.ShowIf = p.cond(c, join(path, "show_if"))
	}
	return f
}

// choice reads an option, either "value" or {value: v, label: l}.
func (p *parser) choice(n *yaml.Node, path string) Choice {
	if d := deref(n); d != nil && d.Kind == yaml.ScalarNode {
		v := p.str(d, path)
		return Choice{Value: v, Label: v}
	}
	m := p.mapping(n, path, choiceKeys)
	c := Choice{Value: p.str(m["value"], join(path, "value")), Label: p.str(m["label"], join(path, "label"))}
	if c.Label == "" {
		c.Label = c.Value
	}
	return c
}

// cond reads show_if. equals and caller may be one value or a list; a
// caller key written with no value reads as an empty list (Check asks for
// the classes), not as none.
func (p *parser) cond(n *yaml.Node, path string) *Cond {
	m := p.mapping(n, path, condKeys)
	c := &Cond{Field: p.str(m["field"], join(path, "field"))}
	c.Equals = p.values(m["equals"], join(path, "equals"))
	if m["caller"] != nil {
		c.Caller = p.values(m["caller"], join(path, "caller"))
		if c.Caller == nil {
			c.Caller = []string{}
		}
	}
	return c
}

// values reads one value or a list of them.
func (p *parser) values(n *yaml.Node, path string) []string {
	if d := deref(n); d != nil && d.Kind == yaml.ScalarNode && !isNull(d) {
		return []string{p.str(d, path)}
	}
	var out []string
	for i, en := range p.list(n, path, maxEquals) {
		out = append(out, p.str(en, index(path, i)))
	}
	return out
}

// mapping returns the values of a mapping by key, reporting keys that are
// unknown, repeated or merged. It returns nil for anything but a mapping.
func (p *parser) mapping(n *yaml.Node, path string, known []string) map[string]*yaml.Node {
	d := deref(n)
	if d == nil {
		return nil
	}
	if d.Kind != yaml.MappingNode {
		p.wrongKind(d, path, "a mapping (key: value)")
		return nil
	}
	out := make(map[string]*yaml.Node, len(d.Content)/2)
	for i := 0; i+1 < len(d.Content); i += 2 {
		k, v := d.Content[i], d.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			p.add(k, path, "keys must be plain words, found "+describe(k))
		case k.Value == "<<":
			p.add(k, path, "merge keys (<<) are not supported; use an alias (*name) for a whole value")
		case !slices.Contains(known, k.Value):
			p.add(k, path, fmt.Sprintf("unknown key %q (known keys: %s)", k.Value, strings.Join(known, ", ")))
		case out[k.Value] != nil:
			p.add(k, path, fmt.Sprintf("duplicate key %q", k.Value))
		default:
			out[k.Value] = v
			p.mark(join(path, k.Value), v)
		}
	}
	return out
}

// list returns the items of a sequence, at most max of them.
func (p *parser) list(n *yaml.Node, path string, max int) []*yaml.Node {
	d := deref(n)
	if d == nil || isNull(d) {
		return nil
	}
	if d.Kind != yaml.SequenceNode {
		p.wrongKind(d, path, "a list")
		return nil
	}
	items := d.Content
	if len(items) > max {
		p.add(items[max], path, fmt.Sprintf("at most %d items are allowed", max))
		items = items[:max]
	}
	for i, it := range items {
		p.mark(index(path, i), it)
	}
	return items
}

// str returns a scalar as text; null and absent are "".
func (p *parser) str(n *yaml.Node, path string) string {
	d := deref(n)
	if d == nil || isNull(d) {
		return ""
	}
	if d.Kind != yaml.ScalarNode {
		p.wrongKind(d, path, "text")
		return ""
	}
	return d.Value
}

// boolean returns true or false; absent and null are false.
func (p *parser) boolean(n *yaml.Node, path string) bool {
	d := deref(n)
	if d == nil || isNull(d) {
		return false
	}
	var b bool
	if d.Kind != yaml.ScalarNode || d.Tag != "!!bool" || d.Decode(&b) != nil {
		p.wrongKind(d, path, "true or false")
	}
	return b
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 4; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// isNull reports whether n is an explicit null (~, null or nothing).
func isNull(n *yaml.Node) bool { return yamlpos.IsNull(n) }

// describe names a node's kind for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}
