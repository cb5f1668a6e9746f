package call

// UnreadEvents are the ARI event types no part of the controller reads: a
// call actor acts on StasisStart/End, ChannelHangupRequest,
// ChannelDestroyed, ChannelDtmfReceived, ChannelEnteredBridge,
// ChannelHold/Unhold, PlaybackFinished and RecordingFinished; the
// operator registry on endpoint, peer and contact events. The link asks Asterisk not to send
// these (pbx.Options.DisallowedEvents): a call that is queued, rung and
// bridged raises some 55 events, 30 of them ChannelVarset; a benchmark
// flow receives 11 of them. A test checks that no type in this list is
// one the controller's packages switch on.
var UnreadEvents = []string{
	"ChannelVarset",
	"ChannelConnectedLine",
	"ChannelCallerId",
	"ChannelDialplan",
	"ChannelStateChange",
	"ChannelCreated",
	"ChannelLeftBridge",
	"ChannelTalkingStarted",
	"ChannelTalkingFinished",
	"Dial",
	"BridgeCreated",
	"BridgeDestroyed",
	"PlaybackStarted",
	"PlaybackContinuing",
	"RecordingStarted",
}
