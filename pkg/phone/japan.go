package phone

import "strings"

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

// grouping is a national prefix and the lengths of the groups a number with
// that prefix is written in.
type grouping struct {
	prefix string
	groups []int
}

// groupings lists the prefixes whose layout is known, longest prefix first
// where they overlap. Geographic codes are only listed where the whole code
// is one numbering area (no 4- or 5-digit areas share its first digits).
var groupings = []grouping{
	{"0120", []int{4, 3, 3}},
	{"0800", []int{4, 3, 4}},
	{"0570", []int{4, 3, 3}},
	{"0990", []int{4, 3, 3}},
	{"0180", []int{4, 3, 3}},
	{"090", []int{3, 4, 4}},
	{"080", []int{3, 4, 4}},
	{"070", []int{3, 4, 4}},
	{"060", []int{3, 4, 4}},
	{"050", []int{3, 4, 4}},
	{"020", []int{3, 4, 4}},
	{"03", []int{2, 4, 4}},
	{"06", []int{2, 4, 4}},
	{"011", []int{3, 3, 4}},  // 札幌
	{"044", []int{3, 3, 4}},  // 川崎
	{"045", []int{3, 3, 4}},  // 横浜
	{"052", []int{3, 3, 4}},  // 名古屋
	{"075", []int{3, 3, 4}},  // 京都
	{"078", []int{3, 3, 4}},  // 神戸
	{"0920", []int{4, 2, 4}}, // 壱岐, 対馬: a 4-digit code inside 092
	{"092", []int{3, 3, 4}},  // 福岡
}

// defaultGroups is used for geographic numbers whose area code length is
// not in the table: area code and exchange together are always six digits
// and the subscriber number four, so 0AB-CDE-FGHJ is never misleading about
// the last group.
var defaultGroups = []int{3, 3, 4}

// formatNational writes a valid national number with hyphens.
func formatNational(d string) string {
	groups := defaultGroups
	for _, g := range groupings {
		if strings.HasPrefix(d, g.prefix) {
			groups = g.groups
			break
		}
	}
	var b strings.Builder
	i := 0
	for n, size := range groups {
		if n > 0 {
			b.WriteByte('-')
		}
		end := min(i+size, len(d))
		if n == len(groups)-1 {
			end = len(d)
		}
		b.WriteString(d[i:end])
		i = end
	}
	return b.String()
}
