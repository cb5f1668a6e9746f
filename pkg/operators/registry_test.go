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

// contactEvent applies a ContactStatusChange of op1001's contact uri.
func contactEvent(t *testing.T, r *Registry, uri, status, state string) {
	t.Helper()
	r.HandleEvent(decode(t, []byte(`{"type":"ContactStatusChange","endpoint":{"technology":"PJSIP","resource":"op1001","state":"`+state+
		`","channel_ids":[]},"contact_info":{"uri":"`+uri+`","contact_status":"`+status+`","aor":"op1001"}}`)))
}

// reconnectRead applies the read of op1001 after a (re)connect.
func reconnectRead(r *Registry, state string) {
	_, since := r.tracked()
	r.applyRead(Observation{Endpoint: "PJSIP/op1001", Reachable: state == "online", Definite: true, Reason: "GET endpoint " + state, HasChannels: true}, since)
}

// contactsOf is op1001's contacts, present or not.
func contactsOf(r *Registry) map[string]contact {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.eps["PJSIP/op1001"].contacts)
}

// TestStaleContactsDoNotPileUpAcrossRestarts: a softphone registers from
// a new port after each Asterisk restart; its old contact's removal is
// raised while the link is down, and the read at the reconnect finds the
// endpoint online (the new contact). The old contact stayed present for
// ever: 200 restarts, 200 contacts (the bound dropped removed ones only).
// The read forgets the contacts named before it: the new one is kept.
func TestStaleContactsDoNotPileUpAcrossRestarts(t *testing.T) {
	r := NewRegistry(nil, nil)
	r.Track([]string{"PJSIP/op1001"})
	last := ""
	for i := range 200 {
		reconnectRead(r, "online")
		last = fmt.Sprintf("sip:op1001@192.0.2.10:%d", 5060+i)
		contactEvent(t, r, last, "Reachable", "online") // its first qualify answered
	}
	if got := contactsOf(r); len(got) != 1 || !got[last].present {
		t.Fatalf("after 200 restarts, %d contacts kept (the last present: %v), want the last one only", len(got), got[last].present)
	}
}

// TestRegisteringFromAContactWhoseRemovalWasLost: the phone's contact A
// goes while the link is down (Asterisk restarted) and the phone comes
// back from B, read online at the reconnect; B unregisters later, and the
// phone registers from A again (its NAT gave it the old port). A was
// still known present, so that was no registration: an operator
// auto-paused for unanswered rings stayed paused. Its reachability was
// right all along (it follows the endpoint's state, not the contacts).
func TestRegisteringFromAContactWhoseRemovalWasLost(t *testing.T) {
	var c collector
	r := NewRegistry(nil, c.add)
	r.Track([]string{"PJSIP/op1001"})
	const a, b = "sip:op1001@192.0.2.10:5060", "sip:op1001@192.0.2.10:5072"
	contactEvent(t, r, a, "NonQualified", "online")
	// The link down: A's removal and B's registration are lost.
	reconnectRead(r, "online")
	contactEvent(t, r, b, "NonQualified", "online") // B's REGISTER refresh
	contactEvent(t, r, b, "Removed", "offline")
	before := len(c.all())
	contactEvent(t, r, a, "NonQualified", "online")
	if got := c.all()[before:]; len(got) != 1 || !got[0].Reachable || !got[0].Registered {
		t.Fatalf("registering again from A: %+v, want reachable and a registration", got)
	}
}

// TestPresentContactsAreBounded: contacts whose removals are never seen
// (a link that loses them, each read finding the endpoint online with
// the events since) are bounded too: the oldest named go first.
func TestPresentContactsAreBounded(t *testing.T) {
	r := NewRegistry(nil, nil)
	r.Track([]string{"PJSIP/op1001"})
	uri := func(i int) string { return fmt.Sprintf("sip:op1001@192.0.2.7:%d", 5060+i) }
	for i := range 100 {
		contactEvent(t, r, uri(i), "NonQualified", "online")
	}
	got := contactsOf(r)
	if len(got) > maxContactsKept {
		t.Fatalf("%d contacts kept, want at most %d", len(got), maxContactsKept)
	}
	for i := 100 - maxContactsKept + 1; i < 100; i++ {
		if !got[uri(i)].present {
			t.Fatalf("contact %d of 100 not kept present: %v", i, got)
		}
	}
}
