// Package phone normalises Japanese telephone numbers: caller IDs as Asterisk
// reports them from a SIP trunk (CALLERID(num)), DIDs as trunks deliver them,
// and numbers as admins write them in YAML. Everything is pure: no I/O, no
// clock.
package phone

import (
	"errors"
	"slices"
	"strings"
	"unicode"
)

// ErrInvalid is wrapped by every error this package returns.
var ErrInvalid = errors.New("invalid telephone number")

// CallerID is a classified caller ID.
type CallerID struct {
	// Kind says whether a number was delivered, and if not, why.
	Kind Kind
	// E164 is the number in E.164 form ("+81312345678") when Kind is
	// Number, and empty otherwise.
	E164 string
	// Raw is the caller ID exactly as received.
	Raw string
}

// Reasons for a missing number, as Asterisk and Japanese carriers spell
// them. Keys are lower case.
var reasons = map[string]Kind{
	"p":                              Withheld,
	"anonymous":                      Withheld,
	"private":                        Withheld,
	"withheld":                       Withheld,
	"restricted":                     Withheld,
	"非通知":                            Withheld,
	"o":                              Unavailable,
	"unavailable":                    Unavailable,
	"unknown":                        Unavailable,
	"out of area":                    Unavailable,
	"表示圏外":                           Unavailable,
	"通知不可能":                          Unavailable,
	"s":                              Unavailable, // NTT's analogue code for 表示圏外
	"interaction with other service": Unavailable,
	"c":                              Payphone,
	"payphone":                       Payphone,
	"coin":                           Payphone,
	"coin line/payphone":             Payphone,
	"公衆電話":                           Payphone,
}

// FromChannel is the caller ID to record for a channel's caller number and
// name. Japanese networks (TTC JJ-90.22, NTT's ひかり電話) send a missing
// number as the user "anonymous" and say why in the display name: "Coin
// line/payphone", "Unavailable", "Interaction with other service",
// "Anonymous". When the number is no number and the name is such a
// reason, the name is the caller ID: a payphone is then a Payphone, not
// withheld (a client's block_withheld does not refuse it).
func FromChannel(number, name string) string {
	if ParseCallerID(number).Kind == Number {
		return number
	}
	if n := strings.TrimSpace(name); n != "" {
		if _, ok := reasons[strings.ToLower(n)]; ok {
			return n
		}
	}
	return number
}

// ParseCallerID classifies a caller ID as received. It never fails: a
// withheld, unavailable, payphone or unusable caller ID is a Kind. An empty
// caller ID is Unavailable. It is lenient where trunks differ: it accepts
// national numbers ("0312345678"), E.164 ("+81312345678"), the country code
// without '+' ("81312345678"), the international prefix 010, a Japanese
// number written 0081…, and separators or full-width characters.
func ParseCallerID(raw string) CallerID {
	c := CallerID{Raw: raw}
	trimmed := strings.TrimSpace(raw)
	if trimmed == "" {
		c.Kind = Unavailable
		return c
	}
	if k, ok := reasons[strings.ToLower(trimmed)]; ok {
		c.Kind = k
		return c
	}
	d, _, ok := compact(trimmed)
	if !ok {
		return c
	}
	e164, ok := parseDigits(d)
	if !ok && strings.HasPrefix(d, countryJP) && len(d) >= 11 && len(d) <= 13 {
		e164, ok = fromE164Digits(d)
	}
	if ok {
		c.Kind, c.E164 = Number, e164
	}
	return c
}

// parseDigits understands the forms a person writes: "+<E.164 digits>",
// "010<country code><number>" and a national number starting with 0;
// and "0081<number>", a Japanese number in the international form most
// of the world writes, which some trunks present. Other countries'
// numbers in that form are not taken: in Japan 00XY is a carrier's
// identification code dialled before a number (0033 NTT Communications,
// 0041, 0061, 0088…), so "0033…" may be France (+33) or a carrier prefix,
// and a wrong callback number is worse than none.
func parseDigits(d string) (string, bool) {
	switch {
	case strings.HasPrefix(d, "+"):
		return fromE164Digits(d[1:])
	case strings.HasPrefix(d, "010"):
		return fromE164Digits(d[3:])
	case strings.HasPrefix(d, "00"+countryJP):
		return fromE164Digits(d[2:])
	case validNational(d):
		return nationalToE164(d), true
	}
	return "", false
}

// National returns the number as dialled inside Japan ("0312345678") for a
// +81 number, the E.164 form for a foreign number, and "" when there is no
// number.
func (c CallerID) National() string {
	if c.Kind != Number {
		return ""
	}
	if rest, ok := strings.CutPrefix(c.E164, "+"+countryJP); ok {
		return "0" + rest
	}
	return c.E164
}

// Masked is a caller's number for a log: its last four digits, the others
// starred (*******4444): enough to tell calls apart or find one a caller
// asks about, not a list of who called. Logs are read, copied and kept
// by more people, and longer, than the store.
func Masked(s string) string {
	s = strings.TrimSpace(s)
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' && digits > 4 {
			digits--
			b.WriteByte('*')
			continue
		}
		if r >= '0' && r <= '9' {
			digits--
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Domestic reports whether the caller's number is a Japanese one (+81):
// one the service calls back. A number from abroad is not offered a
// callback: the digits said back to them start with no sound for the +,
// and many Japanese business lines cannot, or would not pay to, call
// abroad (国際電話不取扱).
func (c CallerID) Domestic() bool {
	return c.Kind == Number && strings.HasPrefix(c.E164, "+"+countryJP)
}

// Spellings are the forms the caller's number may arrive in as a caller
// ID, as received first, then in E.164 (+81312345678), without its +
// (81312345678) and as dialled within Japan (0312345678): a trunk and a
// home gateway spell one caller's number differently. None when there is
// no number.
func (c CallerID) Spellings() []string {
	if c.Kind != Number {
		return nil
	}
	out := []string{strings.TrimSpace(c.Raw)}
	for _, s := range []string{c.E164, strings.TrimPrefix(c.E164, "+"), c.National()} {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Display returns the form operators read: "03-1234-5678" with Japanese
// grouping, the E.164 form for foreign numbers, and 非通知, 表示圏外 or
// 公衆電話 when there is no number. A caller ID of a form not known (an
// extension 5001, a foreign number sent without its +) is shown as it
// came, marked (5001（形式不明）): a client told 番号不明 could not call
// back a number the service had; 番号不明 only when it is no short line of
// printable characters.
func (c CallerID) Display() string {
	switch c.Kind {
	case Number:
		n := c.National()
		if strings.HasPrefix(n, "0") {
			return formatNational(n)
		}
		return n
	case Withheld:
		return "非通知"
	case Unavailable:
		return "表示圏外"
	case Payphone:
		return "公衆電話"
	}
	if r := strings.TrimSpace(c.Raw); r != "" && len(r) <= maxShownRaw && printable(r) {
		return r + "（形式不明）"
	}
	return "番号不明"
}

// maxShownRaw bounds a caller ID of unknown form shown as it came.
const maxShownRaw = 32

// printable reports whether s is all printable characters (no control
// characters, no line breaks).
func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// NormalizeDID converts a DID as a trunk delivers it — national
// ("0312345678"), E.164 ("+81312345678") or with the country code but no '+'
// ("81312345678") — into E.164. Only digits and a leading '+' are accepted;
// a number without trunk prefix or country code ("312345678") is rejected,
// since it cannot be told apart from a truncated one.
func NormalizeDID(s string) (string, error) {
	t := strings.TrimSpace(s)
	var (
		e164 string
		ok   bool
	)
	switch {
	case strings.HasPrefix(t, "+") && allDigits(t[1:]):
		e164, ok = fromE164Digits(t[1:])
	case !allDigits(t):
	case validNational(t):
		e164, ok = nationalToE164(t), true
	case strings.HasPrefix(t, countryJP) && len(t) >= 11 && len(t) <= 13:
		e164, ok = fromE164Digits(t)
	}
	if !ok {
		return "", &NumberError{Input: s, Reason: reasonDID}
	}
	return e164, nil
}
