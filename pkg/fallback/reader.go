package fallback

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// DefaultInterval is how often Run reads the file.
const DefaultInterval = 15 * time.Second

// maxScan bounds what one Scan reads of a file (the rest waits for the
// next): an outage of a busy desk writes some hundred bytes a call.
const maxScan = 4 << 20

// saveEvery is how many lines are read between saves of the cursor.
const saveEvery = 100

// Reader reads the fallback file named by the configuration's
// fallback_log, from where it stopped (a cursor in the store), and stores
// a record for each call.
type Reader struct {
	Store  *store.Store
	Config func() *config.Config
	// OnRecord is told each call read (the desk relays it; it relays a
	// call once, however often it is told); nil: none.
	OnRecord func(store.CallRecord)
	Logger   *slog.Logger
	// Interval between reads; zero means DefaultInterval.
	Interval time.Duration
	// Now is the clock (a test's); nil means time.Now.
	Now func() time.Time

	lastErr string // the last failure logged, not logged again until it changes
	failing atomic.Bool
}

// Failing reports whether the last read of the file failed (it cannot be
// read: its permissions, a disk error): the calls Asterisk refused meanwhile
// are neither recorded nor relayed until it is fixed (/healthz says so).
func (r *Reader) Failing() bool { return r.failing.Load() }

// Run reads the file now and every Interval until ctx ends.
func (r *Reader) Run(ctx context.Context) {
	every := r.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := r.Scan(ctx)
		if ctx.Err() == nil {
			r.failing.Store(err != nil)
		}
		if err != nil && ctx.Err() == nil {
			if msg := err.Error(); msg != r.lastErr {
				r.lastErr = msg
				r.Logger.Warn("reading the calls Asterisk refused while toritsugi was down failed; tried again", "error", err)
			}
		} else if err == nil {
			r.lastErr = ""
			if n > 0 {
				r.Logger.Warn("calls Asterisk refused while toritsugi was down recorded", "calls", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Scan reads the complete lines added since the last Scan, stores a record
// for each call not stored yet, and moves the cursor past them. It returns
// how many records it stored. A missing file is no error (nothing was
// refused, or Asterisk runs elsewhere); a line that cannot be read is
// logged and passed over.
//
// A rotation (logrotate) since the last Scan is told by the file's inode
// (create: a new file under the name), by path.1 being another file than
// at the last Scan (copytruncate: a new copy), or by the file's first
// line or length; the lines not yet read are then read from path.1, to
// its end, before the new file from its start. Records are stored once
// whatever is read twice.
func (r *Reader) Scan(ctx context.Context) (int, error) {
	cfg := r.Config()
	path := cfg.FallbackLog
	if path == "" {
		return 0, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("fallback: %w", err)
	}
	defer f.Close()
	cur, err := r.Store.FileCursor(path)
	if err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("fallback: %w", err)
	}
	head, err := digestHead(f)
	if err != nil {
		return 0, fmt.Errorf("fallback: read %s: %w", path, err)
	}
	rotated, rotatedMod := statOf(path + ".1")
	seen := cur.Inode != 0 || cur.Offset > 0 || cur.Head != ""
	moved := cur.Inode != 0 && inode(st) != 0 && cur.Inode != inode(st)                          // create
	copied := rotated != 0 && (rotated != cur.Rotated || rotatedMod != cur.RotatedMod) && !moved // copytruncate: a new copy
	cut := cur.Head != "" && head != cur.Head || st.Size() < cur.Offset || !cur.Skipping && !lineEndsBefore(f, cur.Offset)
	stored := 0
	if seen && (moved || copied || cut) {
		n, err := r.finishRotated(ctx, path, cfg, cur, moved || copied)
		stored += n
		if err != nil {
			return stored, err
		}
		cur = store.FileCursor{}
	}
	cur.Rotated, cur.RotatedMod = rotated, rotatedMod
	if cur.Offset == 0 && !cur.Skipping {
		cur.Inode, cur.Head = inode(st), head
	}
	for {
		n, next, err := r.scanFile(ctx, f, path, cfg, cur, true)
		stored += n
		if err != nil || next.Offset == cur.Offset || next.Offset >= st.Size() {
			return stored, err
		}
		cur = next // more than one read's worth
	}
}

// finishRotated reads path.1 to its end on from cur, if it is the file
// cur was in: its inode (renamed) or, copied, its first line and length
// say so. A rotation whose unread lines are not there is logged.
func (r *Reader) finishRotated(ctx context.Context, path string, cfg *config.Config, cur store.FileCursor, expected bool) (int, error) {
	lost := func(why string) (int, error) {
		if cur.Offset > 0 || expected {
			r.Logger.Warn("the fallback file was rotated, and the lines written since the last read may be lost", "file", path, "why", why)
		}
		return 0, nil
	}
	old, err := os.Open(path + ".1")
	if err != nil {
		return lost(err.Error())
	}
	defer old.Close()
	ost, err := old.Stat()
	if err != nil {
		return lost(err.Error())
	}
	head, err := digestHead(old)
	sameInode := cur.Inode != 0 && inode(ost) == cur.Inode
	sameHead := cur.Head == head || cur.Head == "" && cur.Offset == 0
	if err != nil || ost.Size() < cur.Offset || !cur.Skipping && !lineEndsBefore(old, cur.Offset) || !sameInode && !sameHead {
		return lost(path + ".1 is not the file read before")
	}
	stored := 0
	for {
		n, next, err := r.scanFile(ctx, old, path, cfg, cur, false)
		stored += n
		if err != nil || next.Offset == cur.Offset || next.Offset >= ost.Size() {
			return stored, err
		}
		cur = next
	}
}

// scanFile reads f (the file at path, or the one rotated from it) from
// cur, at most maxScan bytes, stores and hands on the calls, and, if save,
// keeps the cursor every saveEvery lines and at the end. It returns the
// calls stored and the cursor reached.
func (r *Reader) scanFile(ctx context.Context, f *os.File, path string, cfg *config.Config, cur store.FileCursor, save bool) (int, store.FileCursor, error) {
	if _, err := f.Seek(cur.Offset, io.SeekStart); err != nil {
		return 0, cur, fmt.Errorf("fallback: %w", err)
	}
	buf, err := io.ReadAll(io.LimitReader(f, maxScan))
	if err != nil {
		return 0, cur, fmt.Errorf("fallback: read %s: %w", f.Name(), err)
	}
	keep := func(err error) error {
		if !save {
			return err
		}
		if serr := r.Store.SetFileCursor(path, cur); serr != nil && err == nil {
			err = serr
		}
		return err
	}
	if cur.Offset == 0 && !cur.Skipping {
		cur.Head = headOf(buf) // what is read, not what digestHead saw before
	}
	if cur.Skipping {
		// The rest of a line too long to be the dialplan's.
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			cur.Offset += int64(len(buf))
			return 0, cur, keep(nil)
		}
		buf = buf[i+1:]
		cur.Offset += int64(i) + 1
		cur.Skipping = false
	}
	if len(buf) == maxScan && bytes.IndexByte(buf, '\n') < 0 {
		// No line ends in 4 MiB: not the dialplan's (a line is some
		// hundred bytes). Passed over to the next line end, or every
		// Scan would stop here.
		r.Logger.Warn("4 MiB of the fallback file without a line end are passed over", "file", f.Name(), "offset", cur.Offset)
		cur.Offset += int64(len(buf))
		cur.Skipping = true
		return 0, cur, keep(nil)
	}
	stored := 0
	for lines := 1; ; lines++ {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break // a line still being written: the next Scan
		}
		line := string(buf[:i])
		buf = buf[i+1:]
		if line != "" {
			added, err := r.take(line, f.Name(), cur.Offset, cfg)
			if err != nil {
				return stored, cur, keep(err) // not past this line: tried again
			}
			if added {
				stored++
			}
		}
		cur.Offset += int64(i) + 1
		if lines%saveEvery == 0 {
			if err := keep(nil); err != nil {
				return stored, cur, err
			}
			if ctx.Err() != nil {
				return stored, cur, ctx.Err()
			}
		}
	}
	return stored, cur, keep(nil)
}

// take stores the call of one line, if it is not stored, and hands it on
// (again, after a stop between storing and handing on: the desk relays a
// call once). It reports whether it stored it; a line that cannot be read
// or stored as it is is logged and passed over.
func (r *Reader) take(line, file string, offset int64, cfg *config.Config) (bool, error) {
	l, err := ParseLine(line)
	if err != nil {
		r.Logger.Warn("a line of the fallback file is passed over", "file", file, "offset", offset, "error", err)
		return false, nil
	}
	// A call that reached the controller before Stasis failed has the
	// controller's record (a rare error path of Asterisk's): not twice.
	if known, err := r.Store.KnowsCall(l.UniqueID); err != nil {
		return false, err
	} else if known {
		return false, nil
	}
	rec := Record(l, cfg)
	added, err := r.Store.PutCallIfAbsent(rec)
	if errors.Is(err, store.ErrInvalidRecord) {
		r.Logger.Warn("a call of the fallback file cannot be stored; passed over", "file", file, "offset", offset, "error", err)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if added {
		r.Logger.Info("call refused while toritsugi was down recorded", "call", rec.ID, "client", rec.ClientID, "result", rec.Result, "at", rec.StartedAt)
	}
	// A call stored before is handed on again if recent (a stop came
	// between storing and handing on): the desk relays a call once while
	// its outbox entry is kept (30 days after delivery), so an old line
	// read again must not be.
	if r.OnRecord != nil && (added || r.now().Sub(rec.EndedAt) < handOnAgainWithin) {
		r.OnRecord(rec)
	}
	return added, nil
}

// handOnAgainWithin is how recent a call stored before must be to be
// handed on again when its line is read again.
const handOnAgainWithin = 7 * 24 * time.Hour

func (r *Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// digestHead is a digest of f's first line, or of its first 512 bytes
// when they hold no line end: a file cut and written again starts
// otherwise. "" when f holds neither (a first line still being written).
func digestHead(f *os.File) (string, error) {
	b := make([]byte, 512)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return headOf(b[:n]), nil
}

func headOf(b []byte) string {
	if len(b) > 512 {
		b = b[:512]
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else if len(b) < 512 {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// statOf is the inode and modification time of the file at path; zero
// if there is none (an inode not known here is 0).
func statOf(path string) (uint64, int64) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0
	}
	return inode(st), st.ModTime().UnixNano()
}

// lineEndsBefore reports whether offset is 0 or follows a line end in f:
// where a cursor into this file can stand.
func lineEndsBefore(f *os.File, offset int64) bool {
	if offset == 0 {
		return true
	}
	b := make([]byte, 1)
	n, err := f.ReadAt(b, offset-1)
	return n == 1 && err == nil && b[0] == '\n'
}
