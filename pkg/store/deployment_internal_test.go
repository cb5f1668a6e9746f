package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeploymentID: a data directory has a deployment id from the first
// start, the same at every start and whatever store file is restored
// there; another directory (an instance made from a backup) has its own.
// A file that holds no id is refused with its path named.
func TestDeploymentID(t *testing.T) {
	dir := t.TempDir()
	id, err := DeploymentID(dir)
	if err != nil || !validDeploymentID(id) {
		t.Fatalf("deployment id %q, %v", id, err)
	}
	if again, err := DeploymentID(dir); err != nil || again != id {
		t.Fatalf("second start: %q (%v), want %q", again, err, id)
	}
	if fi, err := os.Stat(filepath.Join(dir, DeploymentFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("id file: %v, %v", fi, err)
	}
	other, err := DeploymentID(t.TempDir())
	if err != nil || other == id {
		t.Fatalf("another directory: %q (%v), the same as %q", other, err, id)
	}
	if err := os.WriteFile(filepath.Join(dir, DeploymentFile), []byte("not one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := DeploymentID(dir); err == nil || !strings.Contains(err.Error(), DeploymentFile) {
		t.Fatalf("a file without an id: %v", err)
	}
}
