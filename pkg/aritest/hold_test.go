package aritest

import (
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// TestHoldPlaysTheHeldChannelsMusicClass: an operator's phone puts the
// caller on hold in a bridge: ChannelHold on the operator's channel, with
// the endpoint's suggested class, and the caller hears music on hold of
// their own CHANNEL(musicclass) when it is set (res_musiconhold prefers
// it), of the suggested class when not; the unhold stops it. Writing
// CHANNEL(musicclass) publishes no ChannelVarset (a function is written
// by ast_func_write, not stored as a variable), and the class is read
// back; the ARI music on hold of a channel with the class plays it too.
func TestHoldPlaysTheHeldChannelsMusicClass(t *testing.T) {
	s, ws := startFake(t)
	cl := restClient(s)
	callerID, br := callerBridgedWithOp1(t, s, cl)
	caller := ari.NewKey(ari.ChannelKey, callerID)
	moh := func(id string) string { c, _ := s.Channel(id); return c.MOHClass }

	if err := s.RemoteHold("op-1", true); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !held(ws); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no ChannelHold of op-1 with musicclass default:\n%s", strings.Join(ws.events(), "\n"))
		}
	}
	if got := moh(callerID); got != "default" {
		t.Fatalf("caller on hold hears class %q, want the suggested default", got)
	}
	if got := moh("op-1"); got != "" {
		t.Fatalf("the holding phone hears music on hold %q", got)
	}
	if err := s.RemoteHold("op-1", false); err != nil {
		t.Fatal(err)
	}
	if got := moh(callerID); got != "" {
		t.Fatalf("music on hold %q after the unhold", got)
	}

	if err := cl.Channel().SetVariable(caller, "CHANNEL(musicclass)", "acme"); err != nil {
		t.Fatal(err)
	}
	if v, err := cl.Channel().GetVariable(caller, "CHANNEL(musicclass)"); err != nil || v != "acme" {
		t.Fatalf("CHANNEL(musicclass) read %q, %v", v, err)
	}
	if err := s.RemoteHold("op-1", true); err != nil {
		t.Fatal(err)
	}
	if got := moh(callerID); got != "acme" {
		t.Fatalf("caller on hold hears class %q, want their channel's acme", got)
	}
	for _, e := range ws.events() {
		if strings.Contains(e, `"ChannelVarset"`) && strings.Contains(e, "musicclass") {
			t.Fatalf("writing CHANNEL(musicclass) published %s", e)
		}
	}

	if err := cl.Bridge().RemoveChannel(br.Key(), callerID); err != nil {
		t.Fatal(err)
	}
	if err := cl.Channel().MOH(caller, "other"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(waitCtx(t), func(*Server) bool { return moh(callerID) == "acme" }); err != nil {
		t.Fatalf("music on hold asked as other plays %q, want the channel's acme: %v", moh(callerID), err)
	}
}

// held: the events include op-1's ChannelHold, the blob's musicclass
// first as in channel_blob_to_json.
func held(ws *evClient) bool {
	for _, e := range ws.events() {
		if strings.Contains(e, `{"musicclass":"default","type":"ChannelHold"`) && strings.Contains(e, `"id":"op-1"`) {
			return true
		}
	}
	return false
}

// TestHoldInARecordedBridgeIsNotPassedOn: a bridge being recorded has
// three members (the Recorder channel counts), so Asterisk runs it on
// softmix, whose softmix_bridge_write_control only clears the holder's
// talking flag on AST_CONTROL_HOLD: the held caller hears no music on
// hold (a review found the fake passing it on). An unhold of a phone
// not holding publishes nothing, nor a second hold.
func TestHoldInARecordedBridgeIsNotPassedOn(t *testing.T) {
	s, ws := startFake(t)
	cl := restClient(s)
	callerID, br := callerBridgedWithOp1(t, s, cl)
	if _, err := cl.Bridge().Record(br.Key(), "rec-1", &ari.RecordingOptions{Format: "wav"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(waitCtx(t), func(*Server) bool {
		d, err := cl.Bridge().Data(br.Key())
		return err == nil && d.Technology == "softmix"
	}); err != nil {
		t.Fatalf("the recorded bridge is not softmix: %v", err)
	}
	if err := s.RemoteHold("op-1", false); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoteHold("op-1", true); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoteHold("op-1", true); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Channel(callerID); c.MOHClass != "" {
		t.Fatalf("softmix passed the hold on: the caller hears music on hold %q", c.MOHClass)
	}
	for deadline := time.Now().Add(5 * time.Second); !held(ws); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no ChannelHold of op-1")
		}
	}
	holds, unholds := 0, 0
	for _, e := range ws.events() {
		holds += strings.Count(e, `"type":"ChannelHold"`)
		unholds += strings.Count(e, `"type":"ChannelUnhold"`)
	}
	if holds != 1 || unholds != 0 {
		t.Fatalf("%d ChannelHold and %d ChannelUnhold: want one hold, no unhold of a phone not holding", holds, unholds)
	}
}

// callerBridgedWithOp1 answers a call from the trunk, originates op-1 to
// PJSIP/op1001 (answering after a second), and bridges them in br-1.
func callerBridgedWithOp1(t *testing.T, s *Server, cl ari.Client) (string, *ari.BridgeHandle) {
	t.Helper()
	s.AddEndpoint("PJSIP/op1001", true, EndpointBehavior{Answer: AnswerAfter, Delay: time.Second})
	callerID, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Channel().Answer(ari.NewKey(ari.ChannelKey, callerID)); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "PJSIP/op1001", App: "toritsugi", ChannelID: "op-1", Timeout: 15}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(waitCtx(t), func(s *Server) bool { c, ok := s.Channel("op-1"); return ok && c.InStasis && c.State == "Up" }); err != nil {
		t.Fatal(err)
	}
	br, err := cl.Bridge().Create(ari.NewKey(ari.BridgeKey, "br-1"), "mixing", "call")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{callerID, "op-1"} {
		if err := cl.Bridge().AddChannel(br.Key(), id); err != nil {
			t.Fatal(err)
		}
	}
	return callerID, br
}
