package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/syncbuf"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/password"
	"github.com/toritsugi/toritsugi/pkg/store"
)

func TestRunCommands(t *testing.T) {
	tests := []struct {
		args      []string
		wantUsage bool
		wantOut   string
	}{
		{nil, true, ""},
		{[]string{"bogus"}, true, ""},
		{[]string{"serve"}, true, ""},
		{[]string{"check-config"}, true, ""},
		{[]string{"check-config", "--config"}, true, ""},
		{[]string{"check-config", "a.yaml", "b.yaml"}, true, ""},
		{[]string{"version"}, false, "toritsugi dev\n"},
		{[]string{"help"}, false, "usage:"},
	}
	for _, tt := range tests {
		var out, errw bytes.Buffer
		err := run(context.Background(), tt.args, &out, &errw)
		var u usageError
		if errors.As(err, &u) != tt.wantUsage {
			t.Errorf("run(%q) = %v, want usage error %v", tt.args, err, tt.wantUsage)
		}
		if !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("run(%q) printed %q, want %q", tt.args, out.String(), tt.wantOut)
		}
	}
}

const cfgTemplate = `
ari:
  url: %s
  user: toritsugi
  password: toritsugi
http:
  listen: 127.0.0.1:0
  api_token: test-api-token-0123456789
data_dir: %s
log_level: debug
queue: {wrapup: 0s}
clients:
  - id: acme
    name: 株式会社ACME
    dids: ["03-1234-5678"]
    greeting: sound:hello-world
operators:
  - id: op1001
    name: 佐藤
    endpoint: PJSIP/op1001
    clients: ["*"]
`

func writeConfig(t *testing.T, dir, ariURL string) string {
	t.Helper()
	path := filepath.Join(dir, "toritsugi.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(cfgTemplate, ariURL, filepath.Join(dir, "data"))), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := writeConfig(t, dir, "http://127.0.0.1:8088/ari")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check-config", good}, &out, &out); err != nil || !strings.HasSuffix(out.String(), ": ok\n") {
		t.Fatalf("check-config good = %v, %q", err, out.String())
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("ari:\n  url: http://x/ari\n  usr: me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Each problem on a line of its own, starting with its position (an
	// editor reads them); the error counts them. Both ways of naming the
	// file.
	for _, args := range [][]string{{"check-config", bad}, {"check-config", "--config", bad}, {"check-config", "--config=" + bad}} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		if err == nil || !strings.HasSuffix(err.Error(), "problems") || !strings.Contains(stderr.String(), "\n"+bad+":3:3: ari.usr") && !strings.HasPrefix(stderr.String(), bad+":3:3: ari.usr") {
			t.Fatalf("%q = %v, stderr %q; want a line starting %s:3:3: ari.usr, and the problems counted", args, err, stderr.String(), bad)
		}
		for line := range strings.Lines(stderr.String()) {
			if !strings.HasPrefix(line, bad+":") {
				t.Errorf("%q: problem line %q does not start with the file's position", args, line)
			}
		}
	}
	// A warning does not stop the file: it is printed, then ok.
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	warned := filepath.Join(dir, "warned.yaml")
	data = append(data, "relay:\n  destinations:\n    - {name: t, type: teams, url: \"https://acme.webhook.office.com/webhookb2/x\"}\n"...)
	if err := os.WriteFile(warned, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"check-config", warned}, &out, &out); err != nil ||
		!strings.Contains(out.String(), "warning: "+warned+":") || !strings.Contains(out.String(), "relay.destinations[0].url: is an Office 365 connector URL") ||
		!strings.HasSuffix(out.String(), ": ok\n") {
		t.Fatalf("check-config with a retired Teams URL = %v, %q", err, out.String())
	}
	// A sample's change-me left in a value (not in a comment) is warned
	// of, with its line; the file is ok.
	placeholder := filepath.Join(dir, "placeholder.yaml")
	pdata := append(append([]byte(nil), data...), "    - {name: w, type: webhook, url: \"https://x.example/h\", secret: change-me} # not change-me here\n"...)
	if err := os.WriteFile(placeholder, pdata, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	wantLine := fmt.Sprintf("warning: %s:%d:", placeholder, strings.Count(string(pdata), "\n"))
	wantMsg := "relay.destinations[1].secret: still the sample's \"change-me\""
	if err := run(context.Background(), []string{"check-config", placeholder}, &out, &out); err != nil ||
		!strings.Contains(out.String(), wantLine) || !strings.Contains(out.String(), wantMsg) || strings.Count(out.String(), "change-me") != 1 || !strings.HasSuffix(out.String(), ": ok\n") {
		t.Fatalf("check-config with a change-me = %v, %q; want one warning, %s ... %s", err, out.String(), wantLine, wantMsg)
	}
	// The service's environment replacing that value (the README's way to
	// keep secrets out of the file): no warning.
	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte("TORITSUGI_RELAY_W_SECRET=s3cret-from-env\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"check-config", "--env-file", envFile, placeholder}, &out, &out); err != nil ||
		strings.Contains(out.String(), "change-me") || !strings.HasSuffix(out.String(), ": ok\n") {
		t.Fatalf("check-config with a change-me its environment replaces = %v, %q; want no change-me warning", err, out.String())
	}
}

// TestServeEndToEnd runs the wired service against the fake Asterisk: a call
// is answered, greeted, queued, taken by the operator and recorded, the API shows it, a bad reload keeps
// the running config, a good one's missing sounds are warned of, and shutdown is clean.
func TestServeEndToEnd(t *testing.T) {
	fake, err := aritest.New(aritest.Options{Clock: aritest.ScaledClock(50)})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 5 * time.Second})
	dir := t.TempDir()
	path := writeConfig(t, dir, fake.URL())
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	svc, err := newService(cfg, path, newLogger(&logs, "debug"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- svc.run(ctx, ln, hup) }()
	base := "http://" + ln.Addr().String()

	waitHTTP(t, base+"/healthz", http.StatusOK)
	id, err := fake.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	var calls struct{ Calls []store.CallRecord }
	waitFor(t, func() bool {
		getJSON(t, base+"/api/v1/calls?client=acme", &calls)
		return len(calls.Calls) == 1
	})
	if c := calls.Calls[0]; c.ID != id || c.Result != store.ResultAnswered || c.OperatorID != "op1001" {
		t.Fatalf("API shows %+v, want call %s answered by op1001", c, id)
	}
	// Every route the README lists reaches its handler through the
	// service's router (the monthly reports once answered 404 there).
	month := time.Now().In(time.FixedZone("JST", 9*3600)).Format("2006-01")
	for _, route := range []string{
		"/api/v1/calls?client=acme&format=csv", "/api/v1/clients/acme/counts?month=" + month,
		"/api/v1/reports/clients?month=" + month, "/api/v1/reports/operators?month=" + month + "&format=csv",
		"/api/v1/callbacks", "/api/v1/relay", "/api/v1/backup",
	} {
		resp, body := apiGet(t, base+route)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %.200s", route, resp.StatusCode, body)
		}
	}
	for route, want := range map[string]int{"/api/v1/console/state": http.StatusUnauthorized, "/api/v1/nothing-here": http.StatusNotFound} {
		resp, err := http.Get(base + route)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", route, resp.StatusCode, want)
		}
	}

	// A broken config on SIGHUP is refused; the running one stays.
	if err := os.WriteFile(path, []byte("clients: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	waitFor(t, func() bool { return strings.Contains(logs.String(), "toritsugi.yaml:") })
	if got := svc.configs.Current().Clients[0].ID; got != "acme" {
		t.Fatalf("after a bad reload the running config has client %q", got)
	}
	// /healthz names it (only the log did; `systemctl reload` reports
	// success, and the file would fail the next start), degraded, with a
	// 200: calls go on.
	health := func() (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	code, h := health()
	if c, _ := h["config"].(map[string]any); code != http.StatusOK || h["status"] != "degraded" || c == nil ||
		c["reload"] != "failed" || c["file"] != path || c["problems"] != 1.0 || c["since"] == "" {
		t.Fatalf("/healthz after a refused reload: %d %v", code, h)
	}
	// A good one whose greeting sounds_dir lacks is applied, with a
	// warning (it was checked at start only: a client added by a reload
	// with a greeting not installed went unnoticed).
	sounds := filepath.Join(dir, "sounds")
	if err := os.Mkdir(sounds, 0o755); err != nil {
		t.Fatal(err)
	}
	good := fmt.Sprintf(cfgTemplate, fake.URL(), filepath.Join(dir, "data")) + "sounds_dir: " + sounds + "\n"
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	waitFor(t, func() bool {
		return svc.configs.Current().SoundsDir == sounds && strings.Contains(logs.String(), "greeting or announcement not playable") &&
			strings.Contains(logs.String(), "hello-world")
	})
	if code, h := health(); code != http.StatusOK || h["status"] != "ok" || h["config"] != nil {
		t.Fatalf("/healthz after a good reload: %d %v", code, h)
	}
	id2, err := fake.IncomingCall("0312345678", "0901234568")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		getJSON(t, base+"/api/v1/calls?client=acme", &calls)
		return len(calls.Calls) == 2 && calls.Calls[1].ID == id2
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("service did not stop")
	}
	svc.close()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitHTTP(t *testing.T, url string, code int) {
	t.Helper()
	waitFor(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == code
	})
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	_, body := apiGet(t, url)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatal(err)
	}
}

// apiGet GETs url with the test's API token and reads the whole body.
func apiGet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test-api-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestShippedAsteriskConfAgreesWithSample: the Asterisk kit users install
// and the sample configuration name the same app and operators; the check
// refuses the kit until its placeholders are filled in.
func TestShippedAsteriskConfAgreesWithSample(t *testing.T) {
	t.Setenv("TORITSUGI_ARI_PASSWORD", "x")
	var out bytes.Buffer
	err := run(context.Background(), []string{"asterisk-conf", "--config", "../../pkg/config/sample.yaml", "--check", "../../asterisk-conf"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "still the kit's placeholder") {
		t.Fatalf("asterisk-conf --check of the kit as shipped: %v, want its placeholders reported", err)
	}
	filled := t.TempDir()
	paths, _ := filepath.Glob("../../asterisk-conf/*.conf")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(strings.ReplaceAll(string(b), "CHANGE_ME_", "Zq8w-7hT2-"), "203.0.113.10", "10.20.30.40")
		if err := os.WriteFile(filepath.Join(filled, filepath.Base(p)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Asterisk's data directory on this machine, with its hold music.
	data := t.TempDir()
	if err := os.Mkdir(filepath.Join(data, "moh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "moh", "macroform-the_simplicity.wav"), []byte("RIFF"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	// (--data-dir: this machine's own /var/lib/asterisk is not looked at.)
	if err := run(context.Background(), []string{"asterisk-conf", "--config", "../../pkg/config/sample.yaml", "--check", filled, "--data-dir", data}, &out, &out); err != nil {
		t.Fatalf("asterisk-conf --check of the kit filled in: %v", err)
	}
	if !strings.Contains(out.String(), "agrees with") {
		t.Errorf("asterisk-conf --check said %q", out.String())
	}
	out.Reset()
	t.Setenv("TORITSUGI_SIP_PASSWORD_OP1001", "s3cret-Kq7-x9")
	if err := run(context.Background(), []string{"asterisk-conf", "--config", "../../pkg/config/sample.yaml"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[op1001](operator-endpoint)", "password = s3cret-Kq7-x9", "password = CHANGE_ME_op1004", `callerid = "佐藤 花子" <op1001>`,
		"asterisk-conf: no TORITSUGI_SIP_PASSWORD_OP1002, TORITSUGI_SIP_PASSWORD_OP1003, TORITSUGI_SIP_PASSWORD_OP1004: those operators got a CHANGE_ME placeholder"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("rendered operators lack %q:\n%s", want, out.String())
		}
	}
}

func TestHashPassword(t *testing.T) {
	var out bytes.Buffer
	if err := hashPassword(strings.NewReader("correct horse battery\n"), &out); err != nil {
		t.Fatal(err)
	}
	h := strings.TrimSpace(out.String())
	if !strings.HasPrefix(h, "$argon2id$") || !password.Check(h, "correct horse battery") || password.Check(h, "wrong") {
		t.Fatalf("hash %q does not verify", h)
	}
	var u usageError
	if err := hashPassword(strings.NewReader("short\n"), &out); !errors.As(err, &u) {
		t.Fatalf("short password: %v, want a usage error", err)
	}
}

func TestGreetingCommand(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ in, out string }{
		{"../../pkg/audio/testdata/tone1k_44100_stereo.mp3", filepath.Join(dir, "acme-greeting.sln")},
		{"../../pkg/audio/testdata/tone1k_16000_mono.mp3", filepath.Join(dir, "acme-greeting.ulaw")},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"greeting", tc.in, tc.out}, &out, &out); err != nil {
			t.Fatalf("greeting %s: %v", tc.in, err)
		}
		if !strings.Contains(out.String(), "8 kHz mono") {
			t.Fatalf("output %q", out.String())
		}
		if _, err := os.Stat(tc.out + ".tmp"); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("temporary file left behind")
		}
	}
	var out bytes.Buffer
	var u usageError
	if err := run(context.Background(), []string{"greeting", "x.wav", filepath.Join(dir, "x.mp3")}, &out, &out); !errors.As(err, &u) {
		t.Fatalf("bad output format: %v, want a usage error", err)
	}
	if err := run(context.Background(), []string{"greeting", filepath.Join(dir, "none.wav"), filepath.Join(dir, "o.sln")}, &out, &out); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing input: %v", err)
	}
}

// TestGreetingReadableByAsterisk: converted by root on a hardened server
// (umask 077), a greeting was 0600 root's, which Asterisk, running as its
// own user, could not play: it is 0644 whatever the umask.
func TestGreetingReadableByAsterisk(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	out := filepath.Join(t.TempDir(), "acme-greeting.sln")
	var b bytes.Buffer
	if err := run(context.Background(), []string{"greeting", "../../pkg/audio/testdata/tone1k_16000_mono.mp3", out}, &b, &b); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("greeting %v (%v), want mode 0644", fi.Mode(), err)
	}
}

func TestCheckConfigChecksSounds(t *testing.T) {
	dir := t.TempDir()
	sounds := filepath.Join(dir, "sounds")
	if err := os.MkdirAll(filepath.Join(sounds, "toritsugi"), 0o750); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"greeting", "../../pkg/audio/testdata/tone1k_16000_mono.mp3", filepath.Join(sounds, "toritsugi", "acme.sln")}, &out, &out); err != nil {
		t.Fatal(err)
	}
	cfg := func(greeting string) string {
		p := filepath.Join(dir, "c.yaml")
		body := fmt.Sprintf("ari: {user: u, password: p}\ndata_dir: %s\nsounds_dir: %s\nclients:\n  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: %q, whisper_sound: \"\"}\noperators: [{id: op1, name: O, endpoint: PJSIP/op1, clients: [\"*\"]}]\n", dir, sounds, greeting)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Without Asterisk's core sounds (a source build without them), the
	// core prompts the configuration names are missing: said.
	out.Reset()
	err := run(context.Background(), []string{"check-config", cfg("sound:toritsugi/acme")}, &out, &out)
	if err == nil || !strings.Contains(out.String(), "unknown_did_sound sound:ss-noservice: Asterisk's core prompt \"ss-noservice\" is not in "+sounds+"/en") ||
		!strings.Contains(out.String(), "answer_silence sound:silence/1") {
		t.Fatalf("core prompts missing: %v, %q", err, out.String())
	}
	for _, f := range []string{"en/ss-noservice.gsm", "en/silence/1.gsm", "ja/vm-nobodyavail.ulaw"} {
		p := filepath.Join(sounds, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"check-config", cfg("sound:toritsugi/acme")}, &out, &out); err != nil {
		t.Fatalf("a converted greeting fails the check: %v, %q", err, out.String())
	}
	out.Reset()
	err = run(context.Background(), []string{"check-config", cfg("sound:toritsugi/missing")}, &out, &out)
	if err == nil || !strings.Contains(out.String(), "client acme greeting sound:toritsugi/missing") {
		t.Fatalf("a missing greeting: %v, %q", err, out.String())
	}
	// As a reload takes the file (the unit's ExecReload): serve loads it
	// with the sound missing warned of, so the check passes and says so.
	out.Reset()
	err = run(context.Background(), []string{"check-config", "--reload", "--config", cfg("sound:toritsugi/missing")}, &out, &out)
	if err != nil || !strings.Contains(out.String(), "warning: ") || !strings.Contains(out.String(), "client acme greeting sound:toritsugi/missing") || !strings.HasSuffix(out.String(), ": ok\n") {
		t.Fatalf("a missing greeting checked as a reload: %v, %q; want a warning, then ok", err, out.String())
	}
}

// TestCheckDB: check-db reports a good file's contents and refuses a
// damaged one, with the usage on a wrong argument count.
func TestCheckDB(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "copy.db")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check-db", path}, &out, &out); err != nil || out.String() != path+": ok (schema 2, 0 call records, 0 messages)\n" {
		t.Fatalf("check-db good = %v, %q", err, out.String())
	}
	bad := filepath.Join(dir, "bad.db")
	if err := os.WriteFile(bad, bytes.Repeat([]byte{0xff}, 1<<16), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"check-db", bad}, &out, &out); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("check-db damaged = %v, want ErrCorrupt", err)
	}
	var u usageError
	if err := run(context.Background(), []string{"check-db"}, &out, &out); !errors.As(err, &u) {
		t.Fatalf("check-db without a file = %v, want the usage", err)
	}
}
