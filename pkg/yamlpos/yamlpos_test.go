package yamlpos

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
)

var errSentinel = errors.New("sentinel")

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "c.yaml", Line: 14, Column: 7, Path: "a[1].b", Msg: "bad"}, "c.yaml:14:7: a[1].b: bad"},
		{FieldError{File: "c.yaml", Line: 3, Msg: "invalid YAML: x"}, "c.yaml:3: invalid YAML: x"},
		{FieldError{File: "c.yaml", Path: "id", Msg: "missing"}, "c.yaml: id: missing"},
		{FieldError{Line: 2, Column: 1, Msg: "m"}, ":2:1: m"},
		{FieldError{Path: "fields[0].id", Msg: "missing"}, "fields[0].id: missing"},
		{FieldError{Msg: "only"}, "only"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorsWrapping(t *testing.T) {
	es := Errors{{Line: 1, Msg: "a"}, {Line: 2, Msg: "b", Err: errSentinel}}
	var err error = es
	if !errors.Is(err, errSentinel) {
		t.Errorf("errors.Is(sentinel) is false for %v", err)
	}
	if errors.Is(Errors{{Msg: "a"}}, errSentinel) {
		t.Error("errors.Is(sentinel) is true without Err")
	}
	var fe *FieldError
	if !errors.As(fmt.Errorf("wrapped: %w", err), &fe) || fe.Msg != "a" {
		t.Errorf("errors.As(*FieldError) = %+v", fe)
	}
	if got, want := es.Error(), ":1: a\n:2: b"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestSorted(t *testing.T) {
	es := Errors{
		{Line: 3, Column: 1, Path: "b", Msg: "x"},
		{Line: 1, Column: 5, Path: "a", Msg: "y"},
		{Line: 3, Column: 1, Path: "a", Msg: "z"},
		{Line: 1, Column: 5, Path: "a", Msg: "y"}, // duplicate
		{Line: 1, Column: 2, Path: "c", Msg: "w"},
	}
	var got []string
	for _, e := range es.Sorted() {
		got = append(got, e.Error())
	}
	want := []string{":1:2: c: w", ":1:5: a: y", ":3:1: a: z", ":3:1: b: x"}
	if !slices.Equal(got, want) {
		t.Errorf("Sorted = %q, want %q", got, want)
	}
}

func TestPaths(t *testing.T) {
	if got := Index(Child(Child("", "clients"), "dids"), 2); got != "clients.dids[2]" {
		t.Errorf("Child/Index = %q", got)
	}
	tests := []struct{ in, want string }{
		{"fields[2].show_if.field", "fields[2].show_if"},
		{"fields[2].show_if", "fields[2]"},
		{"fields[2]", "fields"},
		{"fields", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Parent(tt.in); got != tt.want {
			t.Errorf("Parent(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPositionsAndPathSet(t *testing.T) {
	ps := Positions{}
	ps.Mark("a", Pos{Line: 2, Col: 1})
	ps.Mark("a", Pos{Line: 9, Col: 9}) // the first one stays
	ps.Mark("a.b[0]", Pos{Line: 3, Col: 5})
	tests := []struct {
		path   string
		want   Pos
		wantOK bool
	}{
		{"a", Pos{2, 1}, true},
		{"a.b[0].c", Pos{3, 5}, true},
		{"a.x", Pos{2, 1}, true},
		{"z", Pos{}, false},
	}
	for _, tt := range tests {
		if got, ok := ps.Locate(tt.path); got != tt.want || ok != tt.wantOK {
			t.Errorf("Locate(%q) = %v, %v, want %v, %v", tt.path, got, ok, tt.want, tt.wantOK)
		}
	}
	set := PathSet{"a.b": true}
	for path, want := range map[string]bool{"a.b": true, "a.b[1].c": true, "a": false, "a.bc": false} {
		if got := set.Covers(path); got != want {
			t.Errorf("Covers(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name              string
		in                string
		wantFirst, wantNx bool
		wantLine          int // of the syntax error; 0 for none
		wantMsg           string
	}{
		{name: "empty", in: ""},
		{name: "one", in: "a: 1\n", wantFirst: true},
		{name: "two", in: "a: 1\n---\nb: 2\n", wantFirst: true, wantNx: true},
		{name: "syntax", in: "a: 1\n b: [\n", wantLine: 2, wantMsg: "mapping values are not allowed in this context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, next, err := Decode([]byte(tt.in))
			if tt.wantLine > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				line, msg, ok := SyntaxLine(err)
				if !ok || line != tt.wantLine || msg != tt.wantMsg {
					t.Errorf("SyntaxLine = %d, %q, %v, want %d, %q", line, msg, ok, tt.wantLine, tt.wantMsg)
				}
				return
			}
			if err != nil || (first != nil) != tt.wantFirst || (next != nil) != tt.wantNx {
				t.Errorf("Decode = %v, %v, %v", first, next, err)
			}
		})
	}
	if line, msg, ok := SyntaxLine(errors.New("yaml: something")); ok || line != 1 || msg != "yaml: something" {
		t.Errorf("SyntaxLine without line = %d, %q, %v", line, msg, ok)
	}
}

// FuzzDecode: Decode never panics, and a syntax error always has a line.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "a: 1\n", "a: [\n", "- &x a\n- *x\n", "a: 1\n---\nb\n", "\t"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		first, next, err := Decode(data)
		if err != nil {
			if first != nil || next != nil {
				t.Fatalf("nodes with error %v", err)
			}
			if line, _, _ := SyntaxLine(err); line < 1 {
				t.Fatalf("line %d for %v", line, err)
			}
		}
	})
}

// FuzzProblemLine: the line ProblemLine names is at or after the one the
// decoder names, and within the document (counting a lone CR as the
// decoder does), with the decoder's message.
func FuzzProblemLine(f *testing.F) {
	for _, s := range []string{"a: 1\nclients:\n  - id: x\n   greeting: z\n", "a: [1,\n  2\nb: 3\n", "ari:\n  user: u\n   password: p\n", "a: \"x\nb: 1", "a:\r b\r\n  c: d\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, err := Decode(data)
		if err == nil {
			return
		}
		named, msg, ok := SyntaxLine(err)
		line, gotMsg, gotOK := ProblemLine(data, err)
		if gotOK != ok || gotMsg != msg {
			t.Fatalf("ProblemLine = %d %q %v; SyntaxLine %d %q %v", line, gotMsg, gotOK, named, msg, ok)
		}
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
		if line < named || (line != named && line > lines) {
			t.Fatalf("line %d: the decoder named %d, the document has at most %d", line, named, lines)
		}
	})
}

// TestProblemLine: a problem inside a block (a key misindented in a list
// item, far below the list's start) is named on its own line, not on the
// line the decoder names; a problem the decoder names on its line stays.
func TestProblemLine(t *testing.T) {
	tests := []struct {
		name, doc string
		named     int // the decoder's line
		want      int
	}{
		{"key indented one less in a list item", "a: 1\nclients:\n  - id: x\n    name: y\n   greeting: z\n    more: 1\n", 2, 5},
		{"key indented more in a list item", "a: 1\nclients:\n  - id: x\n    dids: [1]\n      greeting: z\n", 2, 5},
		{"key indented one less in a mapping", "ari:\n  user: u\n  password: p\nqueue:\n    max_wait: 3m\n  strategy: x\n", 0, 6},
		{"mapping value where none may be", "ari:\n  user: toritsugi\n   password: secret\n", 3, 3},
		{"quote never closed", "a: 1\nb: \"x\nc: 2\n", 0, 0},
		{"flow list never closed", "a: [1,\n  2\nb: 3\n", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode([]byte(tt.doc))
			if err == nil {
				t.Fatal("parsed")
			}
			named, msg, _ := SyntaxLine(err)
			if tt.named != 0 && named != tt.named {
				t.Fatalf("the decoder names line %d (%s), want %d: the test's premise", named, msg, tt.named)
			}
			want := tt.want
			if want == 0 {
				want = named
			}
			if got, gotMsg, ok := ProblemLine([]byte(tt.doc), err); !ok || got != want || gotMsg != msg {
				t.Fatalf("ProblemLine = %d %q %v, want %d %q (the decoder named %d)", got, gotMsg, ok, want, msg, named)
			}
		})
	}
	if line, msg, ok := ProblemLine(nil, errSentinel); ok || line != 1 || msg != "sentinel" {
		t.Fatalf("not a syntax error: %d %q %v", line, msg, ok)
	}
}
