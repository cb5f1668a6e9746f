package relay

import (
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"github.com/toritsugi/toritsugi/pkg/phone"
)

// Rule sends matching messages to destinations by name.
type Rule struct {
	// Field names the value to test: a key of Message.Fields (addressee,
	// purpose, urgency, caller, ...) or, when absent there, one of the
	// message attributes "kind", "client_id" or "urgent". A rule on
	// urgent whose Equals is "true" or "false" always tests the message's
	// urgency (a form's yes/no answer urgent is what sets it); with
	// another value (はい, yes, a choice) it tests the answer.
	Field string
	// Equals is the exact value to match. A rule with an empty Field
	// always matches.
	Equals string
	// To lists destination names.
	To []string
	// Urgent also sends matching messages to the urgent destinations,
	// and makes them urgent (Urgency).
	Urgent bool
}

// Route returns the destination names for m: the To of every matching rule
// in rule order, plus urgentDest when m is urgent (Urgency). Names are
// de-duplicated, keeping the first occurrence, and empty names are
// dropped. Route is pure.
func Route(m Message, rules []Rule, urgentDest []string) []string {
	// Rules on urgent ("true"/"false") test the urgency a rule may have
	// given, as what the message then says (【至急】) does.
	m.Urgent = Urgency(m, rules)
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
	for _, r := range rules {
		if matches(m, r) {
			add(r.To)
		}
	}
	if m.Urgent {
		add(urgentDest)
	}
	return out
}

// Urgency reports whether m is to be relayed as urgent: it is (its
// answers made it so), or a matching rule says urgent.
func Urgency(m Message, rules []Rule) bool {
	if m.Urgent {
		return true
	}
	for _, r := range rules {
		if r.Urgent && matches(m, r) {
			return true
		}
	}
	return false
}

func matches(m Message, r Rule) bool {
	if r.Field == "" {
		return true
	}
	// True or FALSE too: written so, the rule must not test the answer.
	if e := strings.ToLower(strings.TrimSpace(r.Equals)); r.Field == "urgent" && (e == "true" || e == "false") {
		return strconv.FormatBool(m.Urgent) == e
	}
	v, ok := fieldValue(m, r.Field)
	return ok && SameValue(v, r.Equals)
}

// foldValue is a value as a rule compares it: full-width letters and
// digits as half-width, half-width katakana as full-width (ＩＴ部 is IT部,
// ﾀﾅｶ is タナカ, as an operator may type either), voiced marks composed
// (ﾜﾀﾅﾍﾞ folds to ヘ and a combining mark: ベ), outer spaces dropped.
func foldValue(s string) string { return strings.TrimSpace(norm.NFC.String(width.Fold.String(s))) }

// SameValue reports whether a rule written equals: a matches the answer
// b (or the other way round): the same value once folded (foldValue), or
// the same phone number written with other hyphens or none (0312345678
// for the 03-1234-5678 messages show, 099-512-3456 for 0995-12-3456; one
// with an extension, 内線12, is not a number here).
func SameValue(a, b string) bool {
	if a == b || foldValue(a) == foldValue(b) {
		return true
	}
	x, err := phone.ParseNumber(a)
	if err != nil {
		return false
	}
	y, err := phone.ParseNumber(b)
	return err == nil && x == y
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
