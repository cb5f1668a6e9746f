package asteriskconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"[s]\nk = v\n",
		"[t](!)\ntype = aor\n[a](t)\n[a](+)\nx => y ; c\n",
		"#include \"x.conf\"\n[s]\np = a\\;b\n;-- c --; k = v\n",
		"[ctx]\nexten => _X.,1,Stasis(toritsugi,inbound,${EXTEN})\n same => n,Hangup()\n",
	} {
		f.Add(seed)
	}
	paths, _ := filepath.Glob(filepath.Join(shippedDir, "*.conf"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		file, err := Parse("fuzz.conf", strings.NewReader(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Line < 1 || pe.Line > strings.Count(in, "\n")+1 {
				t.Fatalf("error line %d outside input", pe.Line)
			}
			return
		}
		last := 0
		for _, s := range file.Sections {
			if s.Name == "" || s.Line <= last {
				t.Fatalf("section %+v: empty name or line not increasing after %d", s, last)
			}
			last = s.Line
			for _, e := range s.Entries {
				if e.Key == "" || e.Line <= last {
					t.Fatalf("entry %+v: empty key or line not after %d", e, last)
				}
				last = e.Line
			}
		}
		_ = file.Objects() // must not panic
	})
}

// FuzzPatternMatches: a dialplan pattern from a user's extensions.conf
// never panics; a literal pattern matches exactly itself, and "!" any
// continuation.
func FuzzPatternMatches(f *testing.F) {
	for _, p := range []string{"X.", "[0-9a-zA-Z+*#]!", "NXXNXXXXXX", "[", "[a-]", "]", "+81X."} {
		f.Add(p, "h")
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		patternMatches(p, s)
		if !strings.ContainsAny(s, "XxZzNn[.!") && s != "" && !patternMatches(s, s) {
			t.Fatalf("literal %q does not match itself", s)
		}
		if !patternMatches(p+"!", s) && patternMatches(p, s) {
			t.Fatalf("%q matches %q but %q does not", p, s, p+"!")
		}
	})
}
