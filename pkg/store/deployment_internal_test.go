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

// TestDeploymentIDOddFiles: an empty file (a first start cut off before
// its write reached the disk) is made anew; a link to a file that is not
// there (a volume not mounted) is an error naming the file, and is left
// as it is.
func TestDeploymentIDOddFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DeploymentFile)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := DeploymentID(dir)
	if err != nil || !validDeploymentID(id) {
		t.Fatalf("after an empty file: %q, %v", id, err)
	}
	if again, err := DeploymentID(dir); again != id || err != nil {
		t.Fatalf("then %q (%v), want %q", again, err, id)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".deployment-id-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}

	dir = t.TempDir()
	path = filepath.Join(dir, DeploymentFile)
	if err := os.Symlink(filepath.Join(dir, "gone", "id"), path); err != nil {
		t.Fatal(err)
	}
	if _, err := DeploymentID(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a dangling link: %v, want an error naming %s", err, path)
	}
	if _, err := os.Readlink(path); err != nil {
		t.Fatalf("the link was replaced: %v", err)
	}
}
