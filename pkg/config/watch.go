package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long the files must be quiet before a reload: editors
// write, rename and chmod in bursts. A file written in place (nano, VS
// Code, scp, a shell's >) is whole only when its writer is done, which no
// event says: after a write to it the quiet must last writeQuiet, so that a
// writer pausing between its parts (a slow link, a large file) is not read
// half, and the half applied (clients missing: their callers would hear
// "not in service"). A file renamed into place is whole at once.
const (
	debounce   = 150 * time.Millisecond
	writeQuiet = time.Second
)

// rewatchEvery is how often the watcher looks for a directory it lost
// (deleted, then made again); a variable for the tests.
var rewatchEvery = 2 * time.Second

// newWatcher starts a file watcher (a test replaces it).
var newWatcher = fsnotify.NewWatcher

// onWatchSet, when set (by a test), is told the directories watched after
// each (re)making of the watch set.
var onWatchSet func(dirs []string)

// Watch reloads on every signal from hup (wire it to SIGHUP with
// signal.Notify) and when the file or one of the clients' script files
// changes. It watches their directories, not the files, so editors that
// write a new file and rename it over the old one are followed. Reload
// errors are logged and do not stop the watch. If files cannot be watched
// (no inotify instance left for this user, the watcher closed), that is
// logged and signals still reload. Watch returns when ctx is done.
func (s *Store) Watch(ctx context.Context, hup <-chan os.Signal) {
	err := s.watchFiles(ctx, hup)
	if err == nil || ctx.Err() != nil {
		return
	}
	s.logger.Error("config watch stopped: saving the file does not reload it any more; send SIGHUP", "path", s.path, "err", err)
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-hup:
			if !ok {
				<-ctx.Done()
				return
			}
			s.reloadBySignal()
		}
	}
}

func (s *Store) reloadBySignal() {
	s.logger.Info("config reload requested by signal", "path", s.path)
	_ = s.Reload() // logged by Reload
}

// watchFiles is Watch while files can be watched: it returns nil when ctx
// is done, or why files cannot be watched.
func (s *Store) watchFiles(ctx context.Context, hup <-chan os.Signal) error {
	w, err := newWatcher()
	if err != nil {
		return fmt.Errorf("config: watch: %w", err)
	}
	defer w.Close()
	abs, err := filepath.Abs(s.path)
	if err != nil {
		return fmt.Errorf("config: watch: %w", err)
	}
	dir := filepath.Dir(abs)
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("config: watch %s: %w", dir, err)
	}
	names := map[string]bool{} // files whose change reloads
	// dirs are the directories watched; true: react to any name there.
	// A symlinked file (Kubernetes ConfigMaps) changes through other names
	// in its directory (the ..data link is swapped): every event there
	// counts; unchanged content is skipped by Reload.
	dirs := map[string]bool{}
	var follow func(p string)
	follow = func(p string) {
		names[p] = true
		d := filepath.Dir(p)
		fi, err := os.Lstat(p)
		symlink := err == nil && fi.Mode()&os.ModeSymlink != 0
		if _, ok := dirs[d]; !ok {
			if err := w.Add(d); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					// A script named in a directory not made yet: watched
					// from when it is made (below, every rewatchEvery).
					dirs[d] = false
					return
				}
				s.logger.Warn("config watch: cannot watch a directory; send SIGHUP after editing the files in it", "dir", d, "err", err)
				return
			}
			dirs[d] = false
		}
		dirs[d] = dirs[d] || symlink
		// A link to a file elsewhere (a checkout, a mounted volume)
		// changes there: its target is followed too.
		if !symlink {
			return
		}
		if t, err := filepath.EvalSymlinks(p); err == nil && t != p {
			follow(t)
		}
	}
	// watchScripts (and keys: the running configuration's, the last
	// reload's) makes names and dirs again: a file no longer named, or a
	// link's old target (a ConfigMap's dated directory, a release
	// directory swapped out), is not watched any more.
	watchScripts := func() {
		old := dirs
		names, dirs = map[string]bool{abs: true}, map[string]bool{}
		fi, err := os.Lstat(abs)
		dirs[dir] = err == nil && fi.Mode()&os.ModeSymlink != 0
		follow(abs) // its link's target may have changed
		for _, sp := range s.watched() {
			if p, err := filepath.Abs(sp); err == nil {
				follow(p)
			}
		}
		for d := range old {
			if _, keep := dirs[d]; !keep {
				_ = w.Remove(d) // gone already, as often: nothing to remove
			}
		}
		if onWatchSet != nil {
			onWatchSet(slices.Sorted(maps.Keys(dirs)))
		}
	}
	watchScripts()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var due time.Time // of the reload waiting for quiet; zero: none
	quiet := func(d time.Duration) {
		if at := time.Now().Add(d); at.After(due) {
			due = at
		}
		timer.Reset(time.Until(due))
	}
	// A directory deleted and made again (a deploy's rm -rf and copy, a
	// fresh checkout) loses its watch for good: inotify drops it, and no
	// event comes from the new one; a script's directory may not be made
	// yet. Every rewatchEvery the directories to watch are checked; one
	// lost and back, or made, is watched and the configuration read
	// (Reload skips it unchanged).
	rewatch := time.NewTicker(rewatchEvery)
	defer rewatch.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-rewatch.C:
			have := map[string]bool{}
			for _, d := range w.WatchList() {
				have[d] = true
			}
			for d := range dirs {
				if have[d] {
					continue
				}
				if _, err := os.Stat(d); err == nil && w.Add(d) == nil {
					s.logger.Info("config watch: a directory made (again) is watched", "dir", d)
					quiet(debounce)
				}
			}
		case _, ok := <-hup:
			if !ok {
				hup = nil
				continue
			}
			s.reloadBySignal()
			watchScripts()
		case ev, ok := <-w.Events:
			if !ok {
				return fmt.Errorf("config: watch %s: watcher closed", dir)
			}
			if ev.Op == fsnotify.Chmod || (!dirs[filepath.Dir(ev.Name)] && !names[filepath.Clean(ev.Name)]) {
				continue
			}
			if ev.Op.Has(fsnotify.Write) {
				quiet(writeQuiet)
			} else {
				quiet(debounce)
			}
		case <-timer.C:
			due = time.Time{}
			_ = s.Reload() // logged by Reload
			watchScripts()
		case err, ok := <-w.Errors:
			if !ok {
				return fmt.Errorf("config: watch %s: watcher closed", dir)
			}
			s.logger.Warn("config watch error", "path", s.path, "err", err)
		}
	}
}
