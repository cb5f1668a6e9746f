package api

import (
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay"
)

// FuzzRelayCursor: any after= value is read or refused without a panic,
// and a position's cursor reads back as that position.
func FuzzRelayCursor(f *testing.F) {
	f.Add("MTc5NjIxMjgwMDAwMDAwMDAwMCBtMS9ob29r", int64(1796212800000000000), "m1/hook")
	f.Add("", int64(-1), "a b/c d")
	f.Fuzz(func(t *testing.T, tok string, ns int64, id string) {
		if p, err := parseRelayCursor(tok); err == nil && p.ID == "" {
			t.Fatalf("%q read as a position with no id", tok)
		}
		if id == "" {
			return
		}
		want := relay.Position{EnqueuedAt: time.Unix(0, ns), ID: id}
		got, err := parseRelayCursor(relayCursor(want))
		if err != nil || got.Compare(want) != 0 {
			t.Fatalf("%+v read back as %+v, %v", want, got, err)
		}
	})
}
