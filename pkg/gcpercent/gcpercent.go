// Package gcpercent sets the garbage collector's target (GOGC) that
// toritsugi runs with.
package gcpercent

import (
	"os"
	"runtime/debug"
)

// Default is the GOGC toritsugi runs with when the environment sets none.
// The controller's live heap is small (a few KiB per call) while every call
// allocates a few hundred KB in REST round trips and events, so at Go's
// default of 100 the collector starts a cycle every few megabytes
// allocated: about a sixth of the CPU of a whole call flow. At 200 the heap
// may grow to three times the live data instead of twice (tens of
// megabytes with 10,000 callers waiting), for 10-15 % less CPU per call
// flow (README, Benchmarks).
const Default = 200

// Apply sets GOGC to Default unless the GOGC environment variable chose
// one (the runtime read it at start), and returns the value in effect
// (negative: collection off).
func Apply() int {
	if os.Getenv("GOGC") != "" {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(Default)
	return Default
}
