package main

import (
	"os"
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
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	want := map[string]string{
		"ExecStart":      "/usr/local/bin/toritsugi serve --config /etc/toritsugi/toritsugi.yaml",
		"ExecReload":     "/bin/kill -HUP $MAINPID",
		"StateDirectory": "toritsugi",
		"User":           "toritsugi",
	}
	for k, v := range want {
		if keys[k] != v {
			t.Errorf("%s=%q, want %q", k, keys[k], v)
		}
	}
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
