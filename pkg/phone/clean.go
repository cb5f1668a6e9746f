package phone

import "strings"

// FoldRune is fold, for callers that read numbers in other notations
// (prefix rules): full-width digits and signs, and every dash people type
// as a hyphen, as ASCII.
func FoldRune(r rune) rune { return fold(r) }

// fold maps full-width and look-alike characters that Japanese input methods
// produce onto their ASCII forms: digits ０-９, ＋, （）, ．, full-width space,
// and the many dashes (－ − ‐ ‑ ‒ – — ― ー ｰ) people type as hyphens.
func fold(r rune) rune {
	switch {
	case r >= '０' && r <= '９':
		return '0' + (r - '０')
	}
	switch r {
	case '＋':
		return '+'
	case '（':
		return '('
	case '）':
		return ')'
	case '．', '・', '･':
		return '.'
	case '\u3000', '\t', '\u00a0':
		return ' '
	case '－', '−', '‐', '‑', '‒', '–', '—', '―', 'ー', 'ｰ', '﹣':
		return '-'
	}
	return r
}

// isSeparator reports whether r is a character people put inside numbers for
// readability and that carries no meaning.
func isSeparator(r rune) bool {
	switch r {
	case '-', ' ', '.', '(', ')':
		return true
	}
	return false
}

// compact folds widths and removes separators. It keeps a leading '+'. When
// anything other than digits and separators remains, or a '+' appears
// anywhere but first, it returns ok=false and the offending rune as written.
func compact(s string) (out string, bad rune, ok bool) {
	var b strings.Builder
	b.Grow(len(s))
	for _, orig := range strings.TrimSpace(s) {
		switch r := fold(orig); {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+':
			if b.Len() != 0 {
				return "", orig, false
			}
			b.WriteRune(r)
		case isSeparator(r):
		default:
			return "", orig, false
		}
	}
	return b.String(), 0, true
}

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
