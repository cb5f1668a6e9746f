package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestEachCallPagesThroughEveryCall: a sweep reads the calls a page at a
// time and sees each once, also when more calls than a page started at the
// same instant (a page boundary falls among them).
func TestEachCallPagesThroughEveryCall(t *testing.T) {
	st := storetest.Open(t)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var want []string
	const page = 10
	for i := range 2*page + 7 {
		at := t0.Add(time.Duration(i) * time.Second)
		if i >= 3 && i < 3+page+5 {
			at = t0.Add(3 * time.Second) // a crowd at one instant, across a page boundary
		}
		rec := store.CallRecord{ID: fmt.Sprintf("c%04d", i), ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
			Result: store.ResultAbandoned, Reason: "caller hung up", WaitMS: 1000, StartedAt: at, EndedAt: at.Add(time.Minute)}
		if err := st.PutCall(rec); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec.ID)
	}
	r := &Retention{Store: st, page: page}
	seen := map[string]int{}
	err := r.eachCall(store.CallFilter{ClientID: "acme"}, func(c store.CallRecord) { seen[c.ID]++ })
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Fatalf("call %s seen %d times; %d calls seen in all, want %d each once", id, seen[id], len(seen), len(want))
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d calls seen, want %d", len(seen), len(want))
	}
}

func TestRecordingMade(t *testing.T) {
	at := time.Unix(1795987015, 0)
	own := ownRecording("5e1f00d2")
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
		got, ok := recordingMade(own, name)
		if ok != !want.IsZero() || !got.Equal(want) {
			t.Errorf("recordingMade(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
}

// FuzzRecordingMade: a name the calls give (call.RecordingName) reads back
// as its call's start; a deployment's names are not another's.
func FuzzRecordingMade(f *testing.F) {
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
		name := call.RecordingName(id, vm, "5e1f00d2-0a1b2c3d")
		made, ok := recordingMade(ownRecording("5e1f00d2"), name)
		if !ok || made.Unix() != epoch {
			t.Fatalf("recordingMade(%q) = %v, %v; want %d", name, made, ok, epoch)
		}
		if _, ok := recordingMade(ownRecording("0badbeef"), name); ok {
			t.Fatalf("%q taken for another deployment's", name)
		}
	})
}
