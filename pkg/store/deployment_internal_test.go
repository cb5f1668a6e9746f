package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDeploymentID: a store has a deployment id from its creation, the
// same at every open and in its backups; another store has another.
func TestDeploymentID(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Deployment()
	if err != nil || !validDeploymentID(id) {
		t.Fatalf("deployment id %q, %v", id, err)
	}
	var backup bytes.Buffer
	if _, err := s.Backup(&backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(dir, "restored.db")} {
		if p != path {
			if err := os.WriteFile(p, backup.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Open(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if again, err := s.Deployment(); err != nil || again != id {
			t.Errorf("%s: deployment id %q (%v), want %q", p, again, err, id)
		}
		s.Close()
	}
	other, err := Open(filepath.Join(dir, "b.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if o, _ := other.Deployment(); o == id {
		t.Errorf("two stores share deployment id %q", id)
	}
}
