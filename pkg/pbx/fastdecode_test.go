package pbx

import (
	"testing"
)

// TestFastDecodersTakeRecordedEvents checks that every recorded event of
// a hot type is built by its mirror decoder (and so that the comparison
// with the library in TestDecodeEventMatchesLibraryOnRecordings covers
// the mirrors, not the fallback).
func TestFastDecodersTakeRecordedEvents(t *testing.T) {
	hot, fast := 0, 0
	for _, data := range recordedEvents(t) {
		typ, keys, ok := scanEvent(data)
		if !ok {
			t.Fatalf("scanEvent refused a recorded event: %s", data)
		}
		dec := fastDecoders[string(typ)]
		if dec == nil {
			continue
		}
		hot++
		if _, ok := dec(data, keys); ok {
			fast++
		} else {
			t.Errorf("mirror decoder refused a recorded event: %s", data)
		}
	}
	if hot == 0 {
		t.Fatal("no recorded event of a hot type")
	}
	t.Logf("%d of %d hot events decoded by mirrors", fast, hot)
}

// TestFastDecodeMatchesLibraryOnEdgeCases feeds the cases where a naive
// mirror would differ from the library: repeated members, null or missing
// channels and dates, dates out of protobuf's range.
func TestFastDecodeMatchesLibraryOnEdgeCases(t *testing.T) {
	const ct = `"creationtime":"2026-11-28T20:33:58.792+0900"`
	for _, in := range []string{
		`{"type":"StasisEnd","channel":{"id":"a",` + ct + `}}`,
		`{"type":"StasisEnd","timestamp":"2026-11-28T20:33:58.792+0000","channel":{"id":"a",` + ct + `}}`,
		`{"type":"StasisEnd"}`,
		`{"type":"StasisEnd","channel":null}`,
		`{"type":"StasisEnd","channel":{}}`,
		`{"type":"StasisEnd","channel":{"id":"a"}}`,
		`{"type":"StasisEnd","channel":{"id":"a","creationtime":null}}`,
		`{"type":"StasisEnd","channel":{"id":"a","creationtime":""}}`,
		`{"type":"StasisEnd","channel":{"id":"a","creationtime":5}}`,
		`{"type":"StasisEnd","channel":5}`,
		`{"type":"StasisEnd","channel":{"id":"a","creationtime":"bad",` + ct + `}}`,
		`{"type":"StasisEnd","channel":{"id":"a","creationtime":null,` + ct + `}}`,
		`{"type":"StasisEnd","channel":{"id":"a","CreationTime":"bad",` + ct + `}}`,
		`{"type":"StasisEnd","channel":{"id":"a","name":"x",` + ct + `},"channel":{"id":"b",` + ct + `}}`,
		`{"type":"StasisEnd","Channel":{"id":"a","name":"x",` + ct + `},"channel":{"id":"b",` + ct + `}}`,
		`{"type":"StasisEnd","channel":{"id":"a","caller":{"name":"n"},"caller":{"number":"1"},` + ct + `}}`,
		`{"type":"StasisEnd","timestamp":null,"channel":{"id":"a",` + ct + `}}`,
		`{"type":"StasisEnd","timestamp":"","channel":{"id":"a",` + ct + `}}`,
		`{"type":"StasisEnd","TimeStamp":"2026-11-28T20:33:58.792+0000","channel":{"id":"a",` + ct + `}}`,
		`{"type":"StasisStart","args":null,"channel":{"id":"a",` + ct + `},"replace_channel":null}`,
		`{"type":"StasisStart","args":[],"channel":{"id":"a",` + ct + `},"replace_channel":{"id":"b",` + ct + `}}`,
		`{"type":"Dial","dialstatus":"","peer":{"id":"p",` + ct + `}}`,
		`{"type":"Dial","dialstatus":"ANSWER","caller":{"id":"c",` + ct + `},"peer":{"id":"p",` + ct + `},"forwarded":{}}`,
		`{"type":"ChannelVarset","variable":"G","value":"1"}`,
		`{"type":"ChannelDestroyed","cause":16,"cause_txt":"Normal","channel":{"id":"a","channelvars":{"A":"1"},` + ct + `}}`,
		`{"type":"ChannelDestroyed","cause":"16","channel":{"id":"a",` + ct + `}}`,
		`{"type":"PlaybackFinished","playback":{"id":"p","state":"done"},"playback":{"id":"q"}}`,
		`{"type":"RecordingFinished","recording":{"name":"r","duration":3}}`,
		`{"type":"ChannelEnteredBridge","bridge":{"id":"b","channels":["a"]},"channel":{"id":"a",` + ct + `}}`,
	} {
		sameAsLibrary(t, []byte(in))
	}
}

// TestChannelDataRefusesOutOfRangeDates checks that dates the library
// would replace with time.Now go to the library (comparing two calls of
// time.Now would be flaky, hence no comparison here).
func TestChannelDataRefusesOutOfRangeDates(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"9999-12-31T23:59:59.000-2300", false},
		{"0001-01-01T00:00:00.000+0100", false},
		{"0001-01-01T00:00:00.000+0000", true},
		{"9999-12-31T23:59:59.999+0000", true},
	} {
		m := channelJSON{ID: "a", Creationtime: c.in}
		if _, ok := m.channelData(keyChannel, keyChannel); ok != c.ok {
			t.Errorf("channelData(creationtime %s) ok = %v, want %v", c.in, ok, c.ok)
		}
	}
}

func TestScanEvent(t *testing.T) {
	for _, c := range []struct {
		in   string
		typ  string
		keys keySet
		ok   bool
	}{
		{`{"type":"X"}`, "X", 0, true},
		{` {"Channel":{"type":"y"},"timestamp":"t","type":"X","peer":[1,{"a":2}]} `, "X", keyChannel | keyTimestamp | keyPeer, true},
		{`{"type":"X","a":{"b":1,"B":2}}`, "", 0, false},
		{`{"type":"X","a":[{"b":1,"b":2}]}`, "", 0, false},
		{`{"type":"X","a":{"\u0062":1}}`, "", 0, false},
		{`{"type":"X","caller":1,"CALLER":2}`, "", 0, false},
		{`{"type":"X","a":{"b":[1,2}}`, "", 0, false},
		{`{"Type":"X"}`, "", 0, false},
		{`{"type":""}`, "", 0, false},
		{`{"type":"X"`, "", 0, false},
	} {
		typ, keys, ok := scanEvent([]byte(c.in))
		if string(typ) != c.typ || keys != c.keys || ok != c.ok {
			t.Errorf("scanEvent(%s) = %q, %b, %v; want %q, %b, %v", c.in, typ, keys, ok, c.typ, c.keys, c.ok)
		}
	}
}
