package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DeploymentFile is the file in the data directory that holds the
// deployment id.
const DeploymentFile = "deployment-id"

// DeploymentID returns the deployment id kept in dir (the data directory):
// 8 lower-case hex digits, made at random the first time. Names that must
// say which deployment made them carry it: the calls' recordings, so that
// the retention deletes only its own among those other toritsugi
// processes made on the same Asterisk (a staging instance, an end-to-end
// test). It lives beside the store, not in it: a backup restored into the
// same directory keeps the id (and the retention finds the recordings
// made since the backup), while another instance made from that backup,
// in its own directory, makes its own.
func DeploymentID(dir string) (string, error) {
	path := filepath.Join(dir, DeploymentFile)
	b, err := os.ReadFile(path)
	switch id := strings.TrimSpace(string(b)); {
	case err == nil && validDeploymentID(id):
		return id, nil
	case err == nil && id != "":
		return "", fmt.Errorf("store: %s holds %q, not a deployment id (8 lower-case hex digits): restore it, or remove it to make a new one", path, id)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("store: read the deployment id: %w", err)
	}
	// Missing, or empty (a first start cut off before its write reached
	// the disk): made anew, written whole and synced before it takes the
	// name, so that no later start finds it half written. A name that is
	// there but is no file (a link to a file that is not there, such as a
	// volume not mounted) is not replaced.
	if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
		return "", fmt.Errorf("store: %s is not a file holding a deployment id (a link to a file that is not there, or is empty?): restore it, or remove it to make a new one", path)
	}
	id := newDeploymentID()
	tmp, err := os.CreateTemp(dir, "."+DeploymentFile+"-*") // 0600
	if err != nil {
		return "", fmt.Errorf("store: make the deployment id %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // gone by the rename, unless that failed
	_, werr := tmp.WriteString(id + "\n")
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		// One toritsugi at a time holds data_dir (the store's lock,
		// taken before): nothing else makes this file meanwhile.
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		return "", fmt.Errorf("store: write the deployment id %s: %w", path, werr)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the new name, durable
		_ = d.Close()
	}
	return id, nil
}

func newDeploymentID() string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// validDeploymentID reports whether id is 8 lower-case hex digits.
func validDeploymentID(id string) bool {
	if len(id) != 8 {
		return false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
