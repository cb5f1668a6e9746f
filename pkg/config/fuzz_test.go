package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics, returns either a config or Errors, and
// every error carries a position.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	files = append(files, "testdata/sample.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("clients: [{<<: {id: x}, id: y}]\n"))
	f.Add([]byte("ari: {user: !!binary aGk=, password: !custom p}\ndata_dir: 1e3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data, noEnv)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			for i := range cfg.Clients {
				c := &cfg.Clients[i]
				_ = c.QueueSettings()
				for _, d := range c.DIDs {
					if got, ok := cfg.ClientByDID(d); !ok || got != c {
						t.Fatalf("ClientByDID(%q) does not find %s", d, c.ID)
					}
				}
			}
			return
		}
		if cfg != nil {
			t.Fatal("config returned with an error")
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("error is not Errors: %T %v", err, err)
		}
		for _, e := range es {
			if e.Line <= 0 {
				t.Fatalf("error without a line: %#v", e)
			}
		}
	})
}
