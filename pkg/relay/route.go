package relay

import "strconv"

// Rule sends matching messages to destinations by name.
type Rule struct {
	// Field names the value to test: "urgent", the message's urgency
	// ("true"/"false"; a form's yesno answer urgent sets it), or a key of
	// Message.Fields (addressee, purpose, urgency, caller, ...), or, when
	// absent there, the message attribute "kind" or "client_id".
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

// fieldValue reads a rule's field. urgent is always the message's
// urgency: a form's answer of that name is what sets it (a rule written
// against the answer, urgent: yes, would otherwise never see a message
// made urgent by the detailed form's urgency choice).
func fieldValue(m Message, name string) (string, bool) {
	if name == "urgent" {
		return strconv.FormatBool(m.Urgent), true
	}
	if v, ok := m.Fields[name]; ok {
		return v, true
	}
	switch name {
	case "kind":
		return m.Kind, true
	case "client_id":
		return m.ClientID, true
	}
	return "", false
}
