package phone

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// service reports whether d is grouped by serviceGroupings.
func service(d string) bool {
	for _, sg := range serviceGroupings {
		if strings.HasPrefix(d, sg.prefix) {
			return true
		}
	}
	return false
}

// TestGroupingKeptByFirstDigits: a grouping kept for a number's length and
// first seven digits is the library's for every number that shares them
// (3,000 random geographic, mobile and service numbers, many sharing
// their first digits with an earlier one).
func TestGroupingKeptByFirstDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for range 3000 {
		var d string
		switch rng.IntN(4) {
		case 0, 1: // geographic, 10 digits
			d = fmt.Sprintf("0%d%08d", 1+rng.IntN(9), rng.IntN(1e8))
		case 2: // mobile and IP phone, 11 digits
			d = fmt.Sprintf("0%d0%08d", []int{5, 7, 8, 9}[rng.IntN(4)], rng.IntN(1e8))
		default: // a few first digits only, to share keys
			d = fmt.Sprintf("0%03d%06d", rng.IntN(30), rng.IntN(1e6))
		}
		if !validNational(d) {
			continue
		}
		if service(d) {
			continue
		}
		if got, want := formatNational(d), group(d, libraryGroups(d)); got != want {
			t.Fatalf("formatNational(%s) = %s, the library's %s", d, got, want)
		}
	}
}
