package pbx

import (
	"encoding/json"
	"reflect"
	"testing"
)

// mirrorFor returns a new mirror of the hot event type typ, or nil.
func mirrorFor(typ string) any {
	switch typ {
	case "StasisEnd", "ChannelStateChange", "ChannelConnectedLine":
		return new(channelEventMirror)
	case "StasisStart":
		return new(stasisStartMirror)
	case "ChannelHangupRequest":
		return new(hangupRequestMirror)
	case "ChannelDestroyed":
		return new(destroyedMirror)
	case "PlaybackStarted", "PlaybackFinished", "PlaybackContinuing":
		return new(playbackMirror)
	case "ChannelEnteredBridge", "ChannelLeftBridge":
		return new(bridgeChannelMirror)
	}
	return nil
}

// handMatchesJSON checks that whenever handDecode takes a message its
// mirror equals json.Unmarshal's; it reports whether it took it.
func handMatchesJSON(t *testing.T, data []byte) bool {
	t.Helper()
	typ, _, ok := scanEvent(data)
	if !ok {
		return false
	}
	hand := mirrorFor(string(typ))
	if hand == nil || !handDecode(data, hand) {
		return false
	}
	want := mirrorFor(string(typ))
	if err := json.Unmarshal(data, want); err != nil {
		t.Fatalf("handDecode took %q, which json.Unmarshal refuses: %v", data, err)
	}
	if !reflect.DeepEqual(hand, want) {
		t.Fatalf("handDecode(%q)\n got %#v\nwant %#v", data, hand, want)
	}
	return true
}

// TestHandDecodeTakesRecordedEvents: every recorded event of a hot type is
// decoded by hand, to the same mirror as json.Unmarshal.
func TestHandDecodeTakesRecordedEvents(t *testing.T) {
	took := 0
	for _, data := range recordedEvents(t) {
		typ, _, ok := scanEvent(data)
		if !ok || mirrorFor(string(typ)) == nil {
			continue
		}
		if !handMatchesJSON(t, data) {
			t.Errorf("handDecode refused a recorded event: %s", data)
			continue
		}
		took++
	}
	if took == 0 {
		t.Fatal("no recorded hot event")
	}
}

// TestHandDecodeRefusesWhatJSONReadsDifferently: shapes where a plain
// reading would differ from encoding/json are refused (left to it).
func TestHandDecodeRefusesWhatJSONReadsDifferently(t *testing.T) {
	const ch = `"channel":{"id":"a","creationtime":"2026-11-28T20:33:58.792+0900"}`
	for _, in := range []string{
		`{"type":"StasisEnd","Type":"x",` + ch + `}`,                                             // case-folded duplicate of a known key
		`{"type":"StasisEnd","CHANNEL":{"id":"b"}}`,                                              // a known key in another case
		`{"type":"StasisEnd","channel":{"id":"a\u0041"}}`,                                        // escape
		`{"type":"StasisEnd","channel":{"id":"a","key":{"kind":"channel"}}}`,                     // cluster key
		`{"type":"ChannelHangupRequest","cause":16.0,` + ch + `}`,                                // fraction
		`{"type":"ChannelHangupRequest","cause":1e2,` + ch + `}`,                                 // exponent
		`{"type":"ChannelHangupRequest","cause":016,` + ch + `}`,                                 // leading zero (invalid JSON)
		`{"type":"ChannelHangupRequest","cause":"16",` + ch + `}`,                                // string for an int
		`{"type":"StasisStart","args":["a",null],` + ch + `}`,                                    // null element
		`{"type":"StasisEnd","channel":{"id":"a","channelvars":{"X":null}}}`,                     // null map value
		`{"type":"StasisEnd",` + ch + `} x`,                                                      // trailing garbage
		`{"type":"StasisEnd","extra":[1,],` + ch + `}`,                                           // invalid skipped value
		"{\"type\":\"StasisEnd\",\"channel\":{\"id\":\"\xff\"}}",                                 // invalid UTF-8
		`{"type":"ChannelEnteredBridge","bridge":{"id":"b","Channels":["a"]},` + ch + `}`,        // a bridge key in another case
		`{"type":"ChannelEnteredBridge","bridge":{"id":"b","key":{"kind":"bridge"}},` + ch + `}`, // cluster key
		`{"type":"ChannelEnteredBridge","bridge":{"id":"b","channels":["a",null]},` + ch + `}`,   // null element
	} {
		if handMatchesJSON(t, []byte(in)) {
			t.Errorf("handDecode took %s", in)
		}
	}
	// And shapes it takes, equal to encoding/json's reading.
	for _, in := range []string{
		`{"type":"StasisEnd","extra":{"a":[1,2.5e3,"x\n",true,null]},` + ch + `}`,
		`{"type":"StasisEnd","channel":null}`,
		`{"type":"StasisEnd","channel":{"id":"a","caller":null,"dialplan":{"priority":-3},"channelvars":{}}}`,
		`{"type":"StasisStart","args":[],"replace_channel":null,` + ch + `}`,
		`{"type":"ChannelHangupRequest","cause":null,"soft":true,` + ch + `}`,
		`{"type":"PlaybackFinished","playback":{"id":"p","state":"done","next_media_uri":"x"}}`,
		`{"type":"StasisEnd","channel":{"id":"電話","name":"ＡＣＭＥ"}}`,
		`{"type":"ChannelEnteredBridge","bridge":{"id":"b","channels":["a"],"creationtime":"2026-11-28T20:33:58.792+0900","video_mode":"talker"},` + ch + `}`,
		`{"type":"ChannelLeftBridge","bridge":null,` + ch + `}`,
		`{"type":"ChannelLeftBridge","bridge":{"id":"b","channels":null},"channel":null}`,
	} {
		if !handMatchesJSON(t, []byte(in)) {
			t.Errorf("handDecode refused %s", in)
		}
	}
}

// FuzzHandDecode: whatever handDecode takes, json.Unmarshal reads the same.
func FuzzHandDecode(f *testing.F) {
	for _, ev := range recordedEvents(f) {
		f.Add(ev)
	}
	f.Fuzz(func(t *testing.T, data []byte) { handMatchesJSON(t, data) })
}
