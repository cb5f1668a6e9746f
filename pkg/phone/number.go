package phone

import (
	"slices"
	"strconv"
	"strings"
)

// NumberError says why a number was refused. Reason is a short English
// sentence fit to show to the person who wrote Input, such as "a Japanese
// number has 10 or 11 digits"; it never repeats Input. Every NumberError
// wraps ErrInvalid.
type NumberError struct {
	// Input is the number exactly as given.
	Input string
	// Reason explains what is wrong and, where possible, how to write it.
	Reason string
	// Char is the character refused, as written ('+' after a digit,
	// a letter, a note such as 代表), or 0 when the characters were
	// allowed and the digits are what is wrong.
	Char rune
}

// Error formats the error as `phone: "03-12": <reason>`.
func (e *NumberError) Error() string {
	return "phone: " + strconv.Quote(e.Input) + ": " + e.Reason
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *NumberError) Unwrap() error { return ErrInvalid }

// Reasons shared by several checks.
const (
	reasonEmpty      = "it is empty"
	reasonNoDigits   = "it has no digits"
	reasonLatePlus   = "+ is allowed only at the start"
	reasonAllowed    = "use only digits, a leading +, spaces, hyphens, dots and parentheses"
	reasonIntlPrefix = "do not dial out with 00 or 010, write +<country code>..."
	reasonTrunkForm  = "digits-only 81... is ambiguous, write +81..."
	reasonNoPrefix   = "write a Japanese number with its leading 0 or an international one with +"
	reasonE164Len    = "an international number has 8 to 15 digits after +"
	reasonCountry0   = "a country code never starts with 0: write +81 3-1234-5678 or 03-1234-5678"
	reasonNational   = "a Japanese number has 10 or 11 digits"
	reasonJapanLen   = "a Japanese number has 9 or 10 digits after +81"
	reasonAfter81    = "after +81 write the number without its leading 0, as in +81 3-1234-5678"
	reason010        = "no Japanese number starts with 010 (+81 10), the international prefix"
	reasonDID        = "a DID is digits only: 0312345678, +81312345678 or 81312345678"
	reasonUnknown    = "it is not a valid Japanese or international number"
)

// ParseNumber strictly parses a number written by a person, typically an
// admin in YAML ("03-1234-5678", "+81 3 1234 5678", "+81 (0)3 1234 5678",
// "(03)1234-5678", "0120-123-456", "０３－１２３４－５６７８",
// "+1 212 555 0123"), into E.164. It refuses the digits-only trunk form
// "81312345678" and the international dialling prefixes 00 and 010, which are
// ambiguous or error-prone in a file; ParseCallerID and NormalizeDID accept
// the forms trunks deliver. Every error is a *NumberError wrapping ErrInvalid.
func ParseNumber(s string) (string, error) {
	d, bad, ok := compact(s)
	if !ok {
		return "", &NumberError{Input: s, Reason: badRuneReason(bad), Char: bad}
	}
	if e164, ok := parseWritten(d); ok {
		return e164, nil
	}
	reason := whyNot(d)
	if strings.TrimSpace(s) == "" {
		reason = reasonEmpty
	}
	return "", &NumberError{Input: s, Reason: reason}
}

// parseWritten accepts "+<E.164 digits>" and a national number starting
// with 0; d is the output of compact.
func parseWritten(d string) (string, bool) {
	if digits, ok := strings.CutPrefix(d, "+"); ok {
		return fromE164Digits(digits)
	}
	if validNational(d) {
		return nationalToE164(d), true
	}
	return "", false
}

// badRuneReason explains a character compact refused.
func badRuneReason(r rune) string {
	if fold(r) == '+' {
		return reasonLatePlus
	}
	return strconv.Quote(string(r)) + " is not allowed; " + reasonAllowed
}

// whyNot explains why parseWritten refused d. It never returns "".
func whyNot(d string) string {
	digits, plus := strings.CutPrefix(d, "+")
	switch {
	case digits == "":
		return reasonNoDigits
	case plus:
		return whyNotE164(digits)
	case strings.HasPrefix(digits, "00") || strings.HasPrefix(digits, "010"):
		return reasonIntlPrefix
	case digits[0] == '0':
		return orUnknown(whyNotJapanese(digits, false))
	case strings.HasPrefix(digits, countryJP) && len(digits) >= 11 && len(digits) <= 13:
		return reasonTrunkForm
	}
	return reasonNoPrefix
}

// whyNotE164 explains why the digits written after '+' are refused.
func whyNotE164(digits string) string {
	if rest, ok := strings.CutPrefix(digits, countryJP); ok {
		nsn := strings.TrimPrefix(rest, "0") // "+81 (0)3 ..." keeps a trunk zero
		return orUnknown(whyNotJapanese("0"+nsn, true))
	}
	switch {
	case digits[0] == '0':
		return reasonCountry0
	case len(digits) < 8 || len(digits) > 15:
		return reasonE164Len
	}
	return reasonUnknown
}

// whyNotJapanese explains why national ("0" followed by digits) is not a
// valid Japanese number, counting digits as written: after +81 when intl is
// set, with the trunk 0 otherwise. It returns "" for a valid number.
func whyNotJapanese(national string, intl bool) string {
	if validNational(national) {
		return ""
	}
	if len(national) < 10 || len(national) > 11 {
		if intl {
			return reasonJapanLen
		}
		return reasonNational
	}
	switch {
	case national[1] == '0':
		return reasonAfter81 // national form: whyNot caught 00 earlier
	case strings.HasPrefix(national, "010"):
		return reason010
	}
	shown := func(p string) string {
		if intl {
			return p[1:]
		}
		return p
	}
	longest := ""
	for _, p := range elevenDigit {
		if strings.HasPrefix(national, p) && len(p) > len(longest) {
			longest = p // "0800", not "080"
		}
	}
	if longest != "" {
		if intl {
			return "a Japanese number starting +81 " + shown(longest) + " has 10 digits after +81"
		}
		return "a Japanese number starting " + longest + " has 11 digits"
	}
	list := make([]string, len(elevenDigit))
	for i, p := range elevenDigit {
		list[i] = shown(p)
	}
	slices.Sort(list)
	unless := strings.Join(list[:len(list)-1], ", ") + " or " + list[len(list)-1]
	if intl {
		return "a Japanese number has 9 digits after +81 unless it starts with " + unless
	}
	return "a Japanese number has 10 digits unless it starts with " + unless
}

// orUnknown replaces an empty reason with a generic one, so that a
// disagreement between the validators and the explanations still yields a
// message.
func orUnknown(reason string) string {
	if reason == "" {
		return reasonUnknown
	}
	return reason
}
