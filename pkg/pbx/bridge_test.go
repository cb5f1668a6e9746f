package pbx_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// TestAddToBridge: both channels join in one request; if one is missing,
// neither joins and the error carries Asterisk's 400. Bridges then lists
// the bridge with its name and both channels.
func TestAddToBridge(t *testing.T) {
	fake, err := aritest.New(aritest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	l, err := pbx.New(pbx.Options{URL: fake.URL(), User: "toritsugi", Password: "toritsugi", App: "toritsugi"}, pbx.NewDispatcher(pbx.Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := fake.WaitConnected(wctx, 1); err != nil {
		t.Fatal(err)
	}
	for !l.Up() {
		time.Sleep(time.Millisecond)
	}
	a, err := fake.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	b, err := fake.IncomingCall("0312345678", "0901234568")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Client().Bridge().Create(ari.NewKey(ari.BridgeKey, "br1"), "mixing", "br1"); err != nil {
		t.Fatal(err)
	}
	err = l.AddToBridge("br1", a, "gone")
	if pbx.StatusCode(err) != 400 {
		t.Fatalf("add with a missing channel: %v (status %d), want 400", err, pbx.StatusCode(err))
	}
	if c, _ := fake.Channel(a); c.BridgeID != "" {
		t.Fatalf("the present channel joined although the request failed: %q", c.BridgeID)
	}
	if err := l.AddToBridge("br1", a, b); err != nil {
		t.Fatal(err)
	}
	ca, _ := fake.Channel(a)
	cb, _ := fake.Channel(b)
	if ca.BridgeID != "br1" || cb.BridgeID != "br1" {
		t.Fatalf("after the add: %q %q", ca.BridgeID, cb.BridgeID)
	}
	if err := l.AddToBridge("nope", a); !pbx.IsNotFound(err) {
		t.Fatalf("add to a missing bridge: %v, want 404", err)
	}
	bs, err := l.Bridges()
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].ID != "br1" || bs[0].Name != "br1" || !slices.Equal(bs[0].ChannelIDs, []string{a, b}) {
		t.Fatalf("Bridges() = %+v, want br1 with %s and %s", bs, a, b)
	}
}

// TestRecordingFile: a stored recording's file is read whole, or up to the
// limit and a byte more; one Asterisk does not have is a 404 StatusCode
// reads.
func TestRecordingFile(t *testing.T) {
	fake, err := aritest.New(aritest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	fake.AddStoredRecording("vm-1", "wav")
	l, err := pbx.New(pbx.Options{URL: fake.URL(), User: "toritsugi", Password: "toritsugi", App: "toritsugi"}, pbx.NewDispatcher(pbx.Hooks{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	data, err := l.RecordingFile(t.Context(), "vm-1", 1<<20)
	if err != nil || len(data) < 44 || string(data[:4]) != "RIFF" {
		t.Fatalf("file: %d bytes %.4q (%v), want a WAV", len(data), data, err)
	}
	if cut, err := l.RecordingFile(t.Context(), "vm-1", 100); err != nil || len(cut) != 101 {
		t.Fatalf("limited to 100: %d bytes (%v), want 101", len(cut), err)
	}
	if _, err := l.RecordingFile(t.Context(), "vm-gone", 1<<20); pbx.StatusCode(err) != 404 {
		t.Fatalf("missing: %v (status %d), want 404", err, pbx.StatusCode(err))
	}
}
