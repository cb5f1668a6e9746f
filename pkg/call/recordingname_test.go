package call

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRecordingsOf(t *testing.T) {
	at := time.Unix(1795987015, 0)
	madeAt := RecordingsOf("5e1f00d2")
	for name, want := range map[string]time.Time{
		"1795987015-1-5e1f00d2-0a1b2c3d":        at,
		"1795987015-12-vm-5e1f00d2-0a1b2c3d":    at,
		"pbx1-1795987015-3-5e1f00d2-0a1b2c3d":   at,
		"my-pbx-1795987015-3-5e1f00d2-0a1b2c3d": at,
		"1795987015-1-0badbeef-0a1b2c3d":        {}, // another deployment's
		"1795987015-1-0a1b2c3d":                 {}, // made before names said whose
		"sub/1795987015-1-5e1f00d2-0a1b2c3d":    {}, // not in the recordings directory itself
		"1795987015-1-5e1f00d2-0A1B2C3D":        {},
		"0795987015-1-5e1f00d2-0a1b2c3d":        {},
		"monitor-1795987015":                    {},
		"":                                      {},
	} {
		got, ok := madeAt(name)
		if ok != !want.IsZero() || !got.Equal(want) {
			t.Errorf("RecordingsOf(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
}

// FuzzRecordingName: a name the calls give (RecordingName) reads back
// as its call's start; a deployment's names are not another's.
func FuzzRecordingName(f *testing.F) {
	f.Add("", int64(1795987015), uint32(1), false)
	f.Add("pbx1", int64(1795987015), uint32(3), true)
	f.Add("a-1795987015", int64(100000000), uint32(0), false)
	f.Fuzz(func(t *testing.T, system string, epoch int64, n uint32, vm bool) {
		if epoch < 1e8 || epoch >= 1e11 || strings.ContainsAny(system, "/.") {
			return
		}
		id := fmt.Sprintf("%d.%d", epoch, n)
		if system != "" {
			id = system + "-" + id // Asterisk's systemname, then a dash
		}
		name := RecordingName(id, vm, "5e1f00d2-0a1b2c3d")
		made, ok := RecordingsOf("5e1f00d2")(name)
		if !ok || made.Unix() != epoch {
			t.Fatalf("RecordingsOf(%q) = %v, %v; want %d", name, made, ok, epoch)
		}
		if _, ok := RecordingsOf("0badbeef")(name); ok {
			t.Fatalf("%q taken for another deployment's", name)
		}
	})
}
