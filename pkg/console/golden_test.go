package console_test

import (
	"path/filepath"
	"testing"

	goldenfile "github.com/toritsugi/toritsugi/pkg/internal/golden"
)

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
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
