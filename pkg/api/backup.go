package api

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// backup sends a consistent copy of the bbolt file while calls go on. It
// copies the database to a temporary file first, in one short read
// transaction, and then sends that file with its length: streaming the
// copy straight to a slow or stalled client would hold the read
// transaction open for as long, and bbolt's writers (every call record)
// wait for it whenever the file must grow.
func (d Deps) backup(w http.ResponseWriter, r *http.Request) {
	if size, err := d.Calls.Size(); err == nil {
		free := d.FreeSpace
		if free == nil {
			free = freeBytes
		}
		if avail, ok := free(d.backupDir()); ok && avail < uint64(size)+backupReserve {
			need := uint64(size) + backupReserve
			d.Logger.Error("backup refused: not enough free space for its copy", "dir", d.backupDir(), "free", avail, "needed", need)
			writeJSON(w, http.StatusInsufficientStorage, errorBody{Error: fmt.Sprintf(
				"not enough free space in %s for the backup's copy: %d bytes free, %d needed (the database, %d bytes, and %d kept free for the calls' records)",
				d.backupDir(), avail, need, size, backupReserve)})
			return
		}
	}
	f, err := os.CreateTemp(d.backupDir(), backupPattern)
	if err != nil {
		d.Logger.Error("backup failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "backup failed"})
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	// The calls in progress are not history (restored, their states
	// would be recorded as missed calls and relayed): left out.
	n, live, err := d.Calls.CompactTo(f.Name())
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		d.Logger.Error("backup failed", "error", err, "bytes", n)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "backup failed"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="toritsugi-`+time.Now().UTC().Format("20060102T150405Z")+`.db"`)
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	if sent, err := io.Copy(w, f); err != nil {
		// Abort the response: the client sees a broken transfer, not a
		// short file it might take for the whole copy.
		d.Logger.Error("sending the backup failed", "error", err, "bytes", sent, "of", n)
		panic(http.ErrAbortHandler)
	}
	d.Logger.Info("backup served", "bytes", n, "live_calls_left_out", live)
}

// backupReserve is the space a backup's copy must leave free in the data
// directory's file system: calls' records, states and messages go on being
// written there, and a copy that took the last of it would make them fail.
const backupReserve = 64 << 20

// backupPattern names the copies a backup makes before sending them.
const backupPattern = ".toritsugi-backup-*.db"

func (d Deps) backupDir() string {
	if d.BackupDir == "" {
		return os.TempDir()
	}
	return d.BackupDir
}

// oneAtATime runs h for one request at a time and answers 429 to others:
// each backup copies the whole database to the data directory's disk,
// and a few at once could fill it (and stop calls being recorded).
func (d Deps) oneAtATime(h http.HandlerFunc) http.HandlerFunc {
	slot := make(chan struct{}, 1)
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case slot <- struct{}{}:
			defer func() { <-slot }()
			h(w, r)
		default:
			w.Header().Set("Retry-After", "60")
			writeJSON(w, http.StatusTooManyRequests, errorBody{Error: "a backup is being made: try again when it is done"})
		}
	}
}

// removeBackupLeftovers deletes the copies of backups a stopped process
// left behind (a copy is removed once sent, unless the process dies).
func removeBackupLeftovers(dir string, log *slog.Logger) {
	old, _ := filepath.Glob(filepath.Join(dir, backupPattern))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			log.Warn("a backup copy left behind could not be removed", "file", f, "error", err)
			continue
		}
		log.Info("a backup copy left behind was removed", "file", f)
	}
}
