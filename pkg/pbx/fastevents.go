package pbx

import (
	"encoding/json"

	"github.com/CyCoreSystems/ari/v6"
)

// The mirror decoders of fastDecoders, one per event shape. Each mirror
// carries the library struct's JSON names, with channels and dates as
// channelJSON and strings.

// The mirror types of the hot events: handDecode fills them by hand when
// it can, json.Unmarshal otherwise.
type (
	channelEventMirror struct {
		eventJSON
		Channel channelJSON `json:"channel"`
	}
	stasisStartMirror struct {
		eventJSON
		Args           []string    `json:"args"`
		Channel        channelJSON `json:"channel"`
		ReplaceChannel channelJSON `json:"replace_channel,omitempty"`
	}
	hangupRequestMirror struct {
		eventJSON
		Cause   int         `json:"cause"`
		Channel channelJSON `json:"channel"`
		Soft    bool        `json:"soft"`
	}
	destroyedMirror struct {
		eventJSON
		Cause    int         `json:"cause"`
		CauseTxt string      `json:"cause_txt"`
		Channel  channelJSON `json:"channel"`
	}
	playbackMirror struct {
		eventJSON
		Playback ari.PlaybackData `json:"playback"`
	}
	bridgeChannelMirror struct {
		eventJSON
		Bridge  ari.BridgeData `json:"bridge"`
		Channel channelJSON    `json:"channel"`
	}
)

// unmarshalMirror fills *m from data: by hand when handDecode takes the
// message, else (from a zero value again) with json.Unmarshal.
func unmarshalMirror[M any](data []byte, m *M) bool {
	if handDecode(data, m) {
		return true
	}
	var zero M
	*m = zero
	return json.Unmarshal(data, m) == nil
}

func channelEvent(mk func(ari.EventData, ari.ChannelData) ari.Event) fastDecoder {
	return func(data []byte, keys keySet) (ari.Event, bool) {
		var m channelEventMirror
		if !unmarshalMirror(data, &m) {
			return nil, false
		}
		d, ok1 := m.eventData(keys)
		c, ok2 := m.Channel.channelData(keys, keyChannel)
		return mk(d, c), ok1 && ok2
	}
}

func bridgeEvent(mk func(ari.EventData, ari.BridgeData, ari.ChannelData) ari.Event) fastDecoder {
	return func(data []byte, keys keySet) (ari.Event, bool) {
		var m bridgeChannelMirror
		if !unmarshalMirror(data, &m) {
			return nil, false
		}
		d, ok1 := m.eventData(keys)
		c, ok2 := m.Channel.channelData(keys, keyChannel)
		return mk(d, m.Bridge, c), ok1 && ok2
	}
}

func playbackEvent(mk func(ari.EventData, ari.PlaybackData) ari.Event) fastDecoder {
	return func(data []byte, keys keySet) (ari.Event, bool) {
		var m playbackMirror
		if !unmarshalMirror(data, &m) {
			return nil, false
		}
		d, ok := m.eventData(keys)
		return mk(d, m.Playback), ok
	}
}

func recordingEvent(mk func(ari.EventData, ari.LiveRecordingData) ari.Event) fastDecoder {
	return func(data []byte, keys keySet) (ari.Event, bool) {
		var m struct {
			eventJSON
			Recording ari.LiveRecordingData `json:"recording"`
		}
		if json.Unmarshal(data, &m) != nil {
			return nil, false
		}
		d, ok := m.eventData(keys)
		return mk(d, m.Recording), ok
	}
}

func decodeStasisStart(data []byte, keys keySet) (ari.Event, bool) {
	var m stasisStartMirror
	if !unmarshalMirror(data, &m) {
		return nil, false
	}
	d, ok1 := m.eventData(keys)
	c, ok2 := m.Channel.channelData(keys, keyChannel)
	r, ok3 := m.ReplaceChannel.channelData(keys, keyReplaceChannel)
	return &ari.StasisStart{EventData: d, Args: m.Args, Channel: c, ReplaceChannel: r}, ok1 && ok2 && ok3
}

func decodeChannelVarset(data []byte, keys keySet) (ari.Event, bool) {
	var m struct {
		eventJSON
		Channel  channelJSON `json:"channel,omitempty"`
		Value    string      `json:"value"`
		Variable string      `json:"variable"`
	}
	if json.Unmarshal(data, &m) != nil {
		return nil, false
	}
	d, ok1 := m.eventData(keys)
	c, ok2 := m.Channel.channelData(keys, keyChannel)
	return &ari.ChannelVarset{EventData: d, Channel: c, Value: m.Value, Variable: m.Variable}, ok1 && ok2
}

func decodeChannelHangupRequest(data []byte, keys keySet) (ari.Event, bool) {
	var m hangupRequestMirror
	if !unmarshalMirror(data, &m) {
		return nil, false
	}
	d, ok1 := m.eventData(keys)
	c, ok2 := m.Channel.channelData(keys, keyChannel)
	return &ari.ChannelHangupRequest{EventData: d, Cause: m.Cause, Channel: c, Soft: m.Soft}, ok1 && ok2
}

func decodeChannelDestroyed(data []byte, keys keySet) (ari.Event, bool) {
	var m destroyedMirror
	if !unmarshalMirror(data, &m) {
		return nil, false
	}
	d, ok1 := m.eventData(keys)
	c, ok2 := m.Channel.channelData(keys, keyChannel)
	return &ari.ChannelDestroyed{EventData: d, Cause: m.Cause, CauseTxt: m.CauseTxt, Channel: c}, ok1 && ok2
}

func decodeChannelDtmfReceived(data []byte, keys keySet) (ari.Event, bool) {
	var m struct {
		eventJSON
		Channel    channelJSON `json:"channel"`
		Digit      string      `json:"digit"`
		DurationMs int         `json:"duration_ms"`
	}
	if json.Unmarshal(data, &m) != nil {
		return nil, false
	}
	d, ok1 := m.eventData(keys)
	c, ok2 := m.Channel.channelData(keys, keyChannel)
	return &ari.ChannelDtmfReceived{EventData: d, Channel: c, Digit: m.Digit, DurationMs: m.DurationMs}, ok1 && ok2
}

func decodeDial(data []byte, keys keySet) (ari.Event, bool) {
	var m struct {
		eventJSON
		Caller     channelJSON `json:"caller,omitempty"`
		Dialstatus string      `json:"dialstatus"`
		Dialstring string      `json:"dialstring,omitempty"`
		Forward    string      `json:"forward,omitempty"`
		Forwarded  channelJSON `json:"forwarded,omitempty"`
		Peer       channelJSON `json:"peer"`
	}
	if json.Unmarshal(data, &m) != nil {
		return nil, false
	}
	d, ok1 := m.eventData(keys)
	caller, ok2 := m.Caller.channelData(keys, keyCaller)
	fwd, ok3 := m.Forwarded.channelData(keys, keyForwarded)
	peer, ok4 := m.Peer.channelData(keys, keyPeer)
	e := &ari.Dial{EventData: d, Caller: caller, Dialstatus: m.Dialstatus, Dialstring: m.Dialstring,
		Forward: m.Forward, Forwarded: fwd, Peer: peer}
	return e, ok1 && ok2 && ok3 && ok4
}
