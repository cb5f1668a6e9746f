package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSystemdUnit: the shipped unit runs what the README says, reloads
// with SIGHUP, keeps data_dir where the sample configuration has it, and
// gives a stop as long as the compose file does.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("../../docs/toritsugi.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	var reload []string
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
			if k == "ExecReload" {
				reload = append(reload, v)
			}
		}
	}
	want := map[string]string{
		"ExecStart":      "/usr/local/bin/toritsugi serve --config /etc/toritsugi/toritsugi.yaml",
		"StateDirectory": "toritsugi",
		"User":           "toritsugi",
	}
	for k, v := range want {
		if keys[k] != v {
			t.Errorf("%s=%q, want %q", k, keys[k], v)
		}
	}
	// systemd runs ExecReload= lines in order and stops at one that
	// fails: check the file, then SIGHUP.
	wantReload := []string{"/usr/local/bin/toritsugi check-config --reload --config /etc/toritsugi/toritsugi.yaml", "/bin/kill -HUP $MAINPID"}
	if !slices.Equal(reload, wantReload) {
		t.Errorf("ExecReload lines %q, want %q", reload, wantReload)
	}
	checkReloadCommand(t, strings.Fields(reload[0]))
	if d, err := time.ParseDuration(keys["TimeoutStopSec"]); err != nil || d < 30*time.Second {
		t.Errorf("TimeoutStopSec=%q, want at least 30s (the compose file's stop_grace_period)", keys["TimeoutStopSec"])
	}
	sample, err := os.ReadFile("../../pkg/config/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sample), "\ndata_dir: /var/lib/toritsugi\n") {
		t.Error("the sample's data_dir is not /var/lib/toritsugi, the unit's StateDirectory")
	}
}

// checkReloadCommand runs the unit's check-config line (its arguments,
// the file a scratch copy) on a good and on a bad file: a bad one makes it
// fail, so that systemd sends no SIGHUP and reports the reload failed.
func checkReloadCommand(t *testing.T, argv []string) {
	t.Helper()
	if len(argv) < 2 || argv[0] != "/usr/local/bin/toritsugi" {
		t.Fatalf("reload check %q does not run toritsugi", argv)
	}
	sample, err := os.ReadFile("../../pkg/config/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"good.yaml", sample, true},
		{"bad.yaml", []byte(strings.Replace(string(sample), "ring_timeout: ", "ring_timout: ", 1)), false},
	} {
		file := filepath.Join(dir, tt.name)
		if err := os.WriteFile(file, tt.data, 0o600); err != nil {
			t.Fatal(err)
		}
		args := slices.Clone(argv[1:])
		for i, a := range args {
			if a == "/etc/toritsugi/toritsugi.yaml" {
				args[i] = file
			}
		}
		var out bytes.Buffer
		err := run(context.Background(), args, &out, &out)
		if (err == nil) != tt.ok {
			t.Errorf("the unit's reload check on %s = %v (output %q), want ok %v", tt.name, err, out.String(), tt.ok)
		}
	}
}
