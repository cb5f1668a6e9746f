package pbx

import "github.com/CyCoreSystems/ari/v6"

// eventTypes makes an empty concrete event for each type name the
// library's ari.DecodeEvent knows, so a message is decoded once into the
// right type instead of once for its type and once more in full.
var eventTypes = map[string]func() ari.Event{
	ari.Events.ApplicationMoveFailed:    func() ari.Event { return new(ari.ApplicationMoveFailed) },
	ari.Events.ApplicationReplaced:      func() ari.Event { return new(ari.ApplicationReplaced) },
	ari.Events.BridgeAttendedTransfer:   func() ari.Event { return new(ari.BridgeAttendedTransfer) },
	ari.Events.BridgeBlindTransfer:      func() ari.Event { return new(ari.BridgeBlindTransfer) },
	ari.Events.BridgeCreated:            func() ari.Event { return new(ari.BridgeCreated) },
	ari.Events.BridgeDestroyed:          func() ari.Event { return new(ari.BridgeDestroyed) },
	ari.Events.BridgeMerged:             func() ari.Event { return new(ari.BridgeMerged) },
	ari.Events.BridgeVideoSourceChanged: func() ari.Event { return new(ari.BridgeVideoSourceChanged) },
	ari.Events.ChannelCallerID:          func() ari.Event { return new(ari.ChannelCallerID) },
	ari.Events.ChannelConnectedLine:     func() ari.Event { return new(ari.ChannelConnectedLine) },
	ari.Events.ChannelCreated:           func() ari.Event { return new(ari.ChannelCreated) },
	ari.Events.ChannelDestroyed:         func() ari.Event { return new(ari.ChannelDestroyed) },
	ari.Events.ChannelDialplan:          func() ari.Event { return new(ari.ChannelDialplan) },
	ari.Events.ChannelDtmfReceived:      func() ari.Event { return new(ari.ChannelDtmfReceived) },
	ari.Events.ChannelEnteredBridge:     func() ari.Event { return new(ari.ChannelEnteredBridge) },
	ari.Events.ChannelHangupRequest:     func() ari.Event { return new(ari.ChannelHangupRequest) },
	ari.Events.ChannelHold:              func() ari.Event { return new(ari.ChannelHold) },
	ari.Events.ChannelLeftBridge:        func() ari.Event { return new(ari.ChannelLeftBridge) },
	ari.Events.ChannelStateChange:       func() ari.Event { return new(ari.ChannelStateChange) },
	ari.Events.ChannelTalkingFinished:   func() ari.Event { return new(ari.ChannelTalkingFinished) },
	ari.Events.ChannelTalkingStarted:    func() ari.Event { return new(ari.ChannelTalkingStarted) },
	ari.Events.ChannelUnhold:            func() ari.Event { return new(ari.ChannelUnhold) },
	ari.Events.ChannelUserevent:         func() ari.Event { return new(ari.ChannelUserevent) },
	ari.Events.ChannelVarset:            func() ari.Event { return new(ari.ChannelVarset) },
	ari.Events.ContactInfo:              func() ari.Event { return new(ari.ContactInfo) },
	ari.Events.ContactStatusChange:      func() ari.Event { return new(ari.ContactStatusChange) },
	ari.Events.DeviceStateChanged:       func() ari.Event { return new(ari.DeviceStateChanged) },
	ari.Events.Dial:                     func() ari.Event { return new(ari.Dial) },
	ari.Events.EndpointStateChange:      func() ari.Event { return new(ari.EndpointStateChange) },
	ari.Events.MissingParams:            func() ari.Event { return new(ari.MissingParams) },
	ari.Events.Peer:                     func() ari.Event { return new(ari.Peer) },
	ari.Events.PeerStatusChange:         func() ari.Event { return new(ari.PeerStatusChange) },
	ari.Events.PlaybackContinuing:       func() ari.Event { return new(ari.PlaybackContinuing) },
	ari.Events.PlaybackFinished:         func() ari.Event { return new(ari.PlaybackFinished) },
	ari.Events.PlaybackStarted:          func() ari.Event { return new(ari.PlaybackStarted) },
	ari.Events.RecordingFailed:          func() ari.Event { return new(ari.RecordingFailed) },
	ari.Events.RecordingFinished:        func() ari.Event { return new(ari.RecordingFinished) },
	ari.Events.RecordingStarted:         func() ari.Event { return new(ari.RecordingStarted) },
	ari.Events.StasisEnd:                func() ari.Event { return new(ari.StasisEnd) },
	ari.Events.StasisStart:              func() ari.Event { return new(ari.StasisStart) },
	ari.Events.TextMessageReceived:      func() ari.Event { return new(ari.TextMessageReceived) },
}

// KnownEventType reports whether typ is an ARI event type the library
// decodes.
func KnownEventType(typ string) bool {
	_, ok := eventTypes[typ]
	return ok
}
