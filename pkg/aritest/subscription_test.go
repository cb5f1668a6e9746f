package aritest

// Endpoint subscriptions as res/stasis/app.c keeps them (not recorded:
// scenario 12 subscribes once and its app has channels).

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestEndpointSubscriptionKeepsTheApp: in Asterisk an app
// whose websocket closed is destroyed only when app_is_finished
// (res/stasis/app.c): no handler AND no forwards. Endpoint subscriptions
// are forwards (FORWARD_ENDPOINT, app_subscribe_endpoint links them into
// app->forwards), so an app subscribed to endpoint:PJSIP/op1001 outlives
// its websocket with no channel, keeping its subscriptions (and filter),
// for the next websocket; the last subscription given up, it goes.
func TestEndpointSubscriptionKeepsTheApp(t *testing.T) {
	s, err := New(Options{Clock: ScaledClock(50)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.AddEndpoint("PJSIP/op1001", false, EndpointBehavior{})
	auth := basicAuth("toritsugi", "toritsugi")
	ws := dialEvents(t, s, "app=toritsugi&subscribeAll=false", auth)
	if err := s.WaitConnected(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	resp, b := doRequest(t, s, "POST", "/applications/toritsugi/subscription", url.Values{"eventSource": {"endpoint:PJSIP/op1001"}}, nil, auth)
	if resp.StatusCode != 200 {
		t.Fatalf("subscribe = %d %s", resp.StatusCode, b)
	}
	ws.close()
	time.Sleep(100 * time.Millisecond)
	resp, b = doRequest(t, s, "GET", "/applications/toritsugi", nil, nil, auth)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"PJSIP/op1001"`) {
		t.Fatalf("after the websocket closed: GET /applications/toritsugi = %d %s; Asterisk keeps the app (its endpoint forward) with endpoint_ids [PJSIP/op1001]", resp.StatusCode, b)
	}
	resp, b = doRequest(t, s, "DELETE", "/applications/toritsugi/subscription", url.Values{"eventSource": {"endpoint:PJSIP/op1001"}}, nil, auth)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unsubscribe = %d %s", resp.StatusCode, b)
	}
	if resp, b = doRequest(t, s, "GET", "/applications/toritsugi", nil, nil, auth); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("its last subscription given up, no websocket: GET /applications/toritsugi = %d %s, want 404", resp.StatusCode, b)
	}
}

// TestSubscriptionsAreCounted: app_subscribe_endpoint increments the
// forward's "interested" count on every subscribe, and unsubscribe() only
// removes the forward when it drops to 0 (res/stasis/app.c). Subscribing
// twice and unsubscribing once leaves the app subscribed.
func TestSubscriptionsAreCounted(t *testing.T) {
	s, _ := startFake(t)
	auth := basicAuth("toritsugi", "toritsugi")
	src := url.Values{"eventSource": {"endpoint:PJSIP"}}
	for i := 0; i < 2; i++ {
		if resp, b := doRequest(t, s, "POST", "/applications/toritsugi/subscription", src, nil, auth); resp.StatusCode != 200 {
			t.Fatalf("subscribe = %d %s", resp.StatusCode, b)
		}
	}
	resp, b := doRequest(t, s, "DELETE", "/applications/toritsugi/subscription", src, nil, auth)
	if resp.StatusCode != 200 {
		t.Fatalf("unsubscribe = %d %s", resp.StatusCode, b)
	}
	if !strings.Contains(string(b), `"endpoint_ids":["PJSIP"]`) {
		t.Fatalf("after 2 subscribes and 1 unsubscribe: %s; Asterisk still has endpoint_ids [\"PJSIP\"] (interested 1)", b)
	}
	if resp, b = doRequest(t, s, "DELETE", "/applications/toritsugi/subscription", src, nil, auth); resp.StatusCode != 200 || !strings.Contains(string(b), `"endpoint_ids":[]`) {
		t.Fatalf("second unsubscribe = %d %s, want 200 and no endpoint left", resp.StatusCode, b)
	}
	if resp, b = doRequest(t, s, "DELETE", "/applications/toritsugi/subscription", src, nil, auth); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("third unsubscribe = %d %s, want 422 (not subscribed)", resp.StatusCode, b)
	}
}

// TestQualifyKeepsTheContact: a registered endpoint's qualify failing
// takes it offline (EndpointStateChange, PeerStatusChange and
// ContactStatusChange Unreachable, same contact), not rung; answering
// again brings it back (Reachable, with a round trip); neither is a
// registration. An endpoint without a contact has nothing to qualify.
func TestQualifyKeepsTheContact(t *testing.T) {
	s, ws := startFake(t)
	s.AddEndpoint("PJSIP/op1001", true, EndpointBehavior{})
	s.AddEndpoint("PJSIP/op1002", false, EndpointBehavior{})
	auth := basicAuth("toritsugi", "toritsugi")
	if resp, b := doRequest(t, s, "POST", "/applications/toritsugi/subscription", url.Values{"eventSource": {"endpoint:PJSIP/op1001"}}, nil, auth); resp.StatusCode != 200 {
		t.Fatalf("subscribe = %d %s", resp.StatusCode, b)
	}
	if err := s.Qualify("PJSIP/op1002", false); err == nil {
		t.Fatal("an unregistered endpoint was qualified")
	}
	if err := s.Qualify("PJSIP/op1001", false); err != nil {
		t.Fatal(err)
	}
	resp, b := doRequest(t, s, "POST", "/channels", url.Values{"endpoint": {"PJSIP/op1001"}, "app": {"toritsugi"}}, nil, auth)
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("an unreachable endpoint was rung: %s", b)
	}
	if err := s.Qualify("PJSIP/op1001", true); err != nil {
		t.Fatal(err)
	}
	if err := s.Qualify("PJSIP/op1001", true); err != nil { // no change: nothing
		t.Fatal(err)
	}
	want := []string{
		"EndpointStateChange offline", "PeerStatusChange Unreachable offline", "ContactStatusChange Unreachable offline sip:op1001@127.0.0.1:5171",
		"EndpointStateChange online", "PeerStatusChange Reachable online", "ContactStatusChange Reachable online sip:op1001@127.0.0.1:5171",
	}
	var got []string
	for deadline := time.Now().Add(5 * time.Second); len(got) < len(want) && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		got = got[:0]
		for _, e := range ws.events() {
			var v struct {
				Type     string
				Endpoint struct{ State string }
				Peer     struct {
					PeerStatus string `json:"peer_status"`
				}
				ContactInfo struct {
					URI    string `json:"uri"`
					Status string `json:"contact_status"`
				} `json:"contact_info"`
			}
			if err := json.Unmarshal([]byte(e), &v); err != nil {
				t.Fatal(err)
			}
			switch v.Type {
			case "EndpointStateChange":
				got = append(got, v.Type+" "+v.Endpoint.State)
			case "PeerStatusChange":
				got = append(got, v.Type+" "+v.Peer.PeerStatus+" "+v.Endpoint.State)
			case "ContactStatusChange":
				got = append(got, v.Type+" "+v.ContactInfo.Status+" "+v.Endpoint.State+" "+v.ContactInfo.URI)
			}
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
