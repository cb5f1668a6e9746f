package fallback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// DefaultInterval is how often Run reads the file.
const DefaultInterval = 15 * time.Second

// maxScan bounds what one Scan reads (the rest waits for the next): an
// outage of a busy desk writes some hundred bytes a call.
const maxScan = 4 << 20

// Reader reads the fallback file named by the configuration's
// fallback_log, from where it stopped (a cursor in the store), and stores
// a record for each call.
type Reader struct {
	Store  *store.Store
	Config func() *config.Config
	// OnRecord is told each record stored (the desk relays it); nil: none.
	OnRecord func(store.CallRecord)
	Logger   *slog.Logger
	// Interval between reads; zero means DefaultInterval.
	Interval time.Duration

	lastErr string // the last failure logged, not logged again until it changes
}

// Run reads the file now and every Interval until ctx ends.
func (r *Reader) Run(ctx context.Context) {
	every := r.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := r.Scan(); err != nil {
			if msg := err.Error(); msg != r.lastErr {
				r.lastErr = msg
				r.Logger.Warn("reading the calls Asterisk refused while toritsugi was down failed; tried again", "error", err)
			}
		} else {
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
func (r *Reader) Scan() (int, error) {
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
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("fallback: %w", err)
	}
	cur, err := r.Store.FileCursor(path)
	if err != nil {
		return 0, err
	}
	ino := inode(st)
	if cur.Inode != ino || st.Size() < cur.Offset {
		cur = store.FileCursor{Inode: ino} // replaced or cut: read it all (records are stored once)
	}
	if st.Size() == cur.Offset {
		return 0, nil
	}
	if _, err := f.Seek(cur.Offset, io.SeekStart); err != nil {
		return 0, fmt.Errorf("fallback: %w", err)
	}
	buf, err := io.ReadAll(io.LimitReader(f, maxScan))
	if err != nil {
		return 0, fmt.Errorf("fallback: read %s: %w", path, err)
	}
	stored := 0
	if len(buf) == maxScan && bytes.IndexByte(buf, '\n') < 0 {
		// No line ends in 4 MiB: not the dialplan's (a line is some
		// hundred bytes). Passed over, or every Scan would stop here.
		r.Logger.Warn("4 MiB of the fallback file without a line end are passed over", "file", path, "offset", cur.Offset)
		cur.Offset += int64(len(buf))
		return 0, r.save(path, cur, nil)
	}
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break // a line still being written: the next Scan
		}
		line := string(buf[:i])
		buf = buf[i+1:]
		next := cur.Offset + int64(i) + 1
		if line != "" {
			l, perr := ParseLine(line)
			if perr != nil {
				r.Logger.Warn("a line of the fallback file is passed over", "file", path, "offset", cur.Offset, "error", perr)
			} else {
				rec := Record(l, cfg)
				added, err := r.Store.PutCallIfAbsent(rec)
				if err != nil {
					// Not past this line: the next Scan tries it again.
					return stored, r.save(path, cur, err)
				}
				if added {
					stored++
					r.Logger.Info("call refused while toritsugi was down recorded", "call", rec.ID, "client", rec.ClientID, "result", rec.Result, "at", rec.StartedAt)
					if r.OnRecord != nil {
						r.OnRecord(rec)
					}
				}
			}
		}
		cur.Offset = next
	}
	return stored, r.save(path, cur, nil)
}

// save stores the cursor; cause, when not nil, is the error to return.
func (r *Reader) save(path string, cur store.FileCursor, cause error) error {
	if err := r.Store.SetFileCursor(path, cur); err != nil && cause == nil {
		cause = err
	}
	return cause
}
