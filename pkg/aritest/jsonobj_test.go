package aritest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// reference encodes v the way the fake did before its hand-written
// encoder: every member through encoding/json with HTML escaping off.
func reference(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("reference encode %#v: %v", v, err)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// refObject mirrors object through a MarshalJSON that re-encodes each
// member with encoding/json, the old behaviour.
type refObject []field

func (o refObject) MarshalJSON() ([]byte, error) {
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
		var vb bytes.Buffer
		enc := json.NewEncoder(&vb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(toRef(f.v)); err != nil {
			return nil, err
		}
		b.Write(bytes.TrimRight(vb.Bytes(), "\n"))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func toRef(v any) any {
	switch v := v.(type) {
	case object:
		r := make(refObject, len(v))
		for i, f := range v {
			r[i] = field{f.k, toRef(f.v)}
		}
		return r
	case []object:
		if v == nil {
			return []refObject(nil)
		}
		r := make([]refObject, len(v))
		for i, o := range v {
			r[i] = toRef(o).(refObject)
		}
		return r
	}
	return v
}

var tricky = []string{
	"", "plain", `"quoted"`, `back\slash`, "<sip:1000@127.0.0.1>", "a&b", "tab\there",
	"nl\n cr\r bs\b ff\f", "\x00\x01\x1f\x7f", "電話代行", "line\u2028sep\u2029", "bad\xffutf8", "\xe2\x80",
}

func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	cases := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"int", -42},
		{"int64", int64(1) << 40},
		{"bools", object{{"t", true}, {"f", false}}},
		{"float leaf", object{{"f", 1.5}}},
		{"map leaf", map[string]any{"b": 1, "a": "<x>"}},
		{"nested", object{{"o", object{{"x", object{}}}}, {"s", []string{}}, {"n", []string(nil)}}},
		{"objects", []object{{{"a", 1}}, {}}},
		{"nil objects", []object(nil)},
		{"empty object", object{}},
	}
	for _, s := range tricky {
		cases = append(cases, struct {
			name string
			v    any
		}{"string " + s, object{{s, s}, {"list", []string{s, s}}}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := marshal(c.v)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if want := reference(t, toRef(c.v)); !bytes.Equal(got, want) {
				t.Errorf("marshal(%#v)\n got %s\nwant %s", c.v, got, want)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := marshal(object{{s, []string{s}}})
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if want := reference(t, refObject{{s, []string{s}}}); !bytes.Equal(got, want) {
			t.Errorf("marshal(%q)\n got %s\nwant %s", s, got, want)
		}
	})
}
