package pbx

import (
	"testing"

	"github.com/CyCoreSystems/ari/v6"
)

// FuzzDecodeEvent feeds the event decoder and router with mutations of the
// real events in the recorded transcripts: they must never panic, and
// the single-decode path must agree with the library's decoder.
func FuzzDecodeEvent(f *testing.F) {
	for _, ev := range recordedEvents(f) {
		f.Add(ev)
	}
	f.Add([]byte(`{"type":"StasisStart","args":["inbound","0312345678"],"channel":{"id":"1.1"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsLibrary(t, data)
		e, err := DecodeEvent(data)
		if err != nil {
			return
		}
		if e.GetType() == "" {
			t.Fatalf("decoded an event without a type from %q", data)
		}
		d := NewDispatcher(Hooks{NewChannel: func(*ari.StasisStart) *Inbox { return NewInbox() }}, nil)
		d.Dispatch(e)
		_ = TargetsOf(e)
	})
}
