package aritest

import "unicode/utf8"

// parseFlatBody reads a request body in the shape clients send: one JSON
// object whose members are strings without escapes, integers, booleans,
// null, or arrays of such strings. It returns what json.Unmarshal into an
// any would (a map[string]any, float64 numbers, []any arrays), and ok
// false for anything else, which the caller leaves to json.Unmarshal:
// nothing is read differently, only faster (encoding/json's reflection
// was a tenth of the fake's work per request).
func parseFlatBody(d []byte) (m map[string]any, ok bool) {
	i := skipWS(d, 0)
	if i >= len(d) || d[i] != '{' {
		return nil, false
	}
	m = map[string]any{}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return m, skipWS(d, i+1) == len(d)
	}
	for {
		k, j, ok := plainString(d, i)
		if !ok {
			return nil, false
		}
		i = skipWS(d, j)
		if i >= len(d) || d[i] != ':' {
			return nil, false
		}
		v, j, ok := flatValue(d, skipWS(d, i+1))
		if !ok {
			return nil, false
		}
		m[k] = v // a repeated member: the last wins, as in encoding/json
		i = skipWS(d, j)
		if i >= len(d) {
			return nil, false
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case '}':
			return m, skipWS(d, i+1) == len(d)
		default:
			return nil, false
		}
	}
}

// flatValue reads a member's value at d[i:]; j is where it ends.
func flatValue(d []byte, i int) (v any, j int, ok bool) {
	if i >= len(d) {
		return nil, i, false
	}
	switch c := d[i]; {
	case c == '"':
		return plainString(d, i)
	case c == '[':
		return stringArray(d, i)
	case c == '-' || c >= '0' && c <= '9':
		return smallInt(d, i)
	}
	for _, lit := range [...]struct {
		text string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(d)-i >= len(lit.text) && string(d[i:i+len(lit.text)]) == lit.text {
			return lit.v, i + len(lit.text), true
		}
	}
	return nil, i, false
}

// plainString reads a string of valid UTF-8 without escapes or control
// characters (encoding/json would rewrite anything else).
func plainString(d []byte, i int) (string, int, bool) {
	if i >= len(d) || d[i] != '"' {
		return "", i, false
	}
	ascii := true
	for j := i + 1; j < len(d); j++ {
		switch c := d[j]; {
		case c == '"':
			b := d[i+1 : j]
			if !ascii && !utf8.Valid(b) {
				return "", i, false
			}
			return string(b), j + 1, true
		case c == '\\' || c < 0x20:
			return "", i, false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", i, false
}

// stringArray reads an array of plain strings as a []any.
func stringArray(d []byte, i int) (any, int, bool) {
	out := []any{}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == ']' {
		return out, i + 1, true
	}
	for {
		s, j, ok := plainString(d, i)
		if !ok {
			return nil, i, false
		}
		out = append(out, s)
		i = skipWS(d, j)
		if i >= len(d) {
			return nil, i, false
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case ']':
			return out, i + 1, true
		default:
			return nil, i, false
		}
	}
}

// smallInt reads an integer of at most 15 digits (exact as a float64)
// without fraction, exponent or leading zero, as the float64 encoding/json
// gives.
func smallInt(d []byte, i int) (any, int, bool) {
	j, neg := i, d[i] == '-'
	if neg {
		j++
	}
	start := j
	var n int64
	for j < len(d) && d[j] >= '0' && d[j] <= '9' {
		n = n*10 + int64(d[j]-'0')
		j++
	}
	switch {
	case j == start, j-start > 15, d[start] == '0' && j-start > 1:
		return nil, i, false
	case neg && n == 0: // -0 is a negative zero as a float64
		return nil, i, false
	case j < len(d) && (d[j] == '.' || d[j] == 'e' || d[j] == 'E'):
		return nil, i, false
	}
	if neg {
		n = -n
	}
	return float64(n), j, true
}

// skipWS skips JSON white space from d[i:].
func skipWS(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}
