package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/internal/golden"
)

// TestErrorsGolden checks the full error output for each invalid input in
// testdata/errors against its .golden file.
func TestErrorsGolden(t *testing.T) {
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
			cfg, err := parse(name, filepath.Dir(in), data, nil)
			if err == nil {
				t.Fatalf("Parse succeeded, want errors (config %+v)", cfg)
			}
			if cfg != nil {
				t.Errorf("Parse returned a config with errors")
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
			golden.Check(t, strings.TrimSuffix(in, ".yaml")+".golden", []byte(err.Error()+"\n"))
		})
	}
}
