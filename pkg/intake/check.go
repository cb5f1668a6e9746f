package intake

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Identifier rules: field ids are used in read-back templates and stored
// intakes, script ids in configuration.
var (
	fieldIDPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	scriptIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
)

// yesNoValues are the stored values of a yesno field.
var yesNoValues = []string{"yes", "no"}

// Check reports every problem of a script built in Go (ParseScript checks
// the same). The error is an Errors without positions, or nil.
func (s Script) Check() error {
	if errs := (&checker{}).run(s); len(errs) > 0 {
		return errs.Sorted()
	}
	return nil
}

// checker collects problems and places them with locate, when given; skip
// silences paths the parser already reported.
type checker struct {
	file   string
	locate func(path string) (position, bool)
	skip   func(path string) bool
	errs   Errors
}

// add records a problem at path.
func (c *checker) add(path, msg string) {
	if c.skip != nil && c.skip(path) {
		return
	}
	var file string
	var at position
	if c.locate != nil {
		file = c.file
		at, _ = c.locate(path)
	}
	c.errs = append(c.errs, newFieldError(file, at, path, msg))
}

// run finds the problems of a script.
func (c *checker) run(s Script) Errors {
	switch {
	case s.ID == "":
		c.add("id", "missing: name the script (such as acme-main)")
	case !scriptIDPattern.MatchString(s.ID):
		c.add("id", fmt.Sprintf("%q: use 1 to 64 lower-case letters, digits, _ and -", s.ID))
	}
	if strings.TrimSpace(s.Name) == "" {
		c.add("name", "missing: give the script a title")
	}
	if !slices.Contains(scopes, s.Scope) {
		c.add("scope", fmt.Sprintf("%q is not a scope (use one of %s)", s.Scope, strings.Join(scopes, ", ")))
	}
	if strings.TrimSpace(s.Greeting) == "" {
		c.add("greeting", "missing: the line the operator says on answering")
	}
	if len(s.Fields) == 0 {
		c.add("fields", "missing: a script asks at least one field")
	}
	if len(s.Fields) > maxFields {
		c.add("fields", fmt.Sprintf("at most %d fields are allowed", maxFields))
	}
	first := make(map[string]int, len(s.Fields))
	for i, f := range s.Fields {
		c.field(s, i, f, first)
		if _, seen := first[f.ID]; !seen && f.ID != "" {
			first[f.ID] = i
		}
	}
	c.readBack(s)
	return c.errs
}

// ReservedFieldIDs are the fields every relayed message carries besides
// the answers (desk.Submit: the caller's number, the operator who took
// it): an answer of that id would be overwritten in templates and
// webhooks. (An answer urgent of yes makes the message urgent, see
// Urgent; an answer called kind or client_id is what relay rules of that
// name read on an intake, before the message's own.)
var ReservedFieldIDs = []string{"caller", "operator"}

// field checks one field; first maps the ids of earlier fields to their
// index.
func (c *checker) field(s Script, i int, f Field, first map[string]int) {
	path := index("fields", i)
	switch {
	case f.ID == "":
		c.add(join(path, "id"), "missing: name the answer (such as caller_name)")
	case !fieldIDPattern.MatchString(f.ID):
		c.add(join(path, "id"), fmt.Sprintf("%q: start with a lower-case letter, then up to 63 lower-case letters, digits or _", f.ID))
	case slices.Contains(ReservedFieldIDs, f.ID):
		c.add(join(path, "id"), fmt.Sprintf("%q is a field of every relayed message (the caller's number, the operator): name the answer otherwise, such as caller_name", f.ID))
	default:
		if j, dup := first[f.ID]; dup {
			c.add(join(path, "id"), fmt.Sprintf("duplicate id %q, already used by %s", f.ID, index("fields", j)))
		}
	}
	if strings.TrimSpace(f.Label) == "" {
		c.add(join(path, "label"), "missing: the question as the operator sees it")
	}
	if !f.Type.valid() {
		names := make([]string, len(fieldTypes))
		for k, t := range fieldTypes {
			names[k] = string(t)
		}
		c.add(join(path, "type"), fmt.Sprintf("%q is not a field type (use one of %s)", f.Type, strings.Join(names, ", ")))
	}
	c.choices(path, f)
	if f.ShowIf != nil {
		c.cond(s, i, f, first)
	}
}

// choices checks the options of a field.
func (c *checker) choices(path string, f Field) {
	cp := join(path, "choices")
	if f.Type != TypeChoice {
		if len(f.Choices) > 0 {
			c.add(cp, fmt.Sprintf("only a choice field has choices (this one is %s)", f.Type))
		}
		return
	}
	if len(f.Choices) == 0 {
		c.add(cp, "missing: a choice field needs at least one choice")
	}
	if len(f.Choices) > maxChoices {
		c.add(cp, fmt.Sprintf("at most %d choices are allowed", maxChoices))
	}
	seen := make(map[string]int, len(f.Choices))
	for k, ch := range f.Choices {
		vp := join(index(cp, k), "value")
		switch {
		case ch.Value == "":
			c.add(vp, "missing: the value to store")
		case ch.Value != strings.TrimSpace(ch.Value):
			c.add(vp, fmt.Sprintf("%q: a value cannot start or end with spaces", ch.Value))
		case ch.Value != clean(ch.Value):
			// Answers lose them (clean): the choice could never be made.
			c.add(vp, fmt.Sprintf("%q holds invisible or control characters (pasted along?), which answers drop: it could never be chosen", ch.Value))
		default:
			if j, dup := seen[ch.Value]; dup {
				c.add(vp, fmt.Sprintf("duplicate value %q, already used by %s", ch.Value, index(cp, j)))
			} else {
				seen[ch.Value] = k
			}
		}
	}
}

// cond checks show_if: it must name an EARLIER choice or yesno field, which
// also rules out cycles, and list values that field can take; or name
// caller classes (callerCond).
func (c *checker) cond(s Script, i int, f Field, first map[string]int) {
	path := join(index("fields", i), "show_if")
	if f.ShowIf.Caller != nil {
		c.callerCond(path, f.ShowIf)
		return
	}
	fp := join(path, "field")
	const earlier = " (fields must refer to EARLIER fields)"
	ref := f.ShowIf.Field
	j, ok := first[ref]
	switch {
	case ref == "":
		c.add(fp, "missing: the id of an earlier choice or yesno field (or caller: the caller classes)")
		return
	case ref == f.ID:
		c.add(fp, fmt.Sprintf("field %q refers to itself"+earlier, ref))
		return
	case !ok:
		if k := slices.IndexFunc(s.Fields, func(g Field) bool { return g.ID == ref }); k >= 0 {
			c.add(fp, fmt.Sprintf("unknown field %q (fields must refer to EARLIER fields; %q is defined later, in %s)", ref, ref, index("fields", k)))
		} else {
			c.add(fp, fmt.Sprintf("unknown field %q"+earlier, ref))
		}
		return
	}
	target := s.Fields[j]
	var allowed []string
	switch target.Type {
	case TypeChoice:
		for _, ch := range target.Choices {
			allowed = append(allowed, ch.Value)
		}
	case TypeYesNo:
		allowed = yesNoValues
	default:
		c.add(fp, fmt.Sprintf("field %q is a %s field; show_if may only refer to choice or yesno fields", ref, target.Type))
		return
	}
	ep := join(path, "equals")
	if len(f.ShowIf.Equals) == 0 {
		c.add(ep, "missing: list the values of "+ref+" for which the field is shown")
	}
	for k, v := range f.ShowIf.Equals {
		if !slices.Contains(allowed, v) {
			c.add(index(ep, k), fmt.Sprintf("%q is not a value of %q (values: %s)", v, ref, strings.Join(allowed, ", ")))
		}
	}
}

// callerCond checks show_if caller: caller classes, at least one, and no
// field or equals beside them.
func (c *checker) callerCond(path string, cond *Cond) {
	cp := join(path, "caller")
	classes := strings.Join(CallerClasses, ", ")
	if cond.Field != "" || len(cond.Equals) > 0 {
		c.add(cp, "show_if takes either field with equals (an earlier answer) or caller (the caller's class), not both")
	}
	if len(cond.Caller) == 0 {
		c.add(cp, "missing: list the caller classes for which the field is shown ("+classes+")")
	}
	for k, v := range cond.Caller {
		if !slices.Contains(CallerClasses, v) {
			c.add(index(cp, k), fmt.Sprintf("%q is not a caller class (use one of %s)", v, classes))
		}
	}
}

// readBack checks the read-back template and the fields it names.
func (c *checker) readBack(s Script) {
	if s.ReadBack == "" {
		return
	}
	parts, err := parseTemplate(s.ReadBack)
	if err != nil {
		c.add("read_back", err.Error())
		return
	}
	for _, id := range placeholders(parts, nil) {
		if _, ok := s.field(id); !ok {
			c.add("read_back", fmt.Sprintf("unknown field {%s}", id))
		}
	}
}
