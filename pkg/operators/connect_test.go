package operators

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/CyCoreSystems/ari/v6"
)

// fakeClient is an ari.Client whose Application().Subscribe and
// Endpoint().Data are functions, and Application().Data an application
// subscribed to no technology; any other method panics (nil interface).
type fakeClient struct {
	ari.Client
	subscribe func(key *ari.Key, src string) error
	data      func(key *ari.Key) (*ari.EndpointData, error)
}

func (c *fakeClient) ApplicationName() string      { return "toritsugi" }
func (c *fakeClient) Application() ari.Application { return fakeApp{c: c} }
func (c *fakeClient) Endpoint() ari.Endpoint       { return fakeEndpoint{c: c} }

type fakeApp struct {
	ari.Application
	c *fakeClient
}

func (a fakeApp) Subscribe(key *ari.Key, src string) error { return a.c.subscribe(key, src) }

// Data: an application subscribed to no technology whole (read after the
// subscriptions, for one to give up).
func (a fakeApp) Data(key *ari.Key) (*ari.ApplicationData, error) {
	return &ari.ApplicationData{Name: key.ID}, nil
}

type fakeEndpoint struct {
	ari.Endpoint
	c *fakeClient
}

func (e fakeEndpoint) Data(key *ari.Key) (*ari.EndpointData, error) { return e.c.data(key) }

func endpointData(id, state string) *ari.EndpointData {
	return &ari.EndpointData{Technology: "PJSIP", Resource: id, State: state}
}

// TestOnConnectSubscribesEachEndpoint: each tracked endpoint is
// subscribed to alone (its whole technology would bring the trunk's
// channel changes too), then read.
func TestOnConnectSubscribesEachEndpoint(t *testing.T) {
	var subs, reads []string
	c := &fakeClient{
		subscribe: func(key *ari.Key, src string) error {
			subs = append(subs, key.ID+" "+src)
			return nil
		},
		data: func(key *ari.Key) (*ari.EndpointData, error) {
			reads = append(reads, key.ID)
			return endpointData(key.ID, "online"), nil
		},
	}
	var col collector
	r := NewRegistry(nil, col.add)
	r.Track([]string{"PJSIP/op1002", "SIP/old", "PJSIP/op1001"})
	if err := r.OnConnect(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if want := []string{"toritsugi endpoint:PJSIP/op1001", "toritsugi endpoint:PJSIP/op1002", "toritsugi endpoint:SIP/old"}; !slices.Equal(subs, want) {
		t.Errorf("subscriptions %q, want %q", subs, want)
	}
	if want := []string{"PJSIP/op1001", "PJSIP/op1002", "SIP/old"}; !slices.Equal(reads, want) {
		t.Errorf("reads %q, want %q", reads, want)
	}
	if n := len(col.all()); n != 3 {
		t.Errorf("%d changes, want 3: %+v", n, col.all())
	}
	if c := col.all()[0]; c.Reason != "GET endpoint online" || !c.Reachable {
		t.Errorf("first change %+v", c)
	}
}

// TestOnConnectEventNewerThanRead: an event applied while the state read
// was in flight is newer than the read's answer, which is then dropped.
func TestOnConnectEventNewerThanRead(t *testing.T) {
	raw := recorded(t)
	var r *Registry
	c := &fakeClient{
		subscribe: func(*ari.Key, string) error { return nil },
		data: func(key *ari.Key) (*ari.EndpointData, error) {
			r.HandleEvent(decode(t, raw[3])) // op1001 goes offline meanwhile
			return endpointData("op1001", "online"), nil
		},
	}
	r = NewRegistry(nil, nil)
	r.Track([]string{"PJSIP/op1001"})
	r.HandleEvent(decode(t, raw[0])) // online before the reconnect
	if err := r.OnConnect(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if r.Reachable("PJSIP/op1001") {
		t.Fatal("a stale read overrode a newer offline event")
	}
}

var errBoom = errors.New("boom")

// TestOnConnectErrors: failures are joined and returned after every
// endpoint was tried; a failed read keeps the endpoint's state.
func TestOnConnectErrors(t *testing.T) {
	raw := recorded(t)
	c := &fakeClient{
		subscribe: func(*ari.Key, string) error { return errBoom },
		data: func(key *ari.Key) (*ari.EndpointData, error) {
			if key.ID == "PJSIP/op1001" {
				return nil, errBoom
			}
			return endpointData("op1002", "online"), nil
		},
	}
	r := NewRegistry(nil, nil)
	r.Track([]string{"PJSIP/op1001", "PJSIP/op1002"})
	r.HandleEvent(decode(t, raw[0]))
	err := r.OnConnect(t.Context(), c)
	if !errors.Is(err, errBoom) {
		t.Fatalf("err = %v, want errBoom", err)
	}
	if !r.Reachable("PJSIP/op1001") || !r.Reachable("PJSIP/op1002") {
		t.Fatalf("Snapshot = %v, want both reachable", r.Snapshot())
	}
}

func TestOnConnectStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	reads := 0
	c := &fakeClient{
		subscribe: func(*ari.Key, string) error { return nil },
		data: func(key *ari.Key) (*ari.EndpointData, error) {
			reads++
			cancel()
			return endpointData(key.ID, "online"), nil
		},
	}
	r := NewRegistry(nil, nil)
	r.Track([]string{"PJSIP/op1001", "PJSIP/op1002"})
	if err := r.OnConnect(ctx, c); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if reads != 1 {
		t.Fatalf("%d reads after cancel, want 1", reads)
	}
}
