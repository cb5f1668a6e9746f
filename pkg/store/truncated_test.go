package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheckShort: whatever a file holds, checking its length against its
// metas never panics, and a refusal is always ErrCorrupt.
func FuzzCheckShort(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 8192))
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\xed\xda\x0c\xed\x02\x00\x00\x00\x00\x10\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := checkShort(path); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("checkShort: %v, want nil or ErrCorrupt", err)
		}
	})
}
