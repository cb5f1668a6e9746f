package main

import (
	"context"
	"github.com/toritsugi/toritsugi/pkg/syncbuf"
	"strings"
	"testing"
	"time"
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
