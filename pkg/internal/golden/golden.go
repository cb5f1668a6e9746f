// Package golden compares test output with golden files under testdata/;
// `go test ./pkg/... -update` rewrites them from the current output (read
// the diff before committing).
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output")

// Check compares got with the file at path (rewriting it first with -update).
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
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
	if bytes.Equal(got, want) {
		return
	}
	if utf8.Valid(got) && utf8.Valid(want) {
		t.Errorf("output differs from %s (run go test -update after checking)\n--- got:\n%s\n--- want:\n%s", path, got, want)
		return
	}
	t.Errorf("output differs from %s (run go test -update after checking)\n got %x\nwant %x", path, got, want)
}
