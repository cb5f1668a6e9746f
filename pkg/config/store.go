package config

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Store holds the running configuration and replaces it on reload, keeping
// the running one when the new file is invalid.
type Store struct {
	path   string
	logger *slog.Logger
	env    func(string) (string, bool)
	adjust func(*Config) // StoreOptions.Adjust

	cur atomic.Pointer[Config]
	// started is the configuration the process started with: the
	// settings read only at start are its, whatever reloads said since.
	started *Config

	mu       sync.Mutex // serialises reloads and guards the fields below
	lastHash []byte     // of the file behind cur; nil when unknown
	subs     []chan *Config
	// tried are the other files the last reload read or tried to read,
	// failed or not: the watch follows them with the running ones.
	tried []sourceFile

	// failed is the reload refused since the last good one (nil when
	// none), read by /healthz without waiting for a reload under way.
	failed atomic.Pointer[ReloadFailure]
}

// ReloadFailure is a refused reload: the running configuration is the
// one before it, and the file on disk would fail the next start.
type ReloadFailure struct {
	File string
	// Since is when the first reload was refused since the last good
	// one (or since the start).
	Since time.Time
	// Problems is how many problems the last refused reload found (1
	// for a file that could not be read).
	Problems int
}

// Failed reports the reload refused since the last good one, if any: a
// reload refused keeps the running configuration, so only the log said
// so, and `systemctl reload` reported success. A good reload, or the
// file saved back as it runs, clears it.
func (s *Store) Failed() (ReloadFailure, bool) {
	f := s.failed.Load()
	if f == nil {
		return ReloadFailure{}, false
	}
	return *f, true
}

// refused notes a refused reload with its number of problems.
func (s *Store) refused(problems int) {
	f := &ReloadFailure{File: s.path, Since: time.Now(), Problems: problems}
	if prev := s.failed.Load(); prev != nil {
		f.Since = prev.Since
	}
	s.failed.Store(f)
}

// NewStore serves initial (usually from Load) and reloads from path.
func NewStore(path string, initial *Config, logger *slog.Logger) *Store {
	return NewStoreWith(path, initial, logger, StoreOptions{})
}

// StoreOptions change how a Store reloads its file.
type StoreOptions struct {
	// Env looks up the environment variables the file's values and
	// TORITSUGI_* overrides read (default os.LookupEnv): give the one
	// initial was parsed with.
	Env func(string) (string, bool)
	// Adjust, when set, changes every configuration a reload loaded,
	// before it runs: the settings a caller put over initial's file
	// (the demo's simulated PBX, its console login) stay over the file
	// reloaded.
	Adjust func(*Config)
}

// NewStoreWith is NewStore with o's changes to its reloads.
func NewStoreWith(path string, initial *Config, logger *slog.Logger, o StoreOptions) *Store {
	s := &Store{path: path, logger: logger, env: o.Env, adjust: o.Adjust, started: initial}
	if s.env == nil {
		s.env = os.LookupEnv
	}
	s.cur.Store(initial)
	return s
}

// Current is the configuration in force.
func (s *Store) Current() *Config { return s.cur.Load() }

// Subscribe returns a channel that receives the new configuration after each
// successful reload. It holds one value; a slow reader sees the latest.
func (s *Store) Subscribe() <-chan *Config {
	ch := make(chan *Config, 1)
	s.mu.Lock()
	s.subs = append(s.subs, ch)
	s.mu.Unlock()
	return ch
}

// Reload loads and validates the file. On error the current configuration
// stays, the problems are logged at Error, and the error is returned (an
// Errors for invalid content). A file identical to the last one loaded
// changes nothing and notifies nobody.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(s.path)
	if err != nil {
		err = fmt.Errorf("config: reload: %w", err)
		s.refused(1)
		s.logger.Error("config reload failed, keeping the running configuration", "path", s.path, "err", err)
		return err
	}
	if s.lastHash != nil && bytes.Equal(fingerprint(data, s.cur.Load().sources, true), s.lastHash) {
		s.logger.Debug("config unchanged", "path", s.path)
		s.failed.Store(nil) // the file is the running one again
		return nil
	}
	cfg, tried, err := parseRead(s.path, filepath.Dir(s.path), data, s.env)
	s.tried = tried
	if err != nil {
		attrs := []any{"path", s.path}
		n := 1
		if es, ok := AsErrors(err); ok {
			problems := make([]string, len(es))
			for i, e := range es {
				problems[i] = e.Error()
			}
			attrs = append(attrs, "problems", problems)
			n = len(es)
		} else {
			attrs = append(attrs, "err", err)
		}
		s.refused(n) // before the log: whoever reads it finds /healthz saying so
		s.logger.Error("config reload failed, keeping the running configuration", attrs...)
		return err
	}
	if s.adjust != nil {
		s.adjust(cfg)
	}
	s.cur.Store(cfg)
	s.failed.Store(nil)
	s.lastHash = fingerprint(data, cfg.sources, false)
	// Against what runs, not the last reload: a change still waiting for
	// a restart is said at every reload, and one undone is not.
	if keys := RestartNeeded(s.started, cfg); len(keys) > 0 {
		s.logger.Warn("config reloaded, but these settings take effect only at the next start", "path", s.path, "settings", keys)
	}
	for _, ch := range s.subs {
		select { // latest wins: drop an unread older value
		case <-ch:
		default:
		}
		ch <- cfg
	}
	LogWarnings(s.logger, cfg)
	s.logger.Info("config reloaded", "path", s.path, "clients", len(cfg.Clients), "operators", len(cfg.Operators))
	return nil
}

// watched are the files besides the configuration's own whose change
// reloads: the running configuration's, and those the last reload read or
// tried to read (a script it failed on, one it named that is not there
// yet).
func (s *Store) watched() []string {
	s.mu.Lock()
	tried := s.tried
	s.mu.Unlock()
	var out []string
	for _, sc := range append(slices.Clone(s.Current().sources), tried...) {
		if !slices.Contains(out, sc.path) {
			out = append(out, sc.path)
		}
	}
	return out
}

// RestartNeeded lists the settings that differ between the running
// configuration old and a reloaded new one but take effect only when
// toritsugi starts (the ARI connection, the HTTP listener and cookies, the
// data directory, the log level, the sounds check): a reload keeps the old
// values of these. Nil old (no running configuration) lists nothing.
func RestartNeeded(old, new *Config) []string {
	if old == nil || new == nil {
		return nil
	}
	var keys []string
	for _, s := range []struct {
		key     string
		changed bool
	}{
		{"ari.url", old.ARI.URL != new.ARI.URL},
		{"ari.user", old.ARI.User != new.ARI.User},
		{"ari.password", old.ARI.Password != new.ARI.Password},
		{"ari.app", old.ARI.App != new.ARI.App},
		{"ari.request_timeout", old.ARI.RequestTimeout != new.ARI.RequestTimeout},
		{"ari.ping_interval", old.ARI.PingInterval != new.ARI.PingInterval},
		{"http.listen", old.HTTP.Listen != new.HTTP.Listen},
		{"http.api_listen", old.HTTP.APIListen != new.HTTP.APIListen},
		{"http.secure_cookies", old.HTTP.SecureCookies != new.HTTP.SecureCookies},
		{"data_dir", old.DataDir != new.DataDir},
		{"log_level", old.LogLevel != new.LogLevel},
		{"sounds_dir", old.SoundsDir != new.SoundsDir},
	} {
		if s.changed {
			keys = append(keys, s.key)
		}
	}
	return keys
}

// fingerprint identifies a configuration's sources: the file's bytes data
// and the other files it read (scripts, keys), as read when it was parsed,
// or (fresh) as they are now: a script edited or a key replaced with the
// file unchanged is a change.
func fingerprint(data []byte, sources []sourceFile, fresh bool) []byte {
	h := sha256.New()
	d := sha256.Sum256(data)
	h.Write(d[:])
	for _, s := range sources {
		sum := s.sum
		if fresh {
			sum = sourceSum(readScriptFile(s.path))
		}
		h.Write([]byte(s.path + "\x00"))
		h.Write(sum[:])
	}
	return h.Sum(nil)
}

// LogWarnings logs each of cfg's warnings.
func LogWarnings(log *slog.Logger, cfg *Config) {
	for _, w := range cfg.Warnings {
		log.Warn("configuration", "problem", w.Error())
	}
}
