package pbx

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/CyCoreSystems/ari/v6"
)

func mustDecode(t testing.TB, js string) ari.Event {
	t.Helper()
	e, err := DecodeEvent([]byte(js))
	if err != nil {
		t.Fatalf("decode %s: %v", js, err)
	}
	return e
}

func chanEvent(typ, id string) string {
	return fmt.Sprintf(`{"type":%q,"application":"toritsugi","channel":{"id":%q,"name":"PJSIP/trunk-1","state":"Up"}}`, typ, id)
}

func TestDispatchNewChannelThenOrdered(t *testing.T) {
	var created []string
	inboxes := map[string]*Inbox{}
	d := NewDispatcher(Hooks{NewChannel: func(e *ari.StasisStart) *Inbox {
		created = append(created, e.Channel.ID)
		b := NewInbox()
		inboxes[e.Channel.ID] = b
		return b
	}}, nil)

	d.Dispatch(mustDecode(t, `{"type":"StasisStart","args":["inbound","0312345678"],"channel":{"id":"c1","state":"Ring"}}`))
	d.Dispatch(mustDecode(t, chanEvent("ChannelStateChange", "c1")))
	d.Dispatch(mustDecode(t, `{"type":"PlaybackStarted","playback":{"id":"p1","target_uri":"channel:c1","state":"playing"}}`))
	d.Dispatch(mustDecode(t, chanEvent("StasisEnd", "c1")))

	if len(created) != 1 {
		t.Fatalf("NewChannel called %d times, want 1", len(created))
	}
	var types []string
	for _, e := range inboxes["c1"].Drain() {
		types = append(types, e.GetType())
	}
	want := []string{"StasisStart", "ChannelStateChange", "PlaybackStarted", "StasisEnd"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("inbox got %v, want %v", types, want)
	}
}

func TestDispatchBoundBeforeStasisStart(t *testing.T) {
	// An originated operator channel gets Dial and ChannelStateChange before
	// its StasisStart (recordings 03/05): binding its id first catches them.
	calls := 0
	d := NewDispatcher(Hooks{NewChannel: func(*ari.StasisStart) *Inbox { calls++; return NewInbox() }}, nil)
	b := NewInbox()
	d.BindChannel("op-1", b)
	d.Dispatch(mustDecode(t, `{"type":"Dial","dialstatus":"","peer":{"id":"op-1"}}`))
	d.Dispatch(mustDecode(t, chanEvent("ChannelStateChange", "op-1")))
	d.Dispatch(mustDecode(t, `{"type":"StasisStart","args":["operator","c1"],"channel":{"id":"op-1"}}`))
	if calls != 0 {
		t.Fatalf("NewChannel called for a bound channel")
	}
	if n := b.Len(); n != 3 {
		t.Fatalf("bound inbox has %d events, want 3", n)
	}
	d.UnbindChannel("op-1", b)
	d.Dispatch(mustDecode(t, `{"type":"ChannelDestroyed","cause":16,"channel":{"id":"op-1"}}`))
	if n := b.Len(); n != 3 {
		t.Fatalf("unbound inbox still receives events: %d", n)
	}
}

func TestDispatchOneDeliveryPerInbox(t *testing.T) {
	d := NewDispatcher(Hooks{}, nil)
	b := NewInbox()
	d.BindChannel("a", b)
	d.BindChannel("b", b)
	d.BindBridge("br", b)
	d.Dispatch(mustDecode(t, `{"type":"ChannelEnteredBridge","bridge":{"id":"br","channels":["a","b"]},"channel":{"id":"a"}}`))
	if n := b.Len(); n != 1 {
		t.Fatalf("event delivered %d times to one inbox, want 1", n)
	}
}

func TestDispatchEndpointAndOther(t *testing.T) {
	var ep, other []string
	d := NewDispatcher(Hooks{
		Endpoint: func(e ari.Event) { ep = append(ep, e.GetType()) },
		Other:    func(e ari.Event) { other = append(other, e.GetType()) },
	}, nil)
	d.Dispatch(mustDecode(t, `{"type":"EndpointStateChange","endpoint":{"technology":"PJSIP","resource":"op1001","state":"online"}}`))
	d.Dispatch(mustDecode(t, `{"type":"ContactStatusChange","endpoint":{"technology":"PJSIP","resource":"op1001"},"contact_info":{"contact_status":"Removed"}}`))
	d.Dispatch(mustDecode(t, chanEvent("ChannelDestroyed", "gone")))
	if fmt.Sprint(ep) != "[EndpointStateChange ContactStatusChange]" || fmt.Sprint(other) != "[ChannelDestroyed]" {
		t.Fatalf("endpoint hook got %v, other hook got %v", ep, other)
	}
}

func TestResyncAdoptsOrphansAndTellsOwners(t *testing.T) {
	var adopted, bridges []string
	d := NewDispatcher(Hooks{}, nil)
	d.SetHooks(Hooks{Adopt: func(chans []*ari.ChannelData, bs []*ari.BridgeData) {
		for _, c := range chans {
			adopted = append(adopted, c.ID)
			d.BindChannel(c.ID, NewInbox())
		}
		for _, b := range bs {
			bridges = append(bridges, b.ID)
		}
	}})
	owner := NewInbox()
	d.BindChannel("known", owner)
	d.resync(map[string]*ari.ChannelData{"orphan": {ID: "orphan"}}, []*ari.BridgeData{{ID: "br1"}})
	if fmt.Sprint(adopted) != "[orphan]" || fmt.Sprint(bridges) != "[br1]" {
		t.Fatalf("adopted %v with bridges %v, want [orphan] with [br1]", adopted, bridges)
	}
	evs := owner.Drain()
	if len(evs) != 1 {
		t.Fatalf("owner got %d events, want one Resync", len(evs))
	}
	r, ok := evs[0].(*Resync)
	if !ok || r.Live["known"] || !r.Live["orphan"] || r.GetType() != ResyncType {
		t.Fatalf("owner got %#v, want Resync with known=false orphan=true", evs[0])
	}
}

func TestInboxNeverBlocksAndKeepsOrder(t *testing.T) {
	b := NewInbox()
	const n = 10000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			b.Push(&ari.ChannelVarset{Value: fmt.Sprint(i)})
		}
	}()
	got := 0
	for got < n {
		<-b.Ready()
		for _, e := range b.Drain() {
			if v := e.(*ari.ChannelVarset).Value; v != fmt.Sprint(got) {
				t.Fatalf("event %d out of order: %s", got, v)
			}
			got++
		}
	}
	wg.Wait()
	b.Close()
	b.Push(&ari.ChannelVarset{})
	if b.Len() != 0 {
		t.Fatal("Push after Close kept an event")
	}
}

func TestTargetsOf(t *testing.T) {
	tests := []struct {
		js       string
		channels string
		bridges  string
		endpoint string
	}{
		{`{"type":"PlaybackFinished","playback":{"id":"p","target_uri":"channel:c1"}}`, "[c1]", "[]", ""},
		{`{"type":"RecordingFinished","recording":{"name":"r","target_uri":"bridge:b1"}}`, "[]", "[b1]", ""},
		{`{"type":"Dial","peer":{"id":"op"},"dialstatus":"ANSWER"}`, "[op]", "[]", ""},
		{`{"type":"BridgeDestroyed","bridge":{"id":"b1","channels":[]}}`, "[]", "[b1]", ""},
		{`{"type":"PeerStatusChange","endpoint":{"technology":"PJSIP","resource":"op1"},"peer":{"peer_status":"Reachable"}}`, "[]", "[]", "PJSIP/op1"},
		{`{"type":"ApplicationReplaced","application":"toritsugi"}`, "[]", "[]", ""},
	}
	for _, tt := range tests {
		got := TargetsOf(mustDecode(t, tt.js))
		if fmt.Sprint(orEmpty(got.Channels)) != tt.channels || fmt.Sprint(orEmpty(got.Bridges)) != tt.bridges || got.Endpoint != tt.endpoint {
			t.Errorf("TargetsOf(%s) = %+v", tt.js, got)
		}
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestDecodeEventErrors(t *testing.T) {
	for _, in := range []string{``, `{}`, `[]`, `{"type":""}`, `not json`, `{"type":"StasisStart","args":5}`} {
		if _, err := DecodeEvent([]byte(in)); err == nil {
			t.Errorf("DecodeEvent(%q) = nil error", in)
		}
	}
	if _, err := json.Marshal(struct{}{}); err != nil {
		t.Fatal(err)
	}
}

// TestTargetsOfHotEvents: the events read from their members give what
// their Keys give.
func TestTargetsOfHotEvents(t *testing.T) {
	for _, js := range []string{
		`{"type":"StasisStart","channel":{"id":"c1"},"args":[]}`,
		`{"type":"StasisStart","channel":{"id":"c1"},"replace_channel":{"id":"c0"}}`,
		`{"type":"StasisStart","channel":{"id":"c1"},"replace_channel":{"id":"c1"}}`,
		`{"type":"StasisEnd","channel":{"id":"c1"}}`,
		`{"type":"ChannelHangupRequest","channel":{"id":"c1"},"cause":16}`,
		`{"type":"ChannelDestroyed","channel":{"id":"c1"},"cause":16}`,
		`{"type":"ChannelDestroyed","channel":{"id":""}}`,
		`{"type":"ChannelEnteredBridge","bridge":{"id":"b1","channels":["c1","c2"]},"channel":{"id":"c1"}}`,
		`{"type":"ChannelEnteredBridge","bridge":{"id":"b1","channels":[]},"channel":{"id":"c3"}}`,
	} {
		e := mustDecode(t, js)
		if got, want := TargetsOf(e), targetsOfKeys(e); !reflect.DeepEqual(got, want) {
			t.Errorf("TargetsOf(%s) = %+v, from its keys %+v", js, got, want)
		}
	}
}
