package config

import (
	"errors"
	"strings"
)

// Phone-number parsing kept small and local until the shared pkg/phone lands.

// Reasons a configured number is refused; the caller words them as
// `"03-12" is not a phone number: <reason>`.
var (
	errEmptyNumber   = errors.New("empty")
	errBadSeparators = errors.New("only digits, a leading +, spaces, hyphens and parentheses are allowed")
	errNoPrefix      = errors.New("write a Japanese number with its leading 0 or an international one with +")
	errTrunkForm     = errors.New("digits-only 81... is ambiguous, write +81...")
	errIntlPrefix    = errors.New("do not dial out with 00 or 010, write +<country code>...")
	errNationalLen   = errors.New("a Japanese number has 10 or 11 digits")
	errJapanLen      = errors.New("a Japanese number has 9 or 10 digits after +81")
	errE164Len       = errors.New("an international number has 8 to 15 digits after +")
)

// normalizeDID turns a number written in the configuration into E.164
// ("+81312345678"). It accepts the Japanese national form ("03-1234-5678",
// "0120-123-456") and the international form ("+81 3-1234-5678",
// "+81 (0)3 1234 5678"). Digits-only trunk forms such as "81312345678" are
// refused because they are ambiguous in a file written by people.
func normalizeDID(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errEmptyNumber
	}
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	var digits strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return "", errBadSeparators
		}
	}
	d := digits.String()
	switch {
	case d == "":
		return "", errEmptyNumber
	case plus && strings.HasPrefix(d, "81"):
		nsn := strings.TrimPrefix(d[2:], "0") // "+81 (0)3 ..." keeps a trunk zero
		if len(nsn) < 9 || len(nsn) > 10 {
			return "", errJapanLen
		}
		return "+81" + nsn, nil
	case plus:
		if len(d) < 8 || len(d) > 15 || d[0] == '0' {
			return "", errE164Len
		}
		return "+" + d, nil
	case strings.HasPrefix(d, "00") || strings.HasPrefix(d, "010"):
		return "", errIntlPrefix
	case d[0] == '0':
		if len(d) < 10 || len(d) > 11 {
			return "", errNationalLen
		}
		return "+81" + d[1:], nil
	case strings.HasPrefix(d, "81") && len(d) >= 11 && len(d) <= 12:
		return "", errTrunkForm
	default:
		return "", errNoPrefix
	}
}

// didKey turns a number as received from Asterisk or a trunk into the E.164
// key used for lookups. Unlike normalizeDID it accepts the digits-only trunk
// form "81312345678", since a trunk is not a person making typos.
func didKey(s string) (string, bool) {
	if n, err := normalizeDID(s); err == nil {
		return n, true
	}
	t := strings.TrimSpace(s)
	if len(t) >= 11 && len(t) <= 12 && strings.HasPrefix(t, "81") && allDigits(t) {
		n, err := normalizeDID("+" + t)
		return n, err == nil
	}
	return "", false
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
