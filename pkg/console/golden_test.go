package console_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff\n--- got:\n%s", name, got)
	}
}

func TestLoginPageGolden(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ file, path string }{
		{"login_ja.golden.html", "/login"},
		{"login_en.golden.html", "/login?lang=en"},
		{"login_failed_ja.golden.html", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var body []byte
			if tt.path == "" {
				_, body = e.anon().postForm("/login", map[string][]string{"operator_id": {`"><b>x`}, "password": {"x"}})
			} else {
				_, body = e.anon().do("GET", tt.path, nil)
			}
			golden(t, tt.file, body)
		})
	}
}
