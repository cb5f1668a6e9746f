package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics, returns either a config or Errors, and
// every error carries a position.
func (c *Config) hasClient(id string) bool { _, ok := c.Client(id); return ok }

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	files = append(files, "sample.yaml")
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
	f.Add([]byte("ari: {user: u, password: p}\ndata_dir: /d\nclients: [{id: a, name: A, dids: [0312345678], greeting: sound:a, " +
		"callers: [{match: 050*, action: block}], hours: {weekly: {sun: [22:00-06:00]}}}]\n" +
		"operators: [{id: o, name: O, endpoint: PJSIP/o, clients: [a:2, \"*:3\"]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data, noEnv)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			for i := range cfg.Clients {
				c := &cfg.Clients[i]
				_ = c.ACDSettings()
				_ = c.Script()
				for _, r := range c.RelayRules() {
					for _, n := range append(r.To, c.RelayUrgent...) {
						if _, ok := cfg.Destination(n); !ok {
							t.Fatalf("client %s: relay destination %q unknown", c.ID, n)
						}
					}
				}
				if err := c.Rules().Validate(); err != nil {
					t.Fatalf("client %s: Rules invalid: %v", c.ID, err)
				}
				for _, d := range c.DIDs {
					if got, ok := cfg.ClientByDID(d); !ok || got != c {
						t.Fatalf("ClientByDID(%q) does not find %s", d, c.ID)
					}
				}
			}
			for i := range cfg.Operators {
				for id, tier := range cfg.Operators[i].Skills() {
					if tier < 1 || tier > MaxTier || (id != "*" && !cfg.hasClient(id)) {
						t.Fatalf("operator %s: skill %q tier %d", cfg.Operators[i].ID, id, tier)
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
