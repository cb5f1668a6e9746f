package api

import (
	"encoding/base64"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay"
)

// FuzzRelayCursor: any after= value is read or refused without a panic,
// a position's cursor reads back as that position, whatever its time
// (the zero time of an entry set aside without a record among them,
// and times whose Unix nanoseconds overflow), and a cursor of the
// earlier form (Unix nanoseconds) given before an upgrade still reads.
func FuzzRelayCursor(f *testing.F) {
	f.Add("MTc5NjIxMjgwMDAwMDAwMDAwMCBtMS9ob29r", int64(1796212800), int64(0), int64(1796212800000000000), "m1/hook")
	f.Add("", int64(-1), int64(999999999), int64(-1), "a b/c d")
	// The zero time, and the time its nanoseconds overflowed to.
	f.Add("", time.Time{}.Unix(), int64(0), time.Time{}.UnixNano(), "in-1-v1/hook")
	f.Add("MTox", int64(math.MinInt64), int64(-1), int64(math.MinInt64), "x")
	f.Add("MTotMSB4", int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), "x")
	f.Fuzz(func(t *testing.T, tok string, sec, nsec, ns int64, id string) {
		if p, err := parseRelayCursor(tok); err == nil && p.ID == "" {
			t.Fatalf("%q read as a position with no id", tok)
		}
		if id == "" {
			return
		}
		want := relay.Position{EnqueuedAt: time.Unix(sec, nsec), ID: id}
		got, err := parseRelayCursor(relayCursor(want))
		if err != nil || got.Compare(want) != 0 {
			t.Fatalf("%+v read back as %+v, %v", want, got, err)
		}
		old := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d %s", ns, id))
		want = relay.Position{EnqueuedAt: time.Unix(0, ns), ID: id}
		if got, err := parseRelayCursor(old); err != nil || got.Compare(want) != 0 {
			t.Fatalf("earlier cursor of %+v read as %+v, %v", want, got, err)
		}
	})
}
