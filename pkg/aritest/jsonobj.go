package aritest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// field is one member of an ordered JSON object.
type field struct {
	k string
	v any
}

// object is a JSON object that keeps its members in the order Asterisk
// writes them.
type object []field

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	return o.appendJSON(make([]byte, 0, 256))
}

// appendJSON appends the object's compact encoding to b.
func (o object) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendKey(b, f.k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendValue(b, f.v); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// marshal encodes like json.Marshal without HTML escaping (Asterisk writes
// '<' and '>' as they are, e.g. in caller ids).
func marshal(v any) ([]byte, error) {
	return appendValue(make([]byte, 0, 512), v)
}

// appendValue appends v's encoding to b. The types the fake builds its
// bodies and events from are written by hand; anything else goes through
// encoding/json, so the bytes are the same either way.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendString(b, v)
	case object:
		return v.appendJSON(b)
	case channelJSON:
		return append(b, v.raw...), nil
	case playbackJSON:
		return append(b, v.raw...), nil
	case rawJSON:
		return append(b, v...), nil
	case []rawJSON:
		b = append(b, '[')
		for i, r := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, r...)
		}
		return append(b, ']'), nil
	case []channelJSON:
		b = append(b, '[')
		for i, c := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, c.raw...)
		}
		return append(b, ']'), nil
	case []object:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, o := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = o.appendJSON(b); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendString(b, s); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case nil:
		return append(b, "null"...), nil
	}
	return appendLeaf(b, v)
}

// appendString appends s as a JSON string. Printable ASCII without quote
// or backslash is copied; any other string is left to encoding/json (with
// HTML escaping off) so that control characters, invalid UTF-8 and
// U+2028/U+2029 are escaped exactly as before.
func appendString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return appendLeaf(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// rawJSON is a value already encoded.
type rawJSON []byte

// appendPlain is appendString for strings that never fail to encode: a
// string always encodes.
func appendPlain(b []byte, s string) []byte {
	out, err := appendString(b, s)
	if err != nil {
		panic("aritest: a string did not encode: " + err.Error())
	}
	return out
}

// appendKey appends a member name. Names were encoded by json.Marshal,
// which escapes '<', '>' and '&' (the encoder keeps a MarshalJSON result's
// escapes), so such names still go through it.
func appendKey(b []byte, k string) ([]byte, error) {
	if strings.ContainsAny(k, "<>&") {
		q, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		return append(b, q...), nil
	}
	return appendString(b, k)
}

// appendLeaf appends v encoded by encoding/json without HTML escaping.
func appendLeaf(b []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...), nil
}

// astTime formats a time the way ARI does: "2026-11-28T20:33:58.792+0000".
func astTime(t time.Time) string {
	return t.Format(astTimeLayout)
}

const astTimeLayout = "2006-01-02T15:04:05.000-0700"

// strs returns a non-nil slice so that it encodes as [] rather than null.
func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
