package pbx

import (
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/gogo/protobuf/types"
)

// The library decodes every ChannelData through its own UnmarshalJSON (an
// intermediate struct, a nested json.Unmarshal per date, a protobuf
// timestamp conversion) and every event timestamp through DateTime's. For
// the events a call produces, DecodeEvent instead decodes into the mirror
// structs below, whose fields encoding/json fills without any custom
// unmarshaller, and builds the library's values by hand.
//
// The result must equal the library's exactly, so a mirror is used only
// when the difference between the two cannot show:
//   - scanEvent has ruled out repeated keys (the library replaces a
//     repeated channel, encoding/json merges a repeated struct);
//   - a present date must parse (the library fails on null, "" or a bad
//     date, or falls back to time.Now out of protobuf's range) and a
//     present channel must carry a creationtime (the library turns a
//     missing one into the zero time): otherwise the library decodes.

// eventJSON mirrors ari.EventData.
type eventJSON struct {
	Application string `json:"application"`
	Dialog      string `json:"dialog,omitempty"`
	Node        string `json:"asterisk_id,omitempty"`
	Timestamp   string `json:"timestamp,omitempty"`
	Type        string `json:"type"`
}

// channelJSON mirrors the library's intermediate channelDataJSON.
type channelJSON struct {
	Key          *ari.Key          `json:"key,omitempty"`
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	State        string            `json:"state"`
	Accountcode  string            `json:"accountcode"`
	Caller       *ari.CallerID     `json:"caller"`
	Connected    *ari.CallerID     `json:"connected"`
	Creationtime string            `json:"creationtime"`
	Dialplan     *ari.DialplanCEP  `json:"dialplan"`
	Language     string            `json:"language"`
	ChannelVars  map[string]string `json:"channelvars"`
	ProtocolID   string            `json:"protocol_id"`
}

// Bounds of a valid protobuf timestamp (0001-01-01 to 10000-01-01 UTC).
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300800
)

// parseARITime parses an ARI date as ari.DateTime does.
func parseARITime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(ari.DateFormat, s)
	return t, err == nil
}

// eventData builds the library's EventData; ok is false when the library
// would fail or differ.
func (m *eventJSON) eventData(keys keySet) (ari.EventData, bool) {
	d := ari.EventData{Application: m.Application, Dialog: m.Dialog, Node: m.Node, Type: m.Type}
	if keys&keyTimestamp != 0 {
		t, ok := parseARITime(m.Timestamp)
		if !ok {
			return d, false
		}
		d.Timestamp = ari.DateTime(t)
	}
	return d, true
}

// channelData builds the library's ChannelData for a member that is
// present (per keys&bit) or absent; ok is false when the library would
// fail or differ.
func (m *channelJSON) channelData(keys, bit keySet) (ari.ChannelData, bool) {
	if keys&bit == 0 {
		return ari.ChannelData{}, true
	}
	t, ok := parseARITime(m.Creationtime)
	if !ok {
		return ari.ChannelData{}, false
	}
	sec := t.Unix()
	if sec < minTimestampSeconds || sec >= maxTimestampSeconds {
		return ari.ChannelData{}, false
	}
	return ari.ChannelData{
		Key:          m.Key,
		ID:           m.ID,
		Name:         m.Name,
		State:        m.State,
		Accountcode:  m.Accountcode,
		Caller:       m.Caller,
		Connected:    m.Connected,
		Creationtime: &types.Timestamp{Seconds: sec, Nanos: int32(t.Nanosecond())},
		Dialplan:     m.Dialplan,
		Language:     m.Language,
		ChannelVars:  m.ChannelVars,
		ProtocolId:   m.ProtocolID,
	}, true
}

// fastDecoder decodes one event type through a mirror; ok false sends the
// message to the library's decoder.
type fastDecoder func(data []byte, keys keySet) (e ari.Event, ok bool)

// fastDecoders holds the mirror decoders of the hot event types.
var fastDecoders = map[string]fastDecoder{
	ari.Events.StasisStart: decodeStasisStart,
	ari.Events.StasisEnd:   channelEvent(func(d ari.EventData, c ari.ChannelData) ari.Event { return &ari.StasisEnd{EventData: d, Channel: c} }),
	ari.Events.ChannelStateChange: channelEvent(func(d ari.EventData, c ari.ChannelData) ari.Event {
		return &ari.ChannelStateChange{EventData: d, Channel: c}
	}),
	ari.Events.ChannelConnectedLine: channelEvent(func(d ari.EventData, c ari.ChannelData) ari.Event {
		return &ari.ChannelConnectedLine{EventData: d, Channel: c}
	}),
	ari.Events.ChannelVarset:        decodeChannelVarset,
	ari.Events.ChannelHangupRequest: decodeChannelHangupRequest,
	ari.Events.ChannelDestroyed:     decodeChannelDestroyed,
	ari.Events.ChannelDtmfReceived:  decodeChannelDtmfReceived,
	ari.Events.Dial:                 decodeDial,
	ari.Events.ChannelEnteredBridge: bridgeEvent(func(d ari.EventData, b ari.BridgeData, c ari.ChannelData) ari.Event {
		return &ari.ChannelEnteredBridge{EventData: d, Bridge: b, Channel: c}
	}),
	ari.Events.ChannelLeftBridge: bridgeEvent(func(d ari.EventData, b ari.BridgeData, c ari.ChannelData) ari.Event {
		return &ari.ChannelLeftBridge{EventData: d, Bridge: b, Channel: c}
	}),
	ari.Events.PlaybackStarted: playbackEvent(func(d ari.EventData, p ari.PlaybackData) ari.Event {
		return &ari.PlaybackStarted{EventData: d, Playback: p}
	}),
	ari.Events.PlaybackFinished: playbackEvent(func(d ari.EventData, p ari.PlaybackData) ari.Event {
		return &ari.PlaybackFinished{EventData: d, Playback: p}
	}),
	ari.Events.PlaybackContinuing: playbackEvent(func(d ari.EventData, p ari.PlaybackData) ari.Event {
		return &ari.PlaybackContinuing{EventData: d, Playback: p}
	}),
	ari.Events.RecordingStarted: recordingEvent(func(d ari.EventData, r ari.LiveRecordingData) ari.Event {
		return &ari.RecordingStarted{EventData: d, Recording: r}
	}),
	ari.Events.RecordingFinished: recordingEvent(func(d ari.EventData, r ari.LiveRecordingData) ari.Event {
		return &ari.RecordingFinished{EventData: d, Recording: r}
	}),
}
