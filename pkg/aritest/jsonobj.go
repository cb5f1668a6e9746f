package aritest

import (
	"bytes"
	"encoding/json"
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
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal encodes like json.Marshal without HTML escaping (Asterisk writes
// '<' and '>' as they are, e.g. in caller ids).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// astTime formats a time the way ARI does: "2026-11-28T20:33:58.792+0000".
func astTime(t time.Time) string {
	return t.Format("2006-01-02T15:04:05.000-0700")
}

// strs returns a non-nil slice so that it encodes as [] rather than null.
func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
