package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/syncbuf"
)

// TestDemoRunsAndAnswers runs the demo briefly: it must announce that it is
// a simulation, take simulated calls and stop cleanly.
func TestDemoRunsAndAnswers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out, logs syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- demo(ctx, []string{"--listen", "127.0.0.1:0", "--every", "100ms", "--talk", "2s", "--others-after", "0s"}, &out, &logs)
	}()
	deadline := time.Now().Add(14 * time.Second)
	for !strings.Contains(logs.String(), "result=answered") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo returned %v", err)
	}
	if !strings.Contains(out.String(), "THIS IS A SIMULATION") {
		t.Fatalf("demo banner does not say it is a simulation:\n%s", out.String())
	}
	if !strings.Contains(logs.String(), "result=answered") {
		t.Fatalf("no simulated call was answered in 14 s; log:\n%s", logs.String())
	}
	// The simulated operators' state changes are not logged: they were
	// half of the log.
	if strings.Contains(logs.String(), `msg="operator state" part=queue operator=op1002`) {
		t.Errorf("the log has the simulated operators' state changes:\n%s", logs.String())
	}
}

// TestDemoKeepsItsHash: started again on the same --data, the demo keeps
// the console operator's password hash (sessions are bound to it: a new
// salt logged the operator out at every restart).
func TestDemoKeepsItsHash(t *testing.T) {
	dir := t.TempDir()
	first, err := demoHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := demoHash(dir)
	if err != nil || again != first {
		t.Fatalf("the second start's hash %q (%v), want the first's %q", again, err, first)
	}
}

// TestDemoReloadKeepsItsSettings: an edit of the demo's DIR/sample.yaml
// (operator training) is reloaded with the demo's own settings kept over
// it: the console login, the printed API token, the clients open around
// the clock. The reload used to read the file as serve does, dropping
// them: the operator could not log in, the token got 403. The edit is
// also what the next start runs (the file used to be written over).
func TestDemoReloadKeepsItsSettings(t *testing.T) {
	dir := t.TempDir()
	sample := filepath.Join(dir, "sample.yaml")
	edited := append(slices.Clone(config.SampleYAML), "\n# edited before the start\n"...)
	if err := os.WriteFile(sample, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, logs syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- demo(ctx, []string{"--listen", "127.0.0.1:0", "--every", "1h", "--data", dir}, &out, &logs)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo returned %v", err)
		}
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the banner", func() bool { return strings.Contains(out.String(), "Press Ctrl-C") })
	if got, err := os.ReadFile(sample); err != nil || !bytes.Equal(got, edited) {
		t.Fatalf("the edited sample.yaml was written over at the start (%v)", err)
	}
	base := regexp.MustCompile(`http://([0-9.:]+)/login`).FindStringSubmatch(out.String())
	token := regexp.MustCompile(`Bearer ([0-9a-f]+)`).FindStringSubmatch(out.String())
	if base == nil || token == nil {
		t.Fatalf("no address or token in the banner:\n%s", out.String())
	}
	waitFor("toritsugi serving", func() bool { return strings.Contains(logs.String(), "toritsugi serving") })

	if err := os.WriteFile(sample, append(edited, "# edited while it runs\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor("the reload", func() bool { return strings.Contains(logs.String(), "config reloaded") })

	login, err := http.Post("http://"+base[1]+"/api/v1/login", "application/json",
		strings.NewReader(`{"operator_id":"`+demoOperator+`","password":"`+demoPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	login.Body.Close()
	if login.StatusCode != http.StatusOK {
		t.Errorf("console login after the reload: %s, want 200", login.Status)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+base[1]+"/api/v1/calls?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token[1])
	calls, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	calls.Body.Close()
	if calls.StatusCode != http.StatusOK {
		t.Errorf("the banner's API token after the reload: %s, want 200", calls.Status)
	}
	for _, bad := range []string{"take effect only at the next start", "reload failed"} {
		if strings.Contains(logs.String(), bad) {
			t.Errorf("the reload logged %q; log:\n%s", bad, logs.String())
		}
	}
}
