package pbx

// peekType finds the value of the top-level "type" member of a JSON object
// without decoding the rest. ok is false whenever the answer might differ
// from encoding/json's: a key spelled with escapes or non-ASCII bytes, a
// key equal to "type" only when case is folded, a repeated "type", a value
// that is not a plain string, or input the scan does not understand. The
// input is not validated: the caller's json.Unmarshal does that.
func peekType(data []byte) (typ []byte, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil, false
	}
	found := false
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		end, plain := scanString(data, i)
		if end < 0 || !plain {
			return nil, false
		}
		key := data[i+1 : end-1]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipSpace(data, i+1)
		if isTypeKey(key) {
			if found || string(key) != "type" || i >= len(data) || data[i] != '"' {
				return nil, false
			}
			end, plain := scanString(data, i)
			if end < 0 || !plain {
				return nil, false
			}
			typ, found = data[i+1:end-1], true
			i = end
		} else if i = skipValue(data, i); i < 0 {
			return nil, false
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return typ, found && len(typ) > 0
		default:
			return nil, false
		}
	}
}

// isTypeKey reports a key that encoding/json would match to a field tagged
// "type" (ASCII case folding; non-ASCII keys were already refused).
func isTypeKey(k []byte) bool {
	if len(k) != 4 {
		return false
	}
	const want = "type"
	for j := range 4 {
		if k[j]|0x20 != want[j] {
			return false
		}
	}
	return true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString returns the index just past the string starting at data[i]
// (a quote), or -1 when it does not end. plain is false when the string
// holds escapes or bytes outside printable ASCII.
func scanString(data []byte, i int) (end int, plain bool) {
	plain = true
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1, plain
		case c == '\\':
			plain = false
			j++
		case c < 0x20 || c >= 0x7f:
			plain = false
		}
	}
	return -1, false
}

// skipValue returns the index just past the value starting at data[i], or
// -1 when the scan loses its way.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		end, _ := scanString(data, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				end, _ := scanString(data, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return -1
}
