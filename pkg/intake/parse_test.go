package intake

import (
	"errors"
	"os"
	"path/filepath"
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
