package phone

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// countryJP is Japan's country calling code.
const countryJP = "81"

// elevenDigit lists the national prefixes whose numbers are 11 digits long
// (0 + 10): mobiles and PHS (090/080/070/060), IP telephony (050), M2M (020)
// and freephone 0800. Every other valid national number is 10 digits.
var elevenDigit = []string{"090", "080", "070", "060", "050", "020", "0800"}

// validNational reports whether d (ASCII digits) is a well-formed Japanese
// national number: a trunk prefix 0, a first digit that is not 0 (00x are
// carrier prefixes, 010 the international prefix), and the length its prefix demands.
func validNational(d string) bool {
	if !allDigits(d) || len(d) < 10 || d[0] != '0' || d[1] == '0' ||
		strings.HasPrefix(d, "010") {
		return false
	}
	for _, p := range elevenDigit {
		if strings.HasPrefix(d, p) {
			return len(d) == 11
		}
	}
	return len(d) == 10
}

// nationalToE164 converts a valid national number to E.164.
func nationalToE164(d string) string {
	return "+" + countryJP + d[1:]
}

// validForeign reports whether digits (without '+') look like an E.164
// number of another country: 8 to 15 digits, a country code not starting
// with 0, and not Japan (Japanese numbers are validated by their own rules).
func validForeign(digits string) bool {
	return allDigits(digits) && len(digits) >= 8 && len(digits) <= 15 &&
		digits[0] != '0' && !strings.HasPrefix(digits, countryJP)
}

// fromE164Digits validates the digits after a '+' and returns the canonical
// E.164 form. For +81 it also accepts the trunk prefix written after the
// country code, as in "+81 (0)3-1234-5678".
func fromE164Digits(digits string) (string, bool) {
	if rest, ok := strings.CutPrefix(digits, countryJP); ok {
		national := rest
		if !strings.HasPrefix(rest, "0") {
			national = "0" + rest
		}
		if validNational(national) {
			return nationalToE164(national), true
		}
		return "", false
	}
	if validForeign(digits) {
		return "+" + digits, true
	}
	return "", false
}

// formatNational writes a valid national number with hyphens, grouped as
// Japanese numbers are written: the area code (2 to 5 digits, 0467 茅ヶ崎,
// 0995 霧島, 0920 壱岐 inside 092 福岡), the exchange, the subscriber number;
// 090-1234-5678. Service numbers are grouped by their prefix
// (serviceGroupings: 0120-123-456, 0180-993-000). Other numbers are grouped
// as libphonenumber (github.com/nyaruka/phonenumbers) writes a number it
// takes for valid: its metadata knows every area code, where a table of
// our own knew a few. Any other: 0AB-CDEF-GHJK for 11 digits (a mobile or
// IP block newer than the library's data), 0AB-CDE-FGHJ for 10 (area code
// and exchange are six digits together and the subscriber number four,
// so the last group is never misleading).
//
// The library takes some 30 µs a number; the grouping depends only on a
// number's length and first digits (the area code, at most five, and the
// exchange's first), so it is kept per length and first seven digits.
func formatNational(d string) string {
	for _, sg := range serviceGroupings {
		if strings.HasPrefix(d, sg.prefix) && len(d) == sum(sg.groups) {
			return group(d, sg.groups)
		}
	}
	key := d[:min(len(d), groupingDigits)] + ":" + strconv.Itoa(len(d))
	if g, ok := groupingCache.Load(key); ok {
		return group(d, g.([]int))
	}
	g := libraryGroups(d)
	if groupingCached.Add(1) <= maxGroupings {
		groupingCache.Store(key, g)
	}
	return group(d, g)
}

// libraryGroups is the grouping libphonenumber gives d if it takes it for
// a valid Japanese number, else 3-4-4 for 11 digits (mobile, IP and M2M
// numbers: a block newer than the library's data), 3-3-4 for 10, all of
// d when shorter.
func libraryGroups(d string) []int {
	if n, err := phonenumbers.Parse(d, "JP"); err == nil && phonenumbers.IsValidNumber(n) {
		s := phonenumbers.Format(n, phonenumbers.NATIONAL)
		if strings.Contains(s, "-") && strings.ReplaceAll(s, "-", "") == d {
			var g []int
			for part := range strings.SplitSeq(s, "-") {
				g = append(g, len(part))
			}
			return g
		}
	}
	switch {
	case len(d) == 11:
		return []int{3, 4, 4}
	case len(d) < 8:
		return []int{len(d)}
	}
	return []int{3, 3, len(d) - 6}
}

// serviceGroupings are the service numbers' prefixes and groups, as they
// are written whatever libphonenumber makes of them (it has no 0180, the
// テレドーム numbers, and groups them as an area code's: 0180-99-3000).
var serviceGroupings = []struct {
	prefix string
	groups []int
}{
	{"0120", []int{4, 3, 3}}, // フリーダイヤル
	{"0800", []int{4, 3, 4}}, // フリーダイヤル
	{"0570", []int{4, 3, 3}}, // ナビダイヤル
	{"0990", []int{4, 3, 3}}, // ダイヤルQ2
	{"0180", []int{4, 3, 3}}, // テレドーム
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// groupingDigits is how many first digits decide a number's grouping;
// maxGroupings bounds the groupings kept.
const (
	groupingDigits = 7
	maxGroupings   = 1 << 16
)

var (
	groupingCache  sync.Map // "<first digits>:<length>" → []int
	groupingCached atomic.Int64
)

// group writes d in groups of the given lengths, joined by hyphens.
func group(d string, sizes []int) string {
	var b strings.Builder
	i := 0
	for n, size := range sizes {
		if n > 0 {
			b.WriteByte('-')
		}
		end := min(i+size, len(d))
		if n == len(sizes)-1 {
			end = len(d)
		}
		b.WriteString(d[i:end])
		i = end
	}
	return b.String()
}
