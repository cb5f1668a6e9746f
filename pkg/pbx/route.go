package pbx

import (
	"strings"

	"github.com/CyCoreSystems/ari/v6"
)

// Targets lists the objects an event concerns, used to route it to the call
// that owns them. It is a pure function of the event.
type Targets struct {
	Channels []string
	Bridges  []string
	// Endpoint is "TECH/resource" for endpoint, peer and contact events.
	Endpoint string
}

// TargetsOf extracts the channel, bridge and endpoint ids an event refers to.
// Playback and recording events carry their target in target_uri
// ("channel:ID" or "bridge:ID"); Dial carries only the peer (see the
// recordings' README, scenario 03).
func TargetsOf(e ari.Event) Targets {
	var t Targets
	addURI := func(uri string) {
		switch {
		case strings.HasPrefix(uri, "channel:"):
			t.Channels = append(t.Channels, strings.TrimPrefix(uri, "channel:"))
		case strings.HasPrefix(uri, "bridge:"):
			t.Bridges = append(t.Bridges, strings.TrimPrefix(uri, "bridge:"))
		}
	}
	switch v := e.(type) {
	case *ari.PlaybackStarted:
		addURI(v.Playback.TargetURI)
	case *ari.PlaybackFinished:
		addURI(v.Playback.TargetURI)
	case *ari.PlaybackContinuing:
		addURI(v.Playback.TargetURI)
	case *ari.RecordingStarted:
		addURI(v.Recording.TargetURI)
	case *ari.RecordingFinished:
		addURI(v.Recording.TargetURI)
	case *ari.RecordingFailed:
		addURI(v.Recording.TargetURI)
	case *ari.Dial:
		if v.Peer.ID != "" {
			t.Channels = append(t.Channels, v.Peer.ID)
		}
		if v.Caller.ID != "" {
			t.Channels = append(t.Channels, v.Caller.ID)
		}
	case *ari.EndpointStateChange:
		t.Endpoint = endpointName(v.Endpoint.Technology, v.Endpoint.Resource)
	case *ari.PeerStatusChange:
		t.Endpoint = endpointName(v.Endpoint.Technology, v.Endpoint.Resource)
	case *ari.ContactStatusChange:
		t.Endpoint = endpointName(v.Endpoint.Technology, v.Endpoint.Resource)
	// The events of every call, read from their members in the order their
	// Keys lists them: Keys allocates a key per id, several per event.
	case *ari.StasisStart:
		t.Channels = appendUnique(t.Channels, v.Channel.ID)
		t.Channels = appendUnique(t.Channels, v.ReplaceChannel.ID)
	case *ari.StasisEnd:
		t.Channels = appendUnique(t.Channels, v.Channel.ID)
	case *ari.ChannelHangupRequest:
		t.Channels = appendUnique(t.Channels, v.Channel.ID)
	case *ari.ChannelDestroyed:
		t.Channels = appendUnique(t.Channels, v.Channel.ID)
	case *ari.ChannelEnteredBridge:
		t.Channels = appendUnique(t.Channels, v.Channel.ID)
		t.Bridges = appendUnique(t.Bridges, v.Bridge.ID)
		for _, id := range v.Bridge.ChannelIDs {
			t.Channels = appendUnique(t.Channels, id)
		}
	default:
		return targetsOfKeys(e)
	}
	return t
}

// targetsOfKeys reads the channels and bridges of an event from its Keys.
func targetsOfKeys(e ari.Event) Targets {
	var t Targets
	for _, k := range e.Keys() {
		switch k.Kind {
		case ari.ChannelKey:
			t.Channels = appendUnique(t.Channels, k.ID)
		case ari.BridgeKey:
			t.Bridges = appendUnique(t.Bridges, k.ID)
		}
	}
	return t
}

func endpointName(tech, resource string) string {
	if tech == "" && resource == "" {
		return ""
	}
	return tech + "/" + resource
}

func appendUnique(s []string, v string) []string {
	if v == "" {
		return s
	}
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
