package reception

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRule is wrapped by errors about caller rules and answer modes.
var ErrInvalidRule = errors.New("invalid reception rule")

// RuleAction is what a caller rule does.
type RuleAction uint8

// Caller rule actions.
const (
	// RuleBlock refuses the call (sales calls): announcement or hang-up, not billed.
	RuleBlock RuleAction = iota + 1
	// RuleVIP marks a caller to transfer to the client.
	RuleVIP
	// RuleKnown names a known contact for the operator.
	RuleKnown
)

var ruleActionNames = map[RuleAction]string{RuleBlock: "block", RuleVIP: "vip", RuleKnown: "known"}

// String returns "block", "vip" or "known".
func (a RuleAction) String() string {
	if s, ok := ruleActionNames[a]; ok {
		return s
	}
	return fmt.Sprintf("RuleAction(%d)", uint8(a))
}

// ParseRuleAction parses "block", "vip" or "known".
func ParseRuleAction(s string) (RuleAction, error) {
	for a, name := range ruleActionNames {
		if strings.EqualFold(s, name) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("rule action %q: want block, vip or known: %w", s, ErrInvalidRule)
}

// MarshalText implements encoding.TextMarshaler.
func (a RuleAction) MarshalText() ([]byte, error) {
	if _, ok := ruleActionNames[a]; !ok {
		return nil, fmt.Errorf("marshal %v: %w", a, ErrInvalidRule)
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *RuleAction) UnmarshalText(b []byte) error {
	v, err := ParseRuleAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Block modes of CallerRule.BlockMode.
const (
	BlockAnnounce = "announce" // play the refusal announcement, then hang up (the default)
	BlockHangup   = "hangup"   // hang up at once
)

// CallerRule applies to callers whose number matches.
type CallerRule struct {
	// Match is an E.164 number ("+81312345678") matched exactly, or a prefix
	// ending in "*" ("+8150*"). An exact match beats any prefix, a longer
	// prefix beats a shorter one.
	Match  string
	Action RuleAction
	// Name is shown to the operator (VIP and known contacts).
	Name string
	// BlockMode is BlockAnnounce (default when empty) or BlockHangup.
	BlockMode string
	// Whisper is the media the client hears before a VIP's transfer is
	// bridged ("山田様からのお電話です"), instead of the client's
	// transfer_whisper; empty for the client's.
	Whisper string
}

// specificity ranks how well pattern matches number: -1 when it does not
// match, otherwise exact matches rank above every prefix and longer
// prefixes above shorter ones.
func specificity(pattern, number string) int {
	if number == "" || pattern == "" {
		return -1
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		if strings.HasPrefix(number, prefix) {
			return len(prefix)
		}
		return -1
	}
	if pattern == number {
		return 1 << 20
	}
	return -1
}

// actionRank breaks ties between rules of equal specificity: block wins,
// then VIP, then known.
func actionRank(a RuleAction) int {
	switch a {
	case RuleBlock:
		return 3
	case RuleVIP:
		return 2
	case RuleKnown:
		return 1
	default:
		return 0
	}
}

// matchCaller returns the most specific rule matching number, or nil. Rules
// with an unknown action are ignored; among equals the first listed wins.
func matchCaller(rules []CallerRule, number string) *CallerRule {
	var best *CallerRule
	bestSpec := -1
	for i := range rules {
		r := &rules[i]
		if actionRank(r.Action) == 0 {
			continue
		}
		s := specificity(r.Match, number)
		if s < 0 {
			continue
		}
		if s > bestSpec || (s == bestSpec && actionRank(r.Action) > actionRank(best.Action)) {
			best, bestSpec = r, s
		}
	}
	return best
}

// validatePattern accepts "+" and 1 to 15 digits, optionally followed by "*".
func validatePattern(p string) error {
	body, _ := strings.CutSuffix(p, "*")
	digits, ok := strings.CutPrefix(body, "+")
	if !ok || len(digits) == 0 || len(digits) > 15 || !allDigits(digits) {
		return fmt.Errorf("match %q: want an E.164 number or prefix such as +81312345678 or +8150*: %w", p, ErrInvalidRule)
	}
	return nil
}

// Validate checks the pattern, action and block mode of r.
func (r CallerRule) Validate() error {
	if err := validatePattern(r.Match); err != nil {
		return err
	}
	if actionRank(r.Action) == 0 {
		return fmt.Errorf("match %q: action %v: %w", r.Match, r.Action, ErrInvalidRule)
	}
	switch r.BlockMode {
	case "", BlockAnnounce, BlockHangup:
	default:
		return fmt.Errorf("match %q: block mode %q: want announce or hangup: %w", r.Match, r.BlockMode, ErrInvalidRule)
	}
	return nil
}
