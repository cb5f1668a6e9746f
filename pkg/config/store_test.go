package config

import (
	"bytes"
	"context"
	"fmt"
	"github.com/toritsugi/toritsugi/pkg/syncbuf"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

const waitLimit = 5 * time.Second

func configText(logLevel string) string {
	return "ari: {user: u, password: p}\ndata_dir: /d\nlog_level: " + logLevel + "\n" + staff
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replaceFile writes a new file next to path and renames it over path, as
// many editors and config-management tools do.
func replaceFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, text)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func newTestStore(t *testing.T, logOut io.Writer) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "toritsugi.yaml")
	writeFile(t, path, configText("info"))
	cfg, err := load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(path, cfg, slog.New(slog.NewTextHandler(logOut, nil)))
	s.env = noEnv
	return s, path
}

func receive(t *testing.T, ch <-chan *Config) *Config {
	t.Helper()
	select {
	case cfg := <-ch:
		return cfg
	case <-time.After(waitLimit):
		t.Fatal("no configuration notified in time")
		return nil
	}
}

func assertNothing(t *testing.T, ch <-chan *Config) {
	t.Helper()
	select {
	case cfg := <-ch:
		t.Fatalf("unexpected notification: log_level=%s", cfg.LogLevel)
	default:
	}
}

func TestReloadSwaps(t *testing.T) {
	s, path := newTestStore(t, io.Discard)
	sub := s.Subscribe()
	writeFile(t, path, configText("debug"))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := s.Current().LogLevel; got != "debug" {
		t.Errorf("Current().LogLevel = %q, want debug", got)
	}
	if got := receive(t, sub); got != s.Current() {
		t.Errorf("notified %p, current %p", got, s.Current())
	}
	// The same bytes again change nothing.
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	assertNothing(t, sub)
}

// TestReloadWithWarningApplies: a file with a warning is applied, and the
// warning logged with its line.
func TestReloadWithWarningApplies(t *testing.T) {
	var logs bytes.Buffer
	s, path := newTestStore(t, &logs)
	writeFile(t, path, configText("debug")+"relay:\n  destinations:\n    - {name: t, type: teams, url: \"https://outlook.office.com/webhook/x\"}\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if s.Current().LogLevel != "debug" || len(s.Current().Warnings) != 1 {
		t.Fatalf("reloaded %q with warnings %v", s.Current().LogLevel, s.Current().Warnings)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "relay.destinations[0].url: is an Office 365 connector URL") {
		t.Errorf("log lacks the warning:\n%s", out)
	}
}

func TestReloadInvalidKeepsCurrent(t *testing.T) {
	var logs bytes.Buffer
	s, path := newTestStore(t, &logs)
	before := s.Current()
	sub := s.Subscribe()
	writeFile(t, path, configText("loud")+"clientz: []\n")
	err := s.Reload()
	es, ok := AsErrors(err)
	if !ok || len(es) != 2 {
		t.Fatalf("Reload error = %v, want 2 field errors", err)
	}
	if s.Current() != before {
		t.Error("invalid reload replaced the configuration")
	}
	assertNothing(t, sub)
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, `log_level: \"loud\" is not one of`) {
		t.Errorf("log lacks the problems:\n%s", out)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil || s.Current() != before {
		t.Errorf("reload of a missing file: err=%v, kept=%v", err, s.Current() == before)
	}
}

// TestRefusedReloadReported: a refused reload keeps the running
// configuration, and was said only in the log; Failed reports it (for
// /healthz) from the first refusal, with the last one's problems, until
// a good reload or the file saved back as it runs.
func TestRefusedReloadReported(t *testing.T) {
	s, path := newTestStore(t, io.Discard)
	if f, failed := s.Failed(); failed {
		t.Fatalf("at start: %+v", f)
	}
	steps := []struct {
		name     string
		text     string // "" removes the file
		problems int    // 0: no refusal reported
		sameAs   int    // the step whose Since stays (-1: a new one)
	}{
		{"two problems", configText("loud") + "clientz: []\n", 2, -1},
		{"one problem, since the first", configText("loud"), 1, 0},
		{"unreadable, since the first", "", 1, 0},
		{"a good one clears it", configText("debug"), 0, -1},
		{"refused again", configText("info") + "operators: []\n", 1, -1},
		{"saved back as it runs", configText("debug"), 0, -1},
	}
	since := make([]time.Time, len(steps))
	for i, st := range steps {
		before := time.Now()
		if st.text == "" {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		} else {
			writeFile(t, path, st.text)
		}
		err := s.Reload()
		f, failed := s.Failed()
		if st.problems == 0 {
			if err != nil || failed {
				t.Fatalf("%s: reload %v, still reported %+v", st.name, err, f)
			}
			continue
		}
		if err == nil || !failed || f.File != path || f.Problems != st.problems {
			t.Fatalf("%s: reload %v, reported %v %+v; want %d problems in %s", st.name, err, failed, f, st.problems, path)
		}
		since[i] = f.Since
		switch {
		case st.sameAs >= 0 && !f.Since.Equal(since[st.sameAs]):
			t.Errorf("%s: since %v, want the first refusal's %v", st.name, f.Since, since[st.sameAs])
		case st.sameAs < 0 && (f.Since.Before(before) || f.Since.After(time.Now())):
			t.Errorf("%s: since %v, want now", st.name, f.Since)
		}
	}
}

func TestSubscribeLatestWins(t *testing.T) {
	s, path := newTestStore(t, io.Discard)
	sub := s.Subscribe()
	for _, level := range []string{"debug", "warn", "error"} {
		writeFile(t, path, configText(level))
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	if got := receive(t, sub); got.LogLevel != "error" {
		t.Errorf("got log_level %q, want the latest (error)", got.LogLevel)
	}
	assertNothing(t, sub)
}

func TestWatch(t *testing.T) {
	s, path := newTestStore(t, io.Discard)
	sub := s.Subscribe()
	ctx, cancel := context.WithCancel(t.Context())
	hup := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() { defer close(done); s.Watch(ctx, hup) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Error("Watch did not return after cancel")
		}
	}()

	// A signal reloads; its notification also shows the watch is running.
	hup <- os.Interrupt
	if got := receive(t, sub); got.LogLevel != "info" {
		t.Fatalf("after SIGHUP: log_level %q", got.LogLevel)
	}

	replaceFile(t, path, configText("debug"))
	if got := receive(t, sub); got.LogLevel != "debug" {
		t.Fatalf("after rename-replace: log_level %q", got.LogLevel)
	}

	// A burst (an invalid intermediate file, an unrelated file, a rename)
	// ends with the final content; an invalid state is never notified.
	writeFile(t, path, configText("shouting"))
	writeFile(t, path+".other", "unrelated file in the same directory\n")
	replaceFile(t, path, configText("warn"))
	if got := receive(t, sub); got.LogLevel != "warn" {
		t.Fatalf("after a burst of writes: log_level %q", got.LogLevel)
	}
	if s.Current().LogLevel != "warn" {
		t.Errorf("Current().LogLevel = %q", s.Current().LogLevel)
	}
}

// TestWatchFallsBackToSignals: when files cannot be watched (here: no
// inotify instance left for the user), Watch says so and SIGHUP still
// reloads; it used to return, and nothing read the signals after.
func TestWatchFallsBackToSignals(t *testing.T) {
	var logs syncbuf.Buffer
	s, path := newTestStore(t, &logs)
	defer func(orig func() (*fsnotify.Watcher, error)) { newWatcher = orig }(newWatcher)
	newWatcher = func() (*fsnotify.Watcher, error) { return nil, syscall.EMFILE }
	sub := s.Subscribe()
	hup := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); s.Watch(ctx, hup) }()
	defer func() { cancel(); <-done }()
	writeFile(t, path, configText("debug"))
	hup <- syscall.SIGHUP
	if got := receive(t, sub); got.LogLevel != "debug" {
		t.Fatalf("after SIGHUP: log_level %q", got.LogLevel)
	}
	if !strings.Contains(logs.String(), "config watch stopped") || !strings.Contains(logs.String(), "too many open files") {
		t.Errorf("the failed watch was not logged with its cause:\n%s", logs.String())
	}
}

// TestWatchFollowsALinksTarget: the configuration file is a link to a
// file elsewhere (a checkout): saving that file reloads, as saving the
// file itself does.
func TestWatchFollowsALinksTarget(t *testing.T) {
	target := filepath.Join(t.TempDir(), "toritsugi.yaml")
	writeFile(t, target, configText("info"))
	link := filepath.Join(t.TempDir(), "toritsugi.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(link, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(link, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.env = noEnv
	sub := s.Subscribe()
	hup := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); s.Watch(ctx, hup) }()
	defer func() { cancel(); <-done }()
	// The signal's reload is handled after the watch has started.
	writeFile(t, target, configText("warn"))
	hup <- syscall.SIGHUP
	if got := receive(t, sub); got.LogLevel != "warn" {
		t.Fatalf("after SIGHUP: log_level %q", got.LogLevel)
	}
	replaceFile(t, target, configText("debug"))
	if got := receive(t, sub); got.LogLevel != "debug" {
		t.Fatalf("after saving the link's target: log_level %q", got.LogLevel)
	}
}

// TestWatchMissingDirectory: a directory that cannot be watched is logged;
// Watch still returns when its context ends.
func TestWatchMissingDirectory(t *testing.T) {
	var logs syncbuf.Buffer
	s := NewStore(filepath.Join(t.TempDir(), "gone", "c.yaml"), nil, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); s.Watch(ctx, nil) }()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(logs.String(), "config watch stopped") {
		if time.Now().After(deadline) {
			t.Fatalf("a missing directory was not logged:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatal("Watch did not return after cancel")
	}
}

// TestReloadNamesSettingsThatNeedARestart: a reload that changes settings
// read only at start says which, so that an admin who rotated the ARI
// password or moved the listener knows to restart.
func TestReloadNamesSettingsThatNeedARestart(t *testing.T) {
	var logs bytes.Buffer
	s, path := newTestStore(t, &logs)
	writeFile(t, path, "ari: {user: u, password: rotated}\ndata_dir: /d\nlog_level: debug\nhttp: {listen: \"127.0.0.1:9090\"}\n"+staff)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "take effect only at the next start") ||
		!strings.Contains(logs.String(), "settings=\"[ari.password http.listen log_level]\"") {
		t.Fatalf("log:\n%s", logs.String())
	}
	// Against what runs, not the last reload: still waiting for a restart
	// at the next reload, and said again; undone, not said.
	logs.Reset()
	writeFile(t, path, "ari: {user: u, password: rotated}\ndata_dir: /d\nlog_level: debug\nhttp: {listen: \"127.0.0.1:9090\"}\nqueue: {max_wait: 3m}\n"+staff)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "settings=\"[ari.password http.listen log_level]\"") {
		t.Fatalf("a second reload, the changes still waiting for a restart: log:\n%s", logs.String())
	}
	logs.Reset()
	writeFile(t, path, configText("info"))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "take effect only at the next start") {
		t.Fatalf("the changes undone: log:\n%s", logs.String())
	}
}

func TestRestartNeeded(t *testing.T) {
	base := func() *Config {
		return &Config{ARI: ARI{URL: "http://127.0.0.1:8088/ari", User: "u", Password: "p", App: "toritsugi", RequestTimeout: 2 * time.Second, PingInterval: 5 * time.Second},
			HTTP: HTTP{Listen: "127.0.0.1:8080", APIToken: "t"}, DataDir: "/d", LogLevel: "info", Trunk: "PJSIP/trunk"}
	}
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"nothing", func(*Config) {}, ""},
		{"settings read live", func(c *Config) { c.HTTP.APIToken, c.Trunk, c.UnknownDIDSound = "t2", "PJSIP/other", "sound:x" }, ""},
		{"the ARI connection", func(c *Config) {
			c.ARI.URL, c.ARI.App, c.ARI.PingInterval = "http://pbx:8088/ari", "other", time.Second
		}, "ari.url ari.app ari.ping_interval"},
		{"cookies, data and sounds", func(c *Config) { c.HTTP.SecureCookies, c.DataDir, c.SoundsDir = true, "/e", "/s" }, "http.secure_cookies data_dir sounds_dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := base()
			tc.change(n)
			if got := strings.Join(RestartNeeded(base(), n), " "); got != tc.want {
				t.Fatalf("RestartNeeded = %q, want %q", got, tc.want)
			}
		})
	}
	if got := RestartNeeded(nil, base()); got != nil {
		t.Fatalf("without a running configuration: %v", got)
	}
}

// scriptStore is a store whose client acme reads its intake script from
// acme.yaml beside the file; it returns the script's path.
func scriptStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	script, err := os.ReadFile("testdata/scripts/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	scriptPath := filepath.Join(dir, "acme.yaml")
	writeFile(t, scriptPath, string(script))
	return storeWithScript(t, dir, "acme.yaml"), scriptPath
}

// storeWithScript is a store for toritsugi.yaml in dir, written with one
// client, acme, whose intake script is at script (relative to dir).
func storeWithScript(t *testing.T, dir, script string) *Store {
	t.Helper()
	path := filepath.Join(dir, "toritsugi.yaml")
	writeFile(t, path, "ari: {user: u, password: p}\ndata_dir: /d\nclients:\n"+
		"  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: \"sound:g\", script: "+script+"}\n"+anOperator)
	cfg, err := load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(path, cfg, slog.New(slog.DiscardHandler))
	s.env = noEnv
	return s
}

// renameScript gives the script at path another name (its name: line).
// scriptNameLine is the script's top-level name: line.
var scriptNameLine = regexp.MustCompile(`(?m)^()name: .*$`)

func renameScript(t *testing.T, path, name string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := scriptNameLine.ReplaceAllString(string(b), "${1}name: "+name)
	if text == string(b) {
		t.Fatal("the script has no name line")
	}
	replaceFile(t, path, text)
}

func scriptName(s *Store) string {
	cl, _ := s.Current().Client("acme")
	return cl.Script().Name
}

// TestReloadFollowsScripts: an edited intake script is a change of the
// configuration even when the file itself is unchanged: a reload (SIGHUP)
// reads it, and the watch sees it saved.
func TestReloadFollowsScripts(t *testing.T) {
	t.Run("reload", func(t *testing.T) {
		s, script := scriptStore(t)
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		renameScript(t, script, "改訂版")
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		if got := scriptName(s); got != "改訂版" {
			t.Fatalf("script after the reload: %q", got)
		}
	})
	t.Run("watch", func(t *testing.T) {
		s, script := scriptStore(t)
		watchUntilScriptNamed(t, s, func(name string) {
			renameScript(t, script, name)
		})
	})
}

// TestWatchFollowsConfigMapScripts: a script mounted as a Kubernetes
// ConfigMap (acme.yaml → ..data/acme.yaml, ..data → a dated directory) is
// updated by swapping the ..data link, which raises events for other
// names only; the watch follows it all the same.
func TestWatchFollowsConfigMapScripts(t *testing.T) {
	dir := t.TempDir()
	script, err := os.ReadFile("testdata/scripts/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	version := func(name, text string) {
		if err := os.MkdirAll(filepath.Join(dir, "scripts", name), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "scripts", name, "acme.yaml"), text)
	}
	version("..2026_11_29_1", string(script))
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(dir, "scripts", name)); err != nil {
			t.Fatal(err)
		}
	}
	link("..2026_11_29_1", "..data")
	link("..data/acme.yaml", "acme.yaml")
	s := storeWithScript(t, dir, "scripts/acme.yaml")
	// Kubelet's update: a new dated directory, a ..data_tmp link to it,
	// renamed over ..data.
	i := 1
	watchUntilScriptNamed(t, s, func(name string) {
		i++
		dated := fmt.Sprintf("..2026_11_29_%d", i)
		version(dated, strings.Replace(string(script), "name: 株式会社アクメ 分岐あり受付", "name: "+name, 1))
		link(dated, "..data_tmp")
		if err := os.Rename(filepath.Join(dir, "scripts", "..data_tmp"), filepath.Join(dir, "scripts", "..data")); err != nil {
			t.Fatal(err)
		}
	})
}

// watchUntilScriptNamed runs s.Watch and changes acme's script with
// update (to a new name each time) until a reload notifies a script of
// that name: the watch starts asynchronously, so the first changes may
// come before it looks.
func watchUntilScriptNamed(t *testing.T, s *Store, update func(name string)) {
	t.Helper()
	sub := s.Subscribe()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); s.Watch(ctx, nil) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(waitLimit)
	for i := 0; ; i++ {
		name := fmt.Sprintf("改訂版%d", i)
		update(name)
		select {
		case cfg := <-sub:
			if cl, _ := cfg.Client("acme"); cl.Script().Name == name {
				return
			}
		case <-time.After(300 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("changing the script reloaded nothing")
		}
	}
}

// TestReloadOfAnEmptyFileKeepsTheRunningConfig: with the required
// settings in the environment, a file caught empty while being written
// (truncated, not yet filled) is refused, not applied as a configuration
// without clients or operators (every new call would hear "not in
// service"); so is one holding comments only.
func TestReloadOfAnEmptyFileKeepsTheRunningConfig(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"TORITSUGI_ARI_USER": "u", "TORITSUGI_ARI_PASSWORD": "p", "TORITSUGI_DATA_DIR": "/d"}[k]
		return v, ok
	}
	path := filepath.Join(t.TempDir(), "toritsugi.yaml")
	writeFile(t, path, "clients:\n  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: \"sound:x\"}\noperators:\n  - {id: op1, name: A, endpoint: PJSIP/op1, clients: [\"*\"]}\n")
	cfg, err := load(path, env)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(path, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.env = env
	for _, text := range []string{"", "\n  \n", "# being written\n"} {
		writeFile(t, path, text)
		if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "holds no settings") {
			t.Errorf("reload of %q: %v; want it refused as holding no settings", text, err)
		}
		if c := s.Current(); len(c.Clients) != 1 || len(c.Operators) != 1 {
			t.Errorf("after a reload of %q: %d clients, %d operators; want the running 1 and 1", text, len(c.Clients), len(c.Operators))
		}
	}
}

// TestWatchSurvivesItsDirectoryMadeAgain: a deploy deletes the
// configuration's directory and copies it anew. inotify drops the watch of
// the deleted directory, and saving the file never reloaded again (not
// even after a SIGHUP). The directory is watched again once it is back,
// and what it holds then is read.
func TestWatchSurvivesItsDirectoryMadeAgain(t *testing.T) {
	was := rewatchEvery
	rewatchEvery = 50 * time.Millisecond
	t.Cleanup(func() { rewatchEvery = was })
	dir := filepath.Join(t.TempDir(), "conf")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "toritsugi.yaml")
	writeFile(t, path, configText("info"))
	cfg, err := load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(path, cfg, slog.New(slog.DiscardHandler))
	s.env = noEnv
	sub := watching(t, s)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, configText("warn"))
	if got := receive(t, sub); got.LogLevel != "warn" {
		t.Fatalf("the copy in the directory made again: log_level %q", got.LogLevel)
	}
	replaceFile(t, path, configText("debug")) // a later ordinary save
	if got := receive(t, sub); got.LogLevel != "debug" {
		t.Fatalf("a save after that: log_level %q", got.LogLevel)
	}
}

// TestWatchFollowsTheScriptAFailedReloadNamed: a client added with a script
// not written yet (or written with a mistake) fails the reload; saving
// the script then reloads, without a SIGHUP, in the configuration's
// directory and in one made after the failure.
func TestWatchFollowsTheScriptAFailedReloadNamed(t *testing.T) {
	was := rewatchEvery
	rewatchEvery = 50 * time.Millisecond
	t.Cleanup(func() { rewatchEvery = was })
	script, err := os.ReadFile("testdata/scripts/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, script string
		broken       bool // written first with a mistake, then fixed
	}{
		{"missing", "beta.yaml", false},
		{"broken", "beta.yaml", true},
		{"missing in a directory made later", "more/beta.yaml", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "acme.yaml"), string(script))
			s := storeWithScript(t, dir, "acme.yaml")
			var logs syncbuf.Buffer
			s.logger = slog.New(slog.NewTextHandler(&logs, nil))
			sub := watching(t, s)

			betaPath := filepath.Join(dir, tc.script)
			if tc.broken {
				writeFile(t, betaPath, "name: [unclosed\n")
			}
			replaceFile(t, filepath.Join(dir, "toritsugi.yaml"), "ari: {user: u, password: p}\ndata_dir: /d\nclients:\n"+
				"  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: \"sound:g\", script: acme.yaml}\n"+
				"  - {id: beta, name: BETA, dids: [\"03-1234-0000\"], greeting: \"sound:g\", script: "+tc.script+"}\n"+anOperator)
			deadline := time.Now().Add(waitLimit)
			for !strings.Contains(logs.String(), "config reload failed") {
				if time.Now().After(deadline) {
					t.Fatalf("the reload did not fail; log:\n%s", logs.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			assertNothing(t, sub)
			if err := os.MkdirAll(filepath.Dir(betaPath), 0o755); err != nil {
				t.Fatal(err)
			}
			replaceFile(t, betaPath, string(script))
			got := receive(t, sub)
			if _, ok := got.Client("beta"); !ok {
				t.Fatal("the reload after the script was saved has no client beta")
			}
		})
	}
}

// TestWatchWaitsForAFileWrittenInPlace: a file written in place in two
// parts with a pause between (scp on a slow link) is not read after the
// first part, whose half (one client of two) would parse: the reload
// waits for the writer to be quiet for a second.
func TestWatchWaitsForAFileWrittenInPlace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "toritsugi.yaml")
	head := "ari: {user: u, password: p}\ndata_dir: /d\n" + anOperator + "clients:\n" +
		"  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: \"sound:g\"}\n"
	writeFile(t, path, head)
	cfg, err := load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(path, cfg, slog.New(slog.DiscardHandler))
	s.env = noEnv
	sub := watching(t, s)

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The first part: the same client and log level debug, a change.
	if _, err := f.WriteString("log_level: debug\n" + head); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := f.WriteString("  - {id: beta, name: BETA, dids: [\"03-1234-0000\"], greeting: \"sound:g\"}\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got := receive(t, sub)
	if _, ok := got.Client("beta"); !ok {
		t.Fatalf("reloaded with the file's first part only: clients %d", len(got.Clients))
	}
	if got.LogLevel != "debug" {
		t.Fatalf("log_level %q", got.LogLevel)
	}
}

// TestWatchForgetsALinksOldTargets: a script mounted as a ConfigMap is
// updated through a new dated directory each time, the old one deleted;
// the watch follows each and keeps only the current one (it kept every
// one before, looked for each deleted one every 2 s).
func TestWatchForgetsALinksOldTargets(t *testing.T) {
	var mu sync.Mutex
	var watched []string
	onWatchSet = func(dirs []string) { mu.Lock(); watched = dirs; mu.Unlock() }
	t.Cleanup(func() { onWatchSet = nil })
	dir := t.TempDir()
	script, err := os.ReadFile("testdata/scripts/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	scripts := filepath.Join(dir, "scripts")
	version := func(i int, name string) string {
		dated := fmt.Sprintf("..2026_11_30_%d", i)
		if err := os.MkdirAll(filepath.Join(scripts, dated), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(scripts, dated, "acme.yaml"), strings.Replace(string(script), "name: 株式会社アクメ 分岐あり受付", "name: "+name, 1))
		return dated
	}
	if err := os.Symlink(version(0, "v0"), filepath.Join(scripts, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/acme.yaml", filepath.Join(scripts, "acme.yaml")); err != nil {
		t.Fatal(err)
	}
	s := storeWithScript(t, dir, "scripts/acme.yaml")
	sub := watching(t, s)
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("v%d", i)
		dated := version(i, name)
		if err := os.Symlink(dated, filepath.Join(scripts, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(scripts, "..data_tmp"), filepath.Join(scripts, "..data")); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(scripts, fmt.Sprintf("..2026_11_30_%d", i-1))); err != nil {
			t.Fatal(err)
		}
		for {
			cfg := receive(t, sub)
			if cl, _ := cfg.Client("acme"); cl.Script().Name == name {
				break
			}
		}
	}
	deadline := time.Now().Add(waitLimit)
	for {
		mu.Lock()
		got := slices.Clone(watched)
		mu.Unlock()
		want := []string{dir, scripts, filepath.Join(scripts, "..2026_11_30_6")}
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("watched %q after six updates, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// watching starts s.Watch until the test ends and returns a subscription
// to its reloads, once the files are watched.
func watching(t *testing.T, s *Store) <-chan *Config {
	t.Helper()
	sub := s.Subscribe()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); s.Watch(ctx, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(200 * time.Millisecond) // watching
	return sub
}

// TestReloadWithStoreOptions: a store made with StoreOptions reads the
// environment through its Env and passes every configuration it reloads
// through Adjust before anyone sees it (the demo keeps its simulated
// PBX's settings and its console login over its sample file).
func TestReloadWithStoreOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.yaml")
	writeFile(t, path, configText("info"))
	env := func(k string) (string, bool) {
		if k == "TORITSUGI_DATA_DIR" {
			return "/from-env", true
		}
		return "", false
	}
	cfg, err := load(path, env)
	if err != nil {
		t.Fatal(err)
	}
	adjust := func(c *Config) { c.Operators[0].Supervisor = true }
	adjust(cfg)
	s := NewStoreWith(path, cfg, slog.New(slog.DiscardHandler), StoreOptions{Env: env, Adjust: adjust})
	ch := s.Subscribe()
	writeFile(t, path, configText("debug"))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	got := receive(t, ch)
	if got.LogLevel != "debug" || got.DataDir != "/from-env" || !got.Operators[0].Supervisor {
		t.Errorf("reloaded log_level %q, data_dir %q, supervisor %v; want debug, /from-env (Env), true (Adjust)",
			got.LogLevel, got.DataDir, got.Operators[0].Supervisor)
	}
	if s.Current() != got {
		t.Error("Current is not the configuration notified")
	}
}
