package aritest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// TestForwardEndpointChannels: with ForwardEndpointChannels, an app
// subscribed to an endpoint gets the channel events of a call the phone
// placed itself (a channel it does not hold), and those of its own legs
// on that phone a second time; without it, neither. An endpoint event
// stays single.
func TestForwardEndpointChannels(t *testing.T) {
	for _, forward := range []bool{false, true} {
		s, ws := startFakeWith(t, Options{ForwardEndpointChannels: forward})
		s.AddEndpoint("PJSIP/op1001", true, EndpointBehavior{})
		cl := restClient(s)
		if err := cl.Application().Subscribe(ari.NewKey(ari.ApplicationKey, "toritsugi"), "endpoint:PJSIP/op1001"); err != nil {
			t.Fatal(err)
		}
		own, err := s.OutboundCall("PJSIP/op1001", "0312345678")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RemoteHangup(own); err != nil {
			t.Fatal(err)
		}
		// The two EndpointStateChange (channel in, channel out) come in
		// both cases; the hang-up's channel events only when forwarded.
		want := 2
		if forward {
			want = 4
		}
		ws.waitCount(want, 2*time.Second)
		time.Sleep(50 * time.Millisecond)
		counts := map[string]int{}
		for _, e := range ws.events() {
			var v struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal([]byte(e), &v); err != nil {
				t.Fatal(err)
			}
			counts[v.Type]++
		}
		if counts["EndpointStateChange"] != 2 {
			t.Errorf("forward %v: %d EndpointStateChange, want 2 (%v)", forward, counts["EndpointStateChange"], counts)
		}
		wantChan := 0
		if forward {
			wantChan = 1
		}
		if counts["ChannelHangupRequest"] != wantChan || counts["ChannelDestroyed"] != wantChan {
			t.Errorf("forward %v: channel events %v, want %d of each", forward, counts, wantChan)
		}
	}
}
