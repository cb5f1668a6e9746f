package aritest

import (
	"bytes"
	"testing"
	"time"
)

// TestChannelJSONAsObject: a channel's encoding, written member by member,
// is byte for byte that of its members as an object.
func TestChannelJSONAsObject(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	for _, c := range []*channel{
		{},
		{id: "1796028493.1", name: "PJSIP/op1000-0000002a", state: "Up", protocolID: "abc@127.0.0.1",
			caller: idName{Name: "ACME", Number: "0312345678"}, connected: idName{Name: "Operator 1000", Number: "1000"},
			dp:      dialplan{Context: "from-trunk", Exten: "0312345678", Priority: 3, App: "Stasis", AppData: "toritsugi,inbound"},
			created: time.Date(2026, 11, 28, 20, 33, 58, 792_000_000, tokyo)},
		{id: `a"b\c`, name: "<tag>&", state: "Ring", caller: idName{Name: "\"ACME\" <09000000000>", Number: "\x01\n"},
			connected: idName{Name: "山田 太郎", Number: "\u2028"}, dp: dialplan{Priority: -1, AppData: "\xff"},
			created: time.Date(1999, 1, 2, 3, 4, 5, 6, time.UTC)},
	} {
		want, err := marshal(object{
			{"id", c.id}, {"name", c.name}, {"state", c.state}, {"protocol_id", c.protocolID},
			{"caller", c.caller.json()}, {"connected", c.connected.json()}, {"accountcode", ""},
			{"dialplan", c.dp.json()}, {"creationtime", astTime(c.created)}, {"language", "en"},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshal(c.json())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("channel encoding\n got %s\nwant %s", got, want)
		}
		list, err := marshal([]channelJSON{c.json(), c.json()})
		if err != nil {
			t.Fatal(err)
		}
		if w := "[" + string(want) + "," + string(want) + "]"; string(list) != w {
			t.Errorf("channel list\n got %s\nwant %s", list, w)
		}
	}
}

// TestBridgeJSONAsObject: a bridge's encoding, written member by member,
// is byte for byte that of its members as an object.
func TestBridgeJSONAsObject(t *testing.T) {
	for _, b := range []*bridge{
		{},
		{id: "1.1-br-x-4", name: "toritsugi;app=toritsugi&call=1.1", typ: "mixing", tech: "simple_bridge",
			members: []string{"1.1", "1.1-op-op1000-x-2"}, created: time.Date(2026, 11, 28, 20, 33, 58, 792_000_000, time.FixedZone("JST", 9*3600))},
		{id: `"<b>"`, name: "会議\n", typ: "holding", tech: "holding_bridge", members: []string{"\xff"}},
	} {
		want, err := marshal(object{
			{"id", b.id}, {"technology", b.tech}, {"bridge_type", b.typ}, {"bridge_class", "stasis"},
			{"creator", "Stasis"}, {"name", b.name}, {"channels", strs(append([]string(nil), b.members...))},
			{"creationtime", astTime(b.created)}, {"video_mode", "talker"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := marshal(b.json()); err != nil || !bytes.Equal(got, want) {
			t.Errorf("bridge encoding (%v)\n got %s\nwant %s", err, got, want)
		}
		if got, err := marshal([]rawJSON{b.json(), b.json()}); err != nil || string(got) != "["+string(want)+","+string(want)+"]" {
			t.Errorf("bridge list (%v): %s", err, got)
		}
	}
}

// TestPlaybackJSONAsObject: the same for a playback, with and without a
// next item.
func TestPlaybackJSONAsObject(t *testing.T) {
	for _, p := range []*playback{
		{},
		{id: "1.1-pb-x-1", media: "sound:silence/1", next: []string{"sound:bench/greeting"}, target: "channel:1.1", state: "playing"},
		{id: "p\"", media: "sound:<x>", target: "bridge:b\u2028", state: "done"},
	} {
		o := object{{"id", p.id}, {"media_uri", p.media}}
		if len(p.next) > 0 {
			o = append(o, field{"next_media_uri", p.next[0]})
		}
		o = append(o, field{"target_uri", p.target}, field{"language", "en"}, field{"state", p.state})
		want, err := marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := marshal(p.json()); err != nil || !bytes.Equal(got, want) {
			t.Errorf("playback encoding (%v)\n got %s\nwant %s", err, got, want)
		}
		if id, _ := subjectOf(object{{"playback", p.json()}}); p.target == "channel:1.1" && id != "1.1" {
			t.Errorf("subject of a playback on channel:1.1: %q", id)
		}
	}
}
