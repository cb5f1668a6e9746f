package operators

import (
	"fmt"
	"maps"
	"math"
	"strings"
	"sync"
	"testing"
)

func TestTrack(t *testing.T) {
	raw := recorded(t)
	var logs logBuffer
	var c collector
	r := NewRegistry(newLogger(&logs), c.add)
	r.Track([]string{"PJSIP/op1001", "PJSIP/op1002", "op1003", "PJSIP/", " PJSIP/op1004"})

	if got, want := r.Snapshot(), map[string]bool{"PJSIP/op1001": false, "PJSIP/op1002": false}; !maps.Equal(got, want) {
		t.Fatalf("Snapshot = %v, want %v", got, want)
	}
	if n := strings.Count(logs.String(), "malformed operator endpoint"); n != 3 {
		t.Errorf("%d malformed-name warnings, want 3:\n%s", n, logs.String())
	}

	r.HandleEvent(decode(t, raw[0])) // op1001 online
	// an untracked endpoint's events are ignored
	r.HandleEvent(decode(t, variant(t, raw[0], `"resource":"op1001"`, `"resource":"op1009"`)))
	if r.Reachable("PJSIP/op1009") {
		t.Error("untracked endpoint reported reachable")
	}

	// reload: op1001 stays tracked and keeps its state
	r.Track([]string{"PJSIP/op1002", "PJSIP/op1001"})
	if !r.Reachable("PJSIP/op1001") {
		t.Error("re-tracking lost op1001's state")
	}
	// reload without op1001: reported as no longer reachable
	r.Track([]string{"PJSIP/op1002"})
	if r.Reachable("PJSIP/op1001") {
		t.Error("untracked op1001 still reachable")
	}
	want := []Change{
		{Endpoint: "PJSIP/op1001", Reachable: true, ReachableChanged: true, Reason: "EndpointStateChange online"},
		{Endpoint: "PJSIP/op1001", Reachable: false, ReachableChanged: true, Reason: "no longer tracked"},
	}
	if got := c.all(); !equalChanges(got, want) {
		t.Fatalf("changes %+v, want %+v", got, want)
	}
	// tracked again: starts unreachable
	r.Track([]string{"PJSIP/op1001"})
	if got, want := r.Snapshot(), map[string]bool{"PJSIP/op1001": false}; !maps.Equal(got, want) {
		t.Fatalf("Snapshot = %v, want %v", got, want)
	}
}

func equalChanges(a, b []Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOnChangeMayCallBack checks that onChange runs outside the lock: it may
// read the registry and even change it, and the change it causes is
// delivered after it returns, in order.
func TestOnChangeMayCallBack(t *testing.T) {
	raw := recorded(t)
	var r *Registry
	var got []string
	r = NewRegistry(nil, func(c Change) {
		got = append(got, fmt.Sprintf("%s %v %s reachable-now=%v", c.Endpoint, c.Reachable, c.Reason, r.Reachable(c.Endpoint)))
		if c.Reachable {
			r.Track(nil) // drops op1001: a nested change
			got = append(got, "after nested Track")
		}
	})
	r.Track([]string{"PJSIP/op1001"})
	r.HandleEvent(decode(t, raw[0]))
	want := []string{
		"PJSIP/op1001 true EndpointStateChange online reachable-now=true",
		"after nested Track",
		"PJSIP/op1001 false no longer tracked reachable-now=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestConcurrentEventsKeepChangeOrder feeds events from several goroutines:
// whatever the interleaving, the changes reported for an endpoint must
// alternate (a change is a flip) and end at the registry's final state.
func TestConcurrentEventsKeepChangeOrder(t *testing.T) {
	raw := recorded(t)
	eps := []string{"PJSIP/op1001", "PJSIP/op1002", "PJSIP/op1003"}
	var c collector
	r := NewRegistry(nil, c.add)
	r.Track(eps)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				ep := eps[(g+i)%len(eps)]
				res := strings.TrimPrefix(ep, "PJSIP/")
				ev := decode(t, variant(t, raw[(g*7+i)%len(raw)], `"resource":"op1001"`, `"resource":"`+res+`"`))
				r.HandleEvent(ev)
				_ = r.Snapshot()
				_ = r.Reachable(ep)
			}
		})
	}
	wg.Wait()
	last := map[string]bool{}
	for _, ch := range c.all() {
		if ch.Reachable == last[ch.Endpoint] {
			t.Fatalf("change %+v does not flip the previous state", ch)
		}
		last[ch.Endpoint] = ch.Reachable
	}
	for _, ep := range eps {
		if last[ep] != r.Reachable(ep) {
			t.Errorf("%s: last change says %v, registry says %v", ep, last[ep], r.Reachable(ep))
		}
	}
}

// TestRegistrationIsANewContact: a phone registers when a contact event
// names a contact the registry did not have (unless that first event is a
// qualify's result: registered before the registry watched), or one it
// saw removed; one Asterisk's qualify found unreachable and then
// reachable again (a network blip) changes reachability only. A contact registered while the endpoint is not yet
// reachable (qualify on: Unknown until the first OPTIONS answers) is told
// as registered once it is. Not registrations: a second device's contact
// while the endpoint is reachable, and the contact event of a REGISTER
// refresh after a start (the endpoint read online); one after the
// endpoint was read offline (the link lost its removal) is.
func TestRegistrationIsANewContact(t *testing.T) {
	contact := func(uri, status, state string) string {
		return `{"type":"ContactStatusChange","endpoint":{"technology":"PJSIP","resource":"op1001","state":"` + state +
			`","channel_ids":[]},"contact_info":{"uri":"` + uri + `","contact_status":"` + status + `","aor":"op1001"}}`
	}
	endpoint := func(state string) string {
		return `{"type":"EndpointStateChange","endpoint":{"technology":"PJSIP","resource":"op1001","state":"` + state + `","channel_ids":[]}}`
	}
	const pc, phone = "sip:op1001@192.0.2.7:5060", "sip:op1001@192.0.2.8:5062"
	type want struct{ reachable, reachableChanged, registered bool }
	for _, tc := range []struct {
		name   string
		events []string
		want   []want
	}{
		{"registers, qualify off", []string{endpoint("online"), contact(pc, "NonQualified", "online")},
			[]want{{true, true, false}, {true, false, true}}},
		{"a blip", []string{contact(pc, "NonQualified", "online"), endpoint("offline"), contact(pc, "Unreachable", "offline"),
			endpoint("online"), contact(pc, "Reachable", "online")},
			[]want{{true, true, true}, {false, true, false}, {true, true, false}}},
		{"unregisters and registers again", []string{contact(pc, "NonQualified", "online"), contact(pc, "Removed", "offline"),
			contact(pc, "Reachable", "online")},
			[]want{{true, true, true}, {false, true, false}, {true, true, true}}},
		{"a blip of a phone registered before the start", []string{endpoint("online"), contact(pc, "Unreachable", "offline"),
			contact(pc, "Reachable", "online")},
			[]want{{true, true, false}, {false, true, false}, {true, true, false}}},
		{"registered before the start, unregisters and registers again", []string{contact(pc, "Reachable", "online"),
			contact(pc, "Removed", "offline"), contact(pc, "Reachable", "online")},
			[]want{{true, true, false}, {false, true, false}, {true, true, true}}},
		{"qualify on: Unknown until the first answer", []string{contact(pc, "Unknown", "offline"), contact(pc, "Reachable", "online")},
			[]want{{true, true, true}}},
		{"removed before it answered", []string{contact(pc, "Unknown", "offline"), contact(pc, "Removed", "offline"),
			endpoint("online")},
			[]want{{true, true, false}}},
		{"a second device, the first reachable", []string{endpoint("online"), contact(pc, "NonQualified", "online"), contact(phone, "NonQualified", "online"),
			contact(phone, "Reachable", "online")},
			[]want{{true, true, false}, {true, false, true}}},
		{"a REGISTER refresh after a start (qualify off)", []string{"read online", contact(pc, "NonQualified", "online")},
			[]want{{true, true, false}}},
		{"registering again after a removal the link lost", []string{endpoint("online"), contact(pc, "NonQualified", "online"),
			"read offline", endpoint("online"), contact(pc, "NonQualified", "online")},
			[]want{{true, true, false}, {true, false, true}, {false, true, false}, {true, true, false}, {true, false, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c collector
			r := NewRegistry(nil, c.add)
			r.Track([]string{"PJSIP/op1001"})
			for _, e := range tc.events {
				if state, ok := strings.CutPrefix(e, "read "); ok { // the GET after a (re)connect
					r.applyRead(Observation{Endpoint: "PJSIP/op1001", Reachable: state == "online", Definite: true, Reason: "GET endpoint " + state}, math.MaxUint64)
					continue
				}
				r.HandleEvent(decode(t, []byte(e)))
			}
			var got []want
			for _, ch := range c.all() {
				got = append(got, want{ch.Reachable, ch.ReachableChanged, ch.Registered})
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("changes {reachable changed registered} %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRemovedContactsAreBounded: a phone registering from a new port each
// time (NAT) leaves a removed contact each time: the endpoint's state
// keeps at most maxContactsKept, and a contact removed last is still
// known as such (back, it is a registration).
func TestRemovedContactsAreBounded(t *testing.T) {
	var c collector
	r := NewRegistry(nil, c.add)
	r.Track([]string{"PJSIP/op1001"})
	contact := func(uri, status, state string) {
		r.HandleEvent(decode(t, []byte(`{"type":"ContactStatusChange","endpoint":{"technology":"PJSIP","resource":"op1001","state":"`+state+
			`","channel_ids":[]},"contact_info":{"uri":"`+uri+`","contact_status":"`+status+`","aor":"op1001"}}`)))
	}
	for i := range 100 {
		uri := fmt.Sprintf("sip:op1001@192.0.2.7:%d", 5060+i)
		contact(uri, "NonQualified", "online")
		contact(uri, "Removed", "offline")
	}
	r.mu.Lock()
	n := len(r.eps["PJSIP/op1001"].contacts)
	r.mu.Unlock()
	if n > maxContactsKept {
		t.Fatalf("%d contacts kept, want at most %d", n, maxContactsKept)
	}
	before := len(c.all())
	contact("sip:op1001@192.0.2.7:5159", "Reachable", "online") // the last removed, back
	if got := c.all()[before:]; len(got) != 1 || !got[0].Registered {
		t.Fatalf("the last removed contact back: %+v, want a registration", got)
	}
}
