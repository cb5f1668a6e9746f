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
	if errors.Is(err, fs.ErrNotExist) {
		var r [4]byte
		_, _ = rand.Read(r[:])
		id := hex.EncodeToString(r[:])
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return DeploymentID(dir) // made meanwhile by another start
		}
		if err != nil {
			return "", fmt.Errorf("store: make the deployment id: %w", err)
		}
		_, werr := f.WriteString(id + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", fmt.Errorf("store: write the deployment id %s: %w", path, werr)
		}
		return id, nil
	}
	if err != nil {
		return "", fmt.Errorf("store: read the deployment id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if !validDeploymentID(id) {
		return "", fmt.Errorf("store: %s holds %q, not a deployment id (8 lower-case hex digits): restore it, or remove it to make a new one", path, id)
	}
	return id, nil
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
