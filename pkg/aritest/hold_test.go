package aritest

import (
	"encoding/json"
	"slices"
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

// TestBridgeMusicOnHold: POST /bridges/{id}/moh puts an announcer playing
// the class asked for ("default" when none is) into the bridge, once (a
// second start changes the class); it counts as a channel for the
// technology (softmix) and in the members' BRIDGEPEER, and is neither in
// the bridge's channel list nor named by any event but those varsets
// (an internal channel); DELETE takes it out, and answers 409 when none
// plays; it leaves an emptied bridge (LONELY); an unknown bridge is 404
// to both (resource_bridges.c,
// res_stasis.c stasis_app_bridge_moh_channel and _stop).
func TestBridgeMusicOnHold(t *testing.T) {
	s, ws := startFake(t)
	cl := restClient(s)
	callerID, br := callerBridgedWithOp1(t, s, cl)
	auth := basicAuth("toritsugi", "toritsugi")
	call := func(method, path, body string, status int, message string) {
		t.Helper()
		resp, got := doRequest(t, s, method, path, nil, []byte(body), auth)
		if resp.StatusCode != status {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, got, status)
		}
		if message != "" && string(got) != `{"message":"`+message+`"}` {
			t.Fatalf("%s %s: body %s, want message %q", method, path, got, message)
		}
	}
	bridge := func() BridgeSnapshot {
		t.Helper()
		b, ok := s.Bridge("br-1")
		if !ok {
			t.Fatal("br-1 gone")
		}
		return b
	}

	call("DELETE", "/bridges/br-1/moh", "", 409, "Bridge isn't playing music")
	call("POST", "/bridges/nosuch/moh", "", 404, "Bridge not found")
	call("DELETE", "/bridges/nosuch/moh", "", 404, "Bridge not found")
	call("POST", "/bridges/br-1/moh", "", 204, "")
	if b := bridge(); b.MOHClass != "default" || b.Technology != "softmix" {
		t.Fatalf("music on hold without a class: %+v, want default on softmix", b)
	}
	call("POST", "/bridges/br-1/moh", `{"mohClass":"acme"}`, 204, "")
	if b := bridge(); b.MOHClass != "acme" || !slices.Equal(b.Members, []string{callerID, "op-1"}) {
		t.Fatalf("after a second start: %+v, want class acme, the two callers only", b)
	}
	d, err := cl.Bridge().Data(br.Key())
	if err != nil || !slices.Equal(d.ChannelIDs, []string{callerID, "op-1"}) {
		t.Fatalf("the bridge lists %v (%v): the announcer is not listed", d.ChannelIDs, err)
	}
	caller, _ := s.Channel(callerID)
	op, _ := s.Channel("op-1")
	var peers map[string]string
	for deadline := time.Now().Add(5 * time.Second); len(peers) < 2 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		peers = bridgePeers(t, ws.events())
	}
	if len(peers) != 2 || !strings.HasPrefix(peers[callerID], "Announcer/ARI_MOH-") || !strings.HasSuffix(peers[callerID], ";2,"+op.Name) ||
		peers["op-1"] != strings.Replace(peers[callerID], op.Name, caller.Name, 1) {
		t.Fatalf("BRIDGEPEER varsets naming the announcer %v: want one for each member, the announcer first", peers)
	}
	for _, e := range ws.events() {
		if strings.Contains(e, "ARI_MOH") && !strings.Contains(e, `"variable":"BRIDGEPEER"`) {
			t.Fatalf("an event names the announcer: %s", e)
		}
	}
	seen := len(ws.events())

	call("DELETE", "/bridges/br-1/moh", "", 204, "")
	if b := bridge(); b.MOHClass != "" || b.Technology != "simple_bridge" {
		t.Fatalf("after the stop: %+v", b)
	}
	var got map[string]string
	for deadline := time.Now().Add(5 * time.Second); len(got) < 2 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		got = bridgePeerValues(t, ws.events()[seen:])
	}
	if got[callerID] != op.Name || got["op-1"] != caller.Name {
		t.Fatalf("BRIDGEPEER after the stop %v, want each the other's name", got)
	}
	call("DELETE", "/bridges/br-1/moh", "", 409, "Bridge isn't playing music")

	// Alone (LONELY), the announcer leaves when the last channel does.
	call("POST", "/bridges/br-1/moh", "", 204, "")
	for _, id := range []string{callerID, "op-1"} {
		if err := cl.Bridge().RemoveChannel(br.Key(), id); err != nil {
			t.Fatal(err)
		}
	}
	if b := bridge(); b.MOHClass != "" {
		t.Fatalf("an emptied bridge still plays %q", b.MOHClass)
	}
	call("DELETE", "/bridges/br-1/moh", "", 409, "Bridge isn't playing music")

	call("POST", "/bridges/br-1/moh", "", 204, "")
	if err := cl.Bridge().Delete(br.Key()); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Bridge("br-1"); ok {
		t.Fatal("br-1 not destroyed")
	}
}

// bridgePeers maps each channel to the last BRIDGEPEER value among events
// that name a music-on-hold announcer.
func bridgePeers(t *testing.T, events []string) map[string]string {
	t.Helper()
	var named []string
	for _, e := range events {
		if strings.Contains(e, "ARI_MOH") {
			named = append(named, e)
		}
	}
	return bridgePeerValues(t, named)
}

// bridgePeerValues maps each channel to its last BRIDGEPEER varset's value.
func bridgePeerValues(t *testing.T, events []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range events {
		var v struct {
			Type, Variable, Value string
			Channel               struct{ ID string }
		}
		if err := json.Unmarshal([]byte(e), &v); err != nil {
			t.Fatalf("%v: %s", err, e)
		}
		if v.Type == "ChannelVarset" && v.Variable == "BRIDGEPEER" {
			out[v.Channel.ID] = v.Value
		}
	}
	return out
}
