package operators

import (
	"github.com/CyCoreSystems/ari/v6"
)

// Observation is what one ARI event says about an endpoint's reachability.
type Observation struct {
	// Endpoint is "TECH/resource".
	Endpoint string
	// Reachable is meaningful only when Definite.
	Reachable bool
	// Definite is false for events that say nothing about reachability
	// (an "unknown" contact status) and for non-endpoint events.
	Definite bool
	// Reason is the event type and the status it carried.
	Reason string
	// Channels are the endpoint's channels (channel_ids), which every
	// endpoint event carries: HasChannels says they were read.
	Channels    []string
	HasChannels bool
	// Contact is the contact a ContactStatusChange is about (its URI),
	// ContactRemoved whether it was removed (unregistered, or expired)
	// and QualifyResult whether its status is a qualify's (Reachable,
	// Unreachable) rather than a registration's.
	Contact                       string
	ContactRemoved, QualifyResult bool
}

// Observe interprets an endpoint event. It is a pure function of the event:
//
//   - EndpointStateChange: state "online" is reachable, anything else
//     ("offline", "unknown") is not.
//   - PeerStatusChange: "Reachable" is reachable; "Unreachable" (and
//     chan_sip's "Unregistered", "Rejected") is not; others say nothing.
//   - ContactStatusChange: "Reachable", "NonQualified" and "Created" are
//     reachable; "Unreachable" and "Removed" are not; others ("Unknown",
//     "Updated") say nothing.
//
// A PeerStatusChange or ContactStatusChange is about one contact, and an
// endpoint may have several (a softphone on a PC and on a phone; a
// softphone registering again from a new port, whose old contact is
// removed after the new one is created): both carry the endpoint's own
// state after the change, which decides when it is "online" or
// "offline" (recording 12); the peer's or contact's status only when it
// is neither.
//
// Each also carries the endpoint's channels: Asterisk raises
// EndpointStateChange whenever one is added or goes (endpoints.c
// publishes the endpoint's snapshot), so a call the phone places itself
// shows there.
func Observe(e ari.Event) Observation {
	switch v := e.(type) {
	case *ari.EndpointStateChange:
		return Observation{
			Endpoint:  name(v.Endpoint.Technology, v.Endpoint.Resource),
			Reachable: v.Endpoint.State == "online",
			Definite:  true,
			Reason:    "EndpointStateChange " + v.Endpoint.State,
			Channels:  v.Endpoint.ChannelIDs, HasChannels: true,
		}
	case *ari.PeerStatusChange:
		o := Observation{Endpoint: name(v.Endpoint.Technology, v.Endpoint.Resource), Reason: "PeerStatusChange " + v.Peer.PeerStatus,
			Channels: v.Endpoint.ChannelIDs, HasChannels: true}
		if endpointState(&o, v.Endpoint.State) {
			return o
		}
		switch v.Peer.PeerStatus {
		case "Reachable":
			o.Reachable, o.Definite = true, true
		case "Unreachable", "Unregistered", "Rejected":
			o.Definite = true
		}
		return o
	case *ari.ContactStatusChange:
		o := Observation{Endpoint: name(v.Endpoint.Technology, v.Endpoint.Resource), Reason: "ContactStatusChange " + v.ContactInfo.ContactStatus,
			Channels: v.Endpoint.ChannelIDs, HasChannels: true,
			Contact: v.ContactInfo.Uri, ContactRemoved: v.ContactInfo.ContactStatus == "Removed",
			QualifyResult: v.ContactInfo.ContactStatus == "Reachable" || v.ContactInfo.ContactStatus == "Unreachable"}
		if endpointState(&o, v.Endpoint.State) {
			return o
		}
		switch v.ContactInfo.ContactStatus {
		case "Reachable", "NonQualified", "Created":
			o.Reachable, o.Definite = true, true
		case "Unreachable", "Removed":
			o.Definite = true
		}
		return o
	}
	return Observation{}
}

// endpointState sets o from an endpoint state carried by a peer or
// contact event, and reports whether it was a definite one.
func endpointState(o *Observation, state string) bool {
	switch state {
	case "online", "offline":
		o.Reachable, o.Definite = state == "online", true
		return true
	}
	return false
}

// HandleEvent applies an endpoint event; install it as pbx.Hooks.Endpoint.
// Events about untracked endpoints and other event types are ignored; an
// event that says nothing definite about reachability gives the
// endpoint's channels only.
func (r *Registry) HandleEvent(e ari.Event) {
	if e == nil {
		return
	}
	o := Observe(e)
	if o.Endpoint == "" {
		return
	}
	if !o.Definite {
		r.log.Debug("endpoint event without a definite reachability", "endpoint", o.Endpoint, "reason", o.Reason)
		if !o.HasChannels {
			return
		}
	}
	r.apply(o)
}

func name(tech, resource string) string {
	if tech == "" || resource == "" {
		return ""
	}
	return tech + "/" + resource
}
