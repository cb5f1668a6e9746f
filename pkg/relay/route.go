package relay

import "strconv"

// Rule sends matching messages to destinations by name.
type Rule struct {
	// Field names the value to test: a key of Message.Fields (addressee,
	// purpose, urgency, caller, ...) or, when absent there, one of the
	// message attributes "kind", "client_id" or "urgent" ("true"/"false").
	Field string
	// Equals is the exact value to match. A rule with an empty Field
	// always matches.
	Equals string
	// To lists destination names.
	To []string
	// Urgent also sends matching messages to the urgent destinations.
	Urgent bool
}

// Route returns the destination names for m: the To of every matching rule
// in rule order, plus urgentDest when m.Urgent is set or a matching rule
// has Urgent. Names are de-duplicated, keeping the first occurrence, and
// empty names are dropped. Route is pure.
func Route(m Message, rules []Rule, urgentDest []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(names []string) {
		for _, n := range names {
			if n == "" || seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, n)
		}
	}
	urgent := m.Urgent
	for _, r := range rules {
		if !matches(m, r) {
			continue
		}
		add(r.To)
		urgent = urgent || r.Urgent
	}
	if urgent {
		add(urgentDest)
	}
	return out
}

func matches(m Message, r Rule) bool {
	if r.Field == "" {
		return true
	}
	v, ok := fieldValue(m, r.Field)
	return ok && v == r.Equals
}

func fieldValue(m Message, name string) (string, bool) {
	if v, ok := m.Fields[name]; ok {
		return v, true
	}
	switch name {
	case "kind":
		return m.Kind, true
	case "client_id":
		return m.ClientID, true
	case "urgent":
		return strconv.FormatBool(m.Urgent), true
	}
	return "", false
}
