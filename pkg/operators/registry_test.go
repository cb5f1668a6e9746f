package operators

import (
	"fmt"
	"maps"
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
