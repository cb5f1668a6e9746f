package operators

import "testing"

// TestIndefiniteEventKeepsARead: an event that says nothing definite of
// reachability (an unknown contact status, no endpoint state) gives the
// phone's channels only. A read of the phone in flight meanwhile (a
// reconnect's) still gives its reachability: it used to be dropped as
// older than that event, leaving a phone read online unreachable until
// its next definite event.
func TestIndefiniteEventKeepsARead(t *testing.T) {
	raw := recorded(t)
	contactUnknown := noState(t, variant(t, raw[2], `"NonQualified"`, `"Unknown"`))
	r := NewRegistry(nil, nil)
	r.Track([]string{"PJSIP/op1001"})
	_, since := r.tracked() // OnConnect starts its read
	r.HandleEvent(decode(t, contactUnknown))
	r.applyRead(Observation{Endpoint: "PJSIP/op1001", Reachable: true, Definite: true, Reason: "GET endpoint online", HasChannels: true}, since)
	if !r.Reachable("PJSIP/op1001") {
		t.Fatal("read online dropped because of an indefinite event: operator left unreachable")
	}
}

// TestReadOlderThanAChannelEvent: a call the phone placed shows in an
// event while a read of the phone is in flight; the read, older, lists no
// channel and must not end that call.
func TestReadOlderThanAChannelEvent(t *testing.T) {
	raw := recorded(t)
	r := NewRegistry(nil, nil)
	r.SetOwnChannel(func(string) bool { return false })
	r.Track([]string{"PJSIP/op1001"})
	_, since := r.tracked()
	withCall := variant(t, raw[0], `"channel_ids":[]`, `"channel_ids":["1795987015.7"]`)
	r.HandleEvent(decode(t, withCall))
	r.applyRead(Observation{Endpoint: "PJSIP/op1001", Reachable: true, Definite: true, Reason: "GET endpoint online", HasChannels: true}, since)
	if !r.OtherCall("PJSIP/op1001") {
		t.Fatal("a read older than the event ended the phone's call")
	}
}
