package gcpercent

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	if os.Getenv("GOGC") != "" {
		// The runtime took its target from the environment: left as is.
		debug.SetGCPercent(before)
		if got := Apply(); got != before {
			t.Fatalf("Apply() = %d with GOGC=%s, want the runtime's %d", got, os.Getenv("GOGC"), before)
		}
		return
	}
	if got := Apply(); got != Default {
		t.Fatalf("Apply() = %d, want %d", got, Default)
	}
	if p := debug.SetGCPercent(100); p != Default {
		t.Fatalf("GC percent in effect %d, want %d", p, Default)
	}
}
