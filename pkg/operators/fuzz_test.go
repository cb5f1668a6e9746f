package operators

import (
	"testing"

	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// FuzzHandleEvent feeds arbitrary websocket messages, decoded as the link
// decodes them, to a registry: it must never panic, and a definite
// observation about a tracked endpoint must be what the registry then says.
func FuzzHandleEvent(f *testing.F) {
	for _, raw := range recorded(f) {
		f.Add(raw)
	}
	f.Add([]byte(`{"type":"EndpointStateChange","endpoint":{"technology":"PJSIP","resource":"op1001"}}`))
	f.Add([]byte(`{"type":"ContactStatusChange","endpoint":null,"contact_info":{"contact_status":"Reachable"}}`))
	f.Add([]byte(`{"type":"PeerStatusChange","endpoint":{"technology":"PJSIP","resource":"op1001"},"peer":"Reachable"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := pbx.DecodeEvent(data)
		if err != nil {
			return
		}
		r := NewRegistry(nil, func(Change) {})
		o := Observe(e)
		r.Track([]string{"PJSIP/op1001", o.Endpoint})
		r.HandleEvent(e)
		_ = r.Snapshot()
		if o.Definite && validName(o.Endpoint) && r.Reachable(o.Endpoint) != o.Reachable {
			t.Fatalf("observation %+v but Reachable = %v", o, r.Reachable(o.Endpoint))
		}
	})
}
