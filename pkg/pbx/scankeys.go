package pbx

// keySet records which top-level members that need presence-aware
// decoding a message holds (absent and null decode differently in the
// library: see fastdecode.go).
type keySet uint8

const (
	keyTimestamp keySet = 1 << iota
	keyChannel
	keyReplaceChannel
	keyCaller
	keyPeer
	keyForwarded
)

var presenceKeys = [...]struct {
	name string
	bit  keySet
}{
	{"timestamp", keyTimestamp}, {"channel", keyChannel}, {"replace_channel", keyReplaceChannel},
	{"caller", keyCaller}, {"peer", keyPeer}, {"forwarded", keyForwarded},
}

// maxKeys bounds the members of one object the scan tracks; a bigger
// object is left to the library's decoder.
const maxKeys = 24

// maxDepth bounds the nesting the scan follows.
const maxDepth = 32

// scanEvent is a stricter peekType for the hand-built decoders: besides
// the type it reports the presence of the top-level members in
// presenceKeys, and ok is false unless every key at every depth is plain
// printable ASCII and no object repeats a key (ASCII case folded), so that
// encoding/json's merging of repeated members can never differ from the
// library's replacing them. The input is not validated.
func scanEvent(data []byte) (typ []byte, keys keySet, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, 0, false
	}
	s := eventScan{data: data, top: true}
	end := s.object(i, 0)
	if end < 0 || len(s.typ) == 0 {
		return nil, 0, false
	}
	return s.typ, s.keys, true
}

type eventScan struct {
	data []byte
	top  bool
	typ  []byte
	keys keySet
}

// object returns the index past the object at data[i], or -1.
func (s *eventScan) object(i, depth int) int {
	data := s.data
	if depth > maxDepth {
		return -1
	}
	top := s.top
	s.top = false
	var seen [maxKeys][]byte
	n := 0
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return -1
		}
		end, plain := scanString(data, i)
		if end < 0 || !plain || n == maxKeys {
			return -1
		}
		key := data[i+1 : end-1]
		for _, k := range seen[:n] {
			if asciiFoldEqual(k, key) {
				return -1
			}
		}
		seen[n] = key
		n++
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return -1
		}
		i = skipSpace(data, i+1)
		if top {
			for _, p := range presenceKeys {
				if asciiFoldEqual(key, p.name) {
					s.keys |= p.bit
				}
			}
		}
		if top && isTypeKey(key) {
			if string(key) != "type" || i >= len(data) || data[i] != '"' {
				return -1
			}
			end, plain := scanString(data, i)
			if end < 0 || !plain {
				return -1
			}
			s.typ = data[i+1 : end-1]
			i = end
		} else if i = s.value(i, depth); i < 0 {
			return -1
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return -1
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// value returns the index past the value at data[i], or -1.
func (s *eventScan) value(i, depth int) int {
	data := s.data
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '{':
		return s.object(i, depth+1)
	case '[':
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == ']' {
			return i + 1
		}
		for {
			if i = s.value(i, depth+1); i < 0 {
				return -1
			}
			i = skipSpace(data, i)
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case ',':
				i = skipSpace(data, i+1)
			case ']':
				return i + 1
			default:
				return -1
			}
		}
	}
	return skipValue(data, i)
}

// asciiFoldEqual reports whether a and b are equal with ASCII letters
// case folded.
func asciiFoldEqual[A, B ~string | ~[]byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for j := range len(a) {
		x, y := a[j], b[j]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
