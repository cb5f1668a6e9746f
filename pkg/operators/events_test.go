package operators

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/internal/golden"
)

func TestObserveRecordedEvents(t *testing.T) {
	raw := recorded(t)
	want := []Observation{
		{Endpoint: "PJSIP/op1001", Reachable: true, Definite: true, Reason: "EndpointStateChange online", HasChannels: true},
		{Endpoint: "PJSIP/op1001", Reachable: true, Definite: true, Reason: "PeerStatusChange Reachable", HasChannels: true},
		{Endpoint: "PJSIP/op1001", Reachable: true, Definite: true, Reason: "ContactStatusChange NonQualified", HasChannels: true},
		{Endpoint: "PJSIP/op1001", Reachable: false, Definite: true, Reason: "EndpointStateChange offline", HasChannels: true},
		{Endpoint: "PJSIP/op1001", Reachable: false, Definite: true, Reason: "PeerStatusChange Unreachable", HasChannels: true},
		{Endpoint: "PJSIP/op1001", Reachable: false, Definite: true, Reason: "ContactStatusChange Removed", HasChannels: true},
	}
	for i, w := range want {
		if got := Observe(decode(t, raw[i])); !sameObservation(got, w) {
			t.Errorf("event %d: got %+v, want %+v", i, got, w)
		}
	}
}

// sameObservation compares observations, an empty channel list as none.
func sameObservation(a, b Observation) bool {
	return a.Endpoint == b.Endpoint && a.Reachable == b.Reachable && a.Definite == b.Definite &&
		a.Reason == b.Reason && a.HasChannels == b.HasChannels && slices.Equal(a.Channels, b.Channels)
}

// variant rewrites a recorded event's status, e.g. the contact_status of
// the registration's ContactStatusChange.
func variant(t *testing.T, raw []byte, from, to string) []byte {
	t.Helper()
	if !bytes.Contains(raw, []byte(from)) {
		t.Fatalf("%q not in %s", from, raw)
	}
	return bytes.Replace(raw, []byte(from), []byte(to), 1)
}

// offlineVariant is a peer or contact event of an endpoint gone offline
// (its only contact gone).
func offlineVariant(t *testing.T, raw []byte) []byte {
	return variant(t, raw, `"state":"online"`, `"state":"offline"`)
}

// noState is a peer or contact event without a definite endpoint state.
func noState(t *testing.T, raw []byte) []byte {
	return variant(t, raw, `"state":"online"`, `"state":"unknown"`)
}

func TestObserveStatuses(t *testing.T) {
	raw := recorded(t)
	state, peer, contact := raw[0], raw[1], raw[2]
	tests := []struct {
		name      string
		event     []byte
		reachable bool
		definite  bool
	}{
		{"endpoint unknown", variant(t, state, `"state":"online"`, `"state":"unknown"`), false, true},
		{"peer Unknown says nothing", noState(t, variant(t, peer, `"peer_status":"Reachable"`, `"peer_status":"Unknown"`)), false, false},
		{"peer Unregistered", noState(t, variant(t, peer, `"peer_status":"Reachable"`, `"peer_status":"Unregistered"`)), false, true},
		// The endpoint's state decides: one contact of several may go
		// while the endpoint stays online.
		{"contact Unreachable, the endpoint offline", offlineVariant(t, variant(t, contact, `"NonQualified"`, `"Unreachable"`)), false, true},
		{"contact Unreachable, another contact left", variant(t, contact, `"NonQualified"`, `"Unreachable"`), true, true},
		{"contact Removed, another contact left", variant(t, contact, `"NonQualified"`, `"Removed"`), true, true},
		{"peer Unreachable, another contact left", variant(t, peer, `"peer_status":"Reachable"`, `"peer_status":"Unreachable"`), true, true},
		// Without an endpoint state, the contact's status.
		{"contact Reachable", noState(t, variant(t, contact, `"NonQualified"`, `"Reachable"`)), true, true},
		{"contact Created", noState(t, variant(t, contact, `"NonQualified"`, `"Created"`)), true, true},
		{"contact Unreachable", noState(t, variant(t, contact, `"NonQualified"`, `"Unreachable"`)), false, true},
		{"contact Unknown says nothing", noState(t, variant(t, contact, `"NonQualified"`, `"Unknown"`)), false, false},
		{"contact Updated says nothing", noState(t, variant(t, contact, `"NonQualified"`, `"Updated"`)), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Observe(decode(t, tt.event))
			if o.Endpoint != "PJSIP/op1001" || o.Reachable != tt.reachable || o.Definite != tt.definite {
				t.Fatalf("got %+v, want reachable=%v definite=%v", o, tt.reachable, tt.definite)
			}
		})
	}
}

func TestObserveIgnoresOtherEvents(t *testing.T) {
	for _, raw := range []string{
		`{"type":"StasisStart","args":["0312345678"],"channel":{"id":"1.1"}}`,
		`{"type":"EndpointStateChange","endpoint":{"technology":"","resource":"","state":"online"}}`,
		`{"type":"ContactStatusChange","contact_info":{"contact_status":"Reachable"}}`,
	} {
		if o := Observe(decode(t, []byte(raw))); o.Endpoint != "" {
			t.Errorf("%s: got %+v, want no endpoint", raw, o)
		}
	}
}

// TestHandleEventPrecedence checks that the latest definite observation
// wins and that indefinite ones change nothing.
func TestHandleEventPrecedence(t *testing.T) {
	raw := recorded(t)
	state, peer, contact := raw[0], raw[1], raw[2]
	offline, unreachable, removed := raw[3], raw[4], raw[5]
	// The only contact: qualify finds it unreachable (the endpoint goes
	// offline), then reachable again.
	contactUnreachable := offlineVariant(t, variant(t, contact, `"NonQualified"`, `"Unreachable"`))
	contactReachable := variant(t, contact, `"NonQualified"`, `"Reachable"`)
	contactUnknown := noState(t, variant(t, contact, `"NonQualified"`, `"Unknown"`))
	tests := []struct {
		name    string
		events  [][]byte
		want    bool
		changes int
	}{
		{"online", [][]byte{state}, true, 1},
		{"register burst: online, then registered", [][]byte{state, peer, contact}, true, 2},
		{"online then contact unreachable", [][]byte{state, contactUnreachable}, false, 2},
		{"qualify recovers", [][]byte{state, contactUnreachable, contactReachable}, true, 3},
		{"unknown contact keeps state (registered)", [][]byte{state, contactUnknown}, true, 2},
		{"peer reachable alone", [][]byte{peer}, true, 1},
		{"contact removed alone from unreachable", [][]byte{removed}, false, 0},
		{"whole recording", [][]byte{state, peer, contact, offline, unreachable, removed}, false, 3},
		{"offline then peer reachable", [][]byte{offline, peer}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			r := NewRegistry(nil, c.add)
			r.Track([]string{"PJSIP/op1001"})
			for _, raw := range tt.events {
				r.HandleEvent(decode(t, raw))
			}
			if got := r.Reachable("PJSIP/op1001"); got != tt.want {
				t.Errorf("Reachable = %v, want %v", got, tt.want)
			}
			if got := len(c.all()); got != tt.changes {
				t.Errorf("%d changes (%+v), want %d", got, c.all(), tt.changes)
			}
		})
	}
}

// TestReplayRecordingGolden replays recording 12 and compares the changes
// reported with testdata/12-changes.golden.
func TestReplayRecordingGolden(t *testing.T) {
	var c collector
	r := NewRegistry(nil, c.add)
	r.Track([]string{"PJSIP/op1001", "PJSIP/op1002"})
	var b strings.Builder
	for i, raw := range recorded(t) {
		r.HandleEvent(decode(t, raw))
		fmt.Fprintf(&b, "after event %d: %v\n", i, r.Snapshot())
	}
	for _, ch := range c.all() {
		fmt.Fprintf(&b, "change %s reachable=%v registered=%v reason=%q\n", ch.Endpoint, ch.Reachable, ch.Registered, ch.Reason)
	}
	golden.Check(t, filepath.Join("testdata", "12-changes.golden"), []byte(b.String()))
}

// TestOneContactGoesAnotherStays: a softphone registers again from a new
// port (an app restart, NAT rebinding: rewrite_contact makes the source
// its Contact): Asterisk's registrar creates the new contact, then
// removes the old one (remove_existing), the endpoint online throughout;
// and a second phone of the same operator (max_contacts 2) stops
// answering qualify while the first stays. The operator stays reachable.
func TestOneContactGoesAnotherStays(t *testing.T) {
	raw := recorded(t)
	for _, tc := range []struct {
		name   string
		events [][]byte
	}{
		{"registering again from a new port", [][]byte{
			variant(t, raw[2], "127.0.0.1:5171", "127.0.0.1:6171"),
			variant(t, raw[5], `"state":"offline"`, `"state":"online"`),
		}},
		{"a second phone stops answering", [][]byte{
			variant(t, variant(t, raw[2], "127.0.0.1:5171", "198.51.100.7:40000"), `"NonQualified"`, `"Unreachable"`),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry(nil, nil)
			reg.Track([]string{"PJSIP/op1001"})
			for _, r := range append(raw[:3:3], tc.events...) {
				reg.HandleEvent(decode(t, r))
			}
			if !reg.Reachable("PJSIP/op1001") {
				t.Fatal("operator unreachable while Asterisk says the endpoint is online")
			}
		})
	}
}
