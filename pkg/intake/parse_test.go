package intake

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	goldenfile "github.com/toritsugi/toritsugi/pkg/internal/golden"
)

// golden compares got with the file, rewriting it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	goldenfile.Check(t, path, []byte(got))
}

// loadBranching parses the example script shipped in testdata.
func loadBranching(t testing.TB) Script {
	t.Helper()
	data, err := os.ReadFile("testdata/scripts/branching.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScript("branching.yaml", data)
	if err != nil {
		t.Fatalf("ParseScript: %v", err)
	}
	return s
}

func TestParseBranchingExample(t *testing.T) {
	s := loadBranching(t)
	if s.ID != "acme-branching" || s.Scope != ScopeCustom || len(s.Fields) != 12 {
		t.Fatalf("got id %q scope %q with %d fields", s.ID, s.Scope, len(s.Fields))
	}
	name, _ := s.field("name")
	if name.Type != TypeText || !name.Required || name.ShowIf == nil || name.ShowIf.Field != "caller_type" {
		t.Errorf("alias show_if or default type not applied: %+v", name)
	}
	no, _ := s.field("customer_no")
	if got := no.ShowIf.Equals; len(got) != 1 || got[0] != "existing" {
		t.Errorf("scalar equals = %q, want [existing]", got)
	}
	ref, _ := s.field("referral")
	if len(ref.Choices) != 4 || ref.Choices[1] != (Choice{Value: "ご紹介", Label: "ご紹介"}) {
		t.Errorf("scalar choices = %+v", ref.Choices)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check of a parsed script: %v", err)
	}
	if got := s.GreetingLine("株式会社アクメ"); got != "お電話ありがとうございます。株式会社アクメでございます。" {
		t.Errorf("GreetingLine = %q", got)
	}
}

// TestParseErrorsGolden checks the full error output, with positions, for
// each invalid script in testdata/errors.
func TestParseErrorsGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no inputs in testdata/errors")
	}
	for _, in := range inputs {
		name := filepath.Base(in)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			s, err := ParseScript(name, data)
			if err == nil {
				t.Fatalf("ParseScript succeeded, want errors (script %+v)", s)
			}
			if !errors.Is(err, ErrInvalidScript) {
				t.Errorf("error does not wrap ErrInvalidScript: %v", err)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			for _, e := range es {
				if e.Line <= 0 || e.File != name {
					t.Errorf("error without position: %#v", e)
				}
			}
			golden(t, strings.TrimSuffix(in, ".yaml")+".golden", err.Error()+"\n")
		})
	}
}

func TestCheckWithoutPositions(t *testing.T) {
	s := Script{ID: "x", Name: "x", Scope: ScopeCustom, Greeting: "はい", Fields: []Field{
		{ID: "a", Label: "A", Type: TypeText, ShowIf: &Cond{Field: "b", Equals: []string{"yes"}}},
		{ID: "b", Label: "B", Type: TypeYesNo},
	}}
	err := s.Check()
	want := `fields[0].show_if.field: unknown field "b" (fields must refer to EARLIER fields; "b" is defined later, in fields[1])`
	if err == nil || err.Error() != want {
		t.Errorf("Check() = %v, want %s", err, want)
	}
}

// loadCallers parses the example script that branches by caller.
func loadCallers(t testing.TB) Script {
	t.Helper()
	data, err := os.ReadFile("testdata/scripts/callers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScript("callers.yaml", data)
	if err != nil {
		t.Fatalf("ParseScript: %v", err)
	}
	return s
}

func TestParseCallerExample(t *testing.T) {
	s := loadCallers(t)
	for id, want := range map[string][]string{
		"company":     {"withheld", "repeat", "new"},
		"department":  {"withheld", "repeat", "new"}, // through an alias
		"callback":    {"withheld"},                  // one class, not a list
		"same_matter": {"repeat"},
	} {
		f, _ := s.field(id)
		if f.ShowIf == nil || f.ShowIf.Field != "" || f.ShowIf.Equals != nil || !slices.Equal(f.ShowIf.Caller, want) {
			t.Errorf("%s: show_if %+v, want caller %v", id, f.ShowIf, want)
		}
	}
	if note, _ := s.field("previous_note"); note.ShowIf.Field != "same_matter" || note.ShowIf.Caller != nil {
		t.Errorf("previous_note: show_if %+v, want the field same_matter", note.ShowIf)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check of a parsed script: %v", err)
	}
}

// TestCheckShowIfCaller: show_if caller names caller classes, at least
// one, and nothing else beside them; problems are placed as the others.
func TestCheckShowIfCaller(t *testing.T) {
	script := func(c *Cond) Script {
		return Script{ID: "x", Name: "x", Scope: ScopeCustom, Greeting: "はい", Fields: []Field{
			{ID: "kind", Label: "区分", Type: TypeYesNo},
			{ID: "a", Label: "A", Type: TypeText, ShowIf: c},
			{ID: "b", Label: "B", Type: TypeText, ShowIf: &Cond{Field: "kind", Equals: []string{"yes"}}},
		}}
	}
	const classes = "(use one of vip, known, withheld, repeat, new)"
	for _, tc := range []struct {
		name string
		cond *Cond
		want string // "" for none
	}{
		{"one class", &Cond{Caller: []string{"known"}}, ""},
		{"every class", &Cond{Caller: slices.Clone(CallerClasses)}, ""},
		{"unknown class", &Cond{Caller: []string{"known", "stranger"}}, `fields[1].show_if.caller[1]: "stranger" is not a caller class ` + classes},
		{"a class in capitals", &Cond{Caller: []string{"VIP"}}, `fields[1].show_if.caller[0]: "VIP" is not a caller class ` + classes},
		{"empty list", &Cond{Caller: []string{}}, "fields[1].show_if.caller: missing: list the caller classes for which the field is shown (vip, known, withheld, repeat, new)"},
		{"field and caller", &Cond{Field: "kind", Equals: []string{"yes"}, Caller: []string{"new"}},
			"fields[1].show_if.caller: show_if takes either field with equals (an earlier answer) or caller (the caller's class), not both"},
		{"equals and caller", &Cond{Equals: []string{"yes"}, Caller: []string{"new"}},
			"fields[1].show_if.caller: show_if takes either field with equals (an earlier answer) or caller (the caller's class), not both"},
		{"neither", &Cond{}, "fields[1].show_if.field: missing: the id of an earlier choice or yesno field (or caller: the caller classes)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := script(tc.cond).Check()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Check() = %v, want none", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("Check() = %v\nwant %s", err, tc.want)
			case err != nil && !errors.Is(err, ErrInvalidScript):
				t.Fatalf("%v does not wrap ErrInvalidScript", err)
			}
		})
	}
}
