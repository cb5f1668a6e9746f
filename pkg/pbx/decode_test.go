package pbx

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/CyCoreSystems/ari/v6"
)

// libraryDecode is what DecodeEvent did before it decoded once: the
// library's decoder, with our rejection of nil events.
func libraryDecode(data []byte) (e ari.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, errPanic
		}
	}()
	e, err = ari.DecodeEvent(data)
	if err == nil && e == nil {
		err = errPanic
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

var errPanic = os.ErrInvalid

// sameAsLibrary fails t unless DecodeEvent and the library agree on data.
func sameAsLibrary(t *testing.T, data []byte) {
	t.Helper()
	got, gerr := DecodeEvent(data)
	want, werr := libraryDecode(data)
	if (gerr != nil) != (werr != nil) {
		t.Fatalf("DecodeEvent(%q) error %v, library error %v", data, gerr, werr)
	}
	if gerr != nil {
		return
	}
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		t.Fatalf("DecodeEvent(%q) = %T, library %T", data, got, want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeEvent(%q)\n got %#v\nwant %#v", data, got, want)
	}
}

func recordedEvents(t testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("..", "aritest", "testdata", "recordings", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	var out [][]byte
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line struct {
				Kind  string          `json:"kind"`
				Event json.RawMessage `json:"event"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Kind == "event" {
				out = append(out, []byte(line.Event))
			}
		}
		fh.Close()
	}
	return out
}

func TestDecodeEventMatchesLibraryOnRecordings(t *testing.T) {
	evs := recordedEvents(t)
	fast := 0
	for _, data := range evs {
		sameAsLibrary(t, data)
		if typ, ok := peekType(data); ok && eventTypes[string(typ)] != nil {
			fast++
		}
	}
	if fast != len(evs) {
		t.Errorf("%d of %d recorded events took the single-decode path", fast, len(evs))
	}
}

func TestDecodeEventMatchesLibraryOnOddInput(t *testing.T) {
	for _, in := range []string{
		``, `{}`, `[]`, `null`, `{"type":""}`, `not json`, `{"type":"StasisStart","args":5}`,
		`{"type":"Nope"}`, `{"type":5}`, `{"type":null}`, `{"Type":"StasisStart"}`, `{"TYPE":"StasisEnd","type":"StasisStart"}`,
		`{"type":"StasisStart","type":"StasisEnd"}`, `{"ty\u0070e":"StasisStart"}`, `{"type":"Stasis\u0053tart"}`,
		`{"type":"StasisStart"} x`, `{"type":"StasisStart",}`, `{"type":"StasisStart"`, `  {"type" : "StasisEnd" , "channel" : {"id":"a"}}  `,
		`{"channel":{"type":"x","id":"c"},"type":"StasisEnd","args":["}",",","{"]}`, `{"a":[1,{"b":"\"}"}],"type":"ChannelDestroyed","cause":16}`,
		`{"type":"ChannelVarset","variable":"X","value":"ü","channel":{"id":"1"}}`, `{"x":tru,"type":"StasisEnd"}`,
		`{"type":"StasisStart","channel":{"id":"1","creationtime":"bad"}}`, `{"type":"ApplicationReplaced","timestamp":"2026-11-28T20:33:58.792+0000"}`,
	} {
		sameAsLibrary(t, []byte(in))
	}
}

func TestEventTypesCoverLibrary(t *testing.T) {
	v := reflect.ValueOf(ari.Events)
	for i := range v.NumField() {
		name, ok := v.Field(i).Interface().(string)
		if !ok {
			continue
		}
		want, err := ari.DecodeEvent([]byte(`{"type":"` + name + `"}`))
		mk := eventTypes[name]
		switch {
		case err != nil && mk != nil:
			t.Errorf("eventTypes has %s, the library cannot decode it: %v", name, err)
		case err == nil && mk == nil:
			t.Errorf("eventTypes lacks %s", name)
		case err == nil && reflect.TypeOf(mk()) != reflect.TypeOf(want):
			t.Errorf("eventTypes[%s] makes %T, the library %T", name, mk(), want)
		}
	}
}

func TestPeekType(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`{"type":"StasisStart"}`, "StasisStart", true},
		{`{"variable":"A","value":"{\"type\":\"x\"}","type":"ChannelVarset"}`, "ChannelVarset", true},
		{` {"n":-1.5e3,"b":true,"z":null,"o":{"type":"no"},"type":"X"} `, "X", true},
		{`{"type":"A","type":"B"}`, "", false},
		{`{"Type":"A"}`, "", false},
		{`{"type":"A\u0042"}`, "", false},
		{`{"type":""}`, "", false},
		{`{"type":1}`, "", false},
		{`{"a":"b"}`, "", false},
		{`{}`, "", false},
		{`[]`, "", false},
		{`{"type":"A"`, "", false},
		{`{"o":{"a":[}`, "", false},
	} {
		got, ok := peekType([]byte(c.in))
		if string(got) != c.want || ok != c.ok {
			t.Errorf("peekType(%s) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// BenchmarkDecodeEvent decodes every recorded event, through DecodeEvent
// and through the library's double decode for comparison.
func BenchmarkDecodeEvent(b *testing.B) {
	evs := recordedEvents(b)
	for _, c := range []struct {
		name   string
		decode func([]byte) (ari.Event, error)
	}{{"single", DecodeEvent}, {"library", libraryDecode}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, data := range evs {
					if _, err := c.decode(data); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
