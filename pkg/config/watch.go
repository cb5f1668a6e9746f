package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long the file must be quiet before a reload: editors
// write, rename and chmod in bursts.
const debounce = 150 * time.Millisecond

// Watch reloads on every signal from hup (wire it to SIGHUP with
// signal.Notify) and when the file or one of the clients' script files
// changes. It watches their directories, not the files, so editors that
// write a new file and rename it over the old one are followed. Reload errors are logged and do not stop the watch. Watch
// returns nil when ctx is done, or an error if the watcher cannot start.
func (s *Store) Watch(ctx context.Context, hup <-chan os.Signal) error {
	w, err := fsnotify.NewWatcher()
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
	names := map[string]bool{abs: true} // files whose change reloads
	dirs := map[string]bool{dir: true}  // directories watched
	watchScripts := func() {            // those of the running configuration
		for _, sc := range s.Current().scripts {
			p, err := filepath.Abs(sc.path)
			if err != nil {
				continue
			}
			names[p] = true
			if d := filepath.Dir(p); !dirs[d] {
				if err := w.Add(d); err != nil {
					s.logger.Warn("config watch: cannot watch a script's directory; send SIGHUP after editing it", "dir", d, "err", err)
					continue
				}
				dirs[d] = true
			}
		}
	}
	watchScripts()
	// A symlinked file (Kubernetes ConfigMaps) changes through other names
	// in the directory: react to every event there; unchanged content is
	// skipped by Reload.
	fi, err := os.Lstat(abs)
	anyName := err == nil && fi.Mode()&os.ModeSymlink != 0

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-hup:
			if !ok {
				hup = nil
				continue
			}
			s.logger.Info("config reload requested by signal", "path", s.path)
			_ = s.Reload() // logged by Reload
			watchScripts()
		case ev, ok := <-w.Events:
			if !ok {
				return fmt.Errorf("config: watch %s: watcher closed", dir)
			}
			if ev.Op == fsnotify.Chmod || (!anyName && !names[filepath.Clean(ev.Name)]) {
				continue
			}
			timer.Reset(debounce)
		case <-timer.C:
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
