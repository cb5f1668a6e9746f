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
