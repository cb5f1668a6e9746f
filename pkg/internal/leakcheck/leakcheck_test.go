package leakcheck

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeTB records cleanups and failures instead of acting on them.
type fakeTB struct {
	testing.TB
	cleanups []func()
	failures []string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failures = append(f.failures, fmt.Sprintf(format, args...))
}

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// parked blocks until stop is closed; its name is the marker the tests look for.
func parked(started chan<- struct{}, stop <-chan struct{}, done chan<- struct{}) {
	close(started)
	<-stop
	close(done)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		release  bool // stop the goroutine before the cleanup runs
		grace    time.Duration
		wantFail bool
	}{
		{name: "goroutine still running is reported", release: false, grace: 100 * time.Millisecond, wantFail: true},
		{name: "goroutine that ends is not", release: true, grace: 10 * time.Second, wantFail: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started, stop, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
			go parked(started, stop, done)
			<-started
			f := &fakeTB{}
			check(f, tt.grace, "leakcheck.parked(")
			if tt.release {
				close(stop)
			}
			f.runCleanups()
			if !tt.release {
				close(stop)
			}
			<-done
			if got := len(f.failures) > 0; got != tt.wantFail {
				t.Fatalf("failed = %v, want %v: %v", got, tt.wantFail, f.failures)
			}
			if tt.wantFail && !strings.Contains(f.failures[0], "1 goroutines leaked") {
				t.Errorf("failure = %q", f.failures[0])
			}
		})
	}
}

func TestCheckPassesCleanTest(t *testing.T) {
	Check(t) // this test starts no goroutine; the real cleanup must pass
	if l := leaked("leakcheck.parked("); len(l) > 0 {
		t.Fatalf("unexpected goroutines: %v", l)
	}
}
