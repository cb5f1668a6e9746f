// Package leakcheck fails a test whose goroutines outlive it.
package leakcheck

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// wait is how long goroutines get to end after the test before they count
// as leaked.
const wait = 3 * time.Second

// Check registers a cleanup that fails t if goroutines running toritsugi
// code (other than the test's own) are still alive up to 3 s after the test
// and its other cleanups registered later have finished.
func Check(t testing.TB) {
	t.Helper()
	check(t, wait, "toritsugi/pkg/")
}

// check is Check with the grace period and the marker of "our" goroutines
// as parameters, so that it can be tested quickly.
func check(t testing.TB, grace time.Duration, marker string) {
	t.Cleanup(func() {
		deadline := time.Now().Add(grace)
		for {
			leaked := leaked(marker)
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// leaked returns the stacks of the live goroutines that mention marker,
// leaving out the test runner's and this package's own.
func leaked(marker string) []string {
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	var leaked []string
	for _, g := range strings.Split(stacks, "\n\n") {
		if strings.Contains(g, marker) && !strings.Contains(g, "leakcheck.check.") && !strings.Contains(g, "leakcheck.leaked(") && !strings.Contains(g, "testing.tRunner") {
			leaked = append(leaked, g)
		}
	}
	return leaked
}
