package config

import (
	"strconv"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/reception"
	"golang.org/x/text/width"
)

// maxE164Digits is the longest E.164 number, country code included.
const maxE164Digits = 15

// callers converts a client's caller rules, normalising each match.
func (c *checker) callers(path string, raws []rawCaller) []reception.CallerRule {
	if len(raws) == 0 {
		return nil
	}
	out := make([]reception.CallerRule, 0, len(raws))
	seen := map[string]string{} // normalised match -> path of its first use
	for i, r := range raws {
		p := indexPath(path, i)
		rule := reception.CallerRule{Name: r.Name}
		ok := true
		if c.required(childPath(p, "match"), r.Match) {
			m, err := normalizeMatch(r.Match)
			switch first, dup := seen[m]; {
			case err != "":
				c.errf(childPath(p, "match"), "%q is not a phone number or prefix: %s", r.Match, err)
				ok = false
			case dup:
				c.errf(childPath(p, "match"), "%q (%s) is already listed at %s", r.Match, m, first)
				ok = false
			default:
				seen[m] = p
			}
			rule.Match = m
		} else {
			ok = false
		}
		if c.required(childPath(p, "action"), r.Action) {
			a, err := reception.ParseRuleAction(strings.TrimSpace(r.Action))
			if err != nil {
				c.errf(childPath(p, "action"), "%q is not one of block, vip, known", r.Action)
				ok = false
			}
			rule.Action = a
		} else {
			ok = false
		}
		if r.BlockMode != "" {
			rule.BlockMode = c.oneOf(childPath(p, "block_mode"), r.BlockMode, reception.BlockAnnounce, reception.BlockHangup)
			if rule.Action != 0 && rule.Action != reception.RuleBlock {
				c.errf(childPath(p, "block_mode"), "applies only to action: block")
			}
		}
		if r.Whisper != "" {
			c.media(childPath(p, "whisper"), r.Whisper)
			rule.Whisper = r.Whisper
			if rule.Action != 0 && rule.Action != reception.RuleVIP {
				c.errf(childPath(p, "whisper"), "applies only to action: vip (the client hears it before a VIP is put through)")
			}
		}
		if ok {
			out = append(out, rule)
		}
	}
	return out
}

// normalizeMatch turns a written caller pattern into the E.164 form that
// reception matches: "03-1234-5678" → "+81312345678" (phone.ParseNumber),
// and a prefix ending in "*": "050*" → "+8150*", "+81 (0)50*" → "+8150*",
// "+1 212*" kept as "+1212*". It returns the reason when the pattern is
// refused.
func normalizeMatch(s string) (string, string) {
	// As typed with a Japanese input method: ０５０＊, 050ー*.
	body, prefix := strings.CutSuffix(strings.TrimSpace(width.Fold.String(s)), "*")
	if !prefix {
		n, err := phone.ParseNumber(s)
		if err != nil {
			return "", numberReason(err)
		}
		return n, ""
	}
	digits, intl, reason := compactPrefix(body)
	if reason != "" {
		return "", reason
	}
	switch {
	case intl && strings.HasPrefix(digits, "810"): // "+81 (0)50*"
		digits = "81" + digits[3:]
	case intl && strings.HasPrefix(digits, "0"):
		return "", "a country code never starts with 0: write +81 50* or 050*"
	case intl:
	case strings.HasPrefix(digits, "00") || strings.HasPrefix(digits, "010"):
		return "", "do not dial out with 00 or 010, write +<country code>...*"
	case strings.HasPrefix(digits, "0"):
		digits = "81" + digits[1:]
	default:
		return "", "write a Japanese prefix with its leading 0 (050*) or an international one with + (+8150*)"
	}
	if len(digits) > maxE164Digits {
		return "", "a prefix is at most " + strconv.Itoa(maxE164Digits) + " digits in E.164 form"
	}
	return "+" + digits + "*", ""
}

// compactPrefix drops the separators people write inside numbers (spaces,
// hyphens, dots, parentheses) and a leading +. It wants at least one digit
// and "*" only at the end.
func compactPrefix(body string) (digits string, intl bool, reason string) {
	body = strings.Map(phone.FoldRune, body)
	body, intl = strings.CutPrefix(strings.TrimSpace(body), "+")
	var b strings.Builder
	for _, r := range body {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" -.()", r):
		case r == '*':
			return "", false, `"*" is allowed only at the end`
		default:
			return "", false, strconv.Quote(string(r)) + " is not allowed in a prefix; use digits, a leading + and a final *"
		}
	}
	if b.Len() == 0 {
		return "", false, "write at least one digit before *, e.g. 050* or +8150*"
	}
	return b.String(), intl, ""
}
