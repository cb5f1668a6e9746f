package aritest

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"
)

// TestEventFilterBodies: PUT /applications/{app}/eventFilter answers the
// application with the lists as sent (compact, members in order), keeps a
// list that is not given, clears on an empty body or object, and refuses
// what is not a list.
func TestEventFilterBodies(t *testing.T) {
	s, _ := startFake(t)
	auth := basicAuth("toritsugi", "toritsugi")
	steps := []struct {
		name, body          string
		status              int
		allowed, disallowed string
		wantMessage         string
	}{
		{"disallow two", `{"disallowed": [{"type": "ChannelVarset"}, {"type":"Dial"}]}`, 200, `[]`, `[{"type":"ChannelVarset"},{"type":"Dial"}]`, ""},
		{"allowed only keeps disallowed", `{"allowed":[{"type":"StasisStart","note":1}]}`, 200, `[{"type":"StasisStart","note":1}]`, `[{"type":"ChannelVarset"},{"type":"Dial"}]`, ""},
		{"empty array clears that list", `{"allowed":[]}`, 200, `[]`, `[{"type":"ChannelVarset"},{"type":"Dial"}]`, ""},
		{"not a list", `{"disallowed":{"type":"Dial"}}`, 400, "", "", "Invalid format definition"},
		{"null is not a list", `{"allowed":null}`, 400, "", "", "Invalid format definition"},
		{"other keys change nothing", `{"something":[1]}`, 200, `[]`, `[{"type":"ChannelVarset"},{"type":"Dial"}]`, ""},
		{"allowed set before disallowed fails", `{"allowed":[{"type":"Dial"}],"disallowed":"x"}`, 400, "", "", "Invalid format definition"},
		{"state after the partial failure", `{"something":1}`, 200, `[{"type":"Dial"}]`, `[{"type":"ChannelVarset"},{"type":"Dial"}]`, ""},
		{"empty object clears both", `{}`, 200, `[]`, `[]`, ""},
		{"body not JSON", `{`, 400, "", "", "Error parsing request body"},
	}
	for _, st := range steps {
		resp, body := doRequest(t, s, "PUT", "/applications/toritsugi/eventFilter", nil, []byte(st.body), auth)
		if resp.StatusCode != st.status {
			t.Fatalf("%s: status %d, want %d (%s)", st.name, resp.StatusCode, st.status, body)
		}
		if st.status != 200 {
			var m struct{ Message string }
			if err := json.Unmarshal(body, &m); err != nil || m.Message != st.wantMessage {
				t.Fatalf("%s: body %s, want message %q", st.name, body, st.wantMessage)
			}
			continue
		}
		var app struct {
			Name       string          `json:"name"`
			Allowed    json.RawMessage `json:"events_allowed"`
			Disallowed json.RawMessage `json:"events_disallowed"`
		}
		if err := json.Unmarshal(body, &app); err != nil {
			t.Fatalf("%s: %v (%s)", st.name, err, body)
		}
		if app.Name != "toritsugi" || string(app.Allowed) != st.allowed || string(app.Disallowed) != st.disallowed {
			t.Fatalf("%s: got allowed %s disallowed %s, want %s and %s", st.name, app.Allowed, app.Disallowed, st.allowed, st.disallowed)
		}
		// GET shows the same filter.
		_, got := doRequest(t, s, "GET", "/applications/toritsugi", nil, nil, auth)
		if string(got) != string(body) {
			t.Fatalf("%s: GET %s, PUT answered %s", st.name, got, body)
		}
	}
	resp, body := doRequest(t, s, "PUT", "/applications/nosuch/eventFilter", nil, []byte(`{}`), auth)
	if resp.StatusCode != 404 || string(body) != `{"message":"Application not found"}` {
		t.Fatalf("unknown app: %d %s", resp.StatusCode, body)
	}
	resp, _ = doRequest(t, s, "POST", "/applications/toritsugi/eventFilter", nil, []byte(`{}`), auth)
	if resp.StatusCode != 405 {
		t.Fatalf("POST eventFilter: %d, want 405", resp.StatusCode)
	}
}

// TestEventFilterDropsEvents: the same call with no filter and with
// filters; each filtered run gets exactly the unfiltered run's events less
// the disallowed types and, when an allowed list is set, less the types
// it does not name (disallowed wins over allowed).
func TestEventFilterDropsEvents(t *testing.T) {
	all := filteredCall(t, `{}`, -1)
	if !slices.Contains(all, "ChannelVarset") || !slices.Contains(all, "StasisEnd") {
		t.Fatalf("unfiltered call gave %v", all)
	}
	for _, tc := range []struct {
		name, filter        string
		allowed, disallowed []string
	}{
		{"disallowed", `{"disallowed":[{"type":"ChannelVarset"},{"type":"ChannelStateChange"}]}`, nil, []string{"ChannelVarset", "ChannelStateChange"}},
		{"allowed", `{"allowed":[{"type":"StasisStart"},{"type":"StasisEnd"},{"type":"ChannelVarset"}]}`, []string{"StasisStart", "StasisEnd", "ChannelVarset"}, nil},
		{"disallowed wins", `{"allowed":[{"type":"StasisStart"},{"type":"StasisEnd"}],"disallowed":[{"type":"StasisEnd"},{"nottype":"StasisStart"}]}`, []string{"StasisStart", "StasisEnd"}, []string{"StasisEnd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, typ := range all {
				if !slices.Contains(tc.disallowed, typ) && (tc.allowed == nil || slices.Contains(tc.allowed, typ)) {
					want = append(want, typ)
				}
			}
			if got := filteredCall(t, tc.filter, len(want)); !slices.Equal(got, want) {
				t.Fatalf("events %v, want %v", got, want)
			}
		})
	}
}

// filteredCall sets the filter, then runs a call (variable, answer,
// hang-up) and returns the types of the events the websocket got: n of
// them and any that follow within 50 ms, or (n < 0) all up to StasisEnd.
func filteredCall(t *testing.T, filter string, n int) []string {
	t.Helper()
	auth := basicAuth("toritsugi", "toritsugi")
	s, ws := startFake(t)
	if resp, body := doRequest(t, s, "PUT", "/applications/toritsugi/eventFilter", nil, []byte(filter), auth); resp.StatusCode != 200 {
		t.Fatalf("filter: %d %s", resp.StatusCode, body)
	}
	id, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	doRequest(t, s, "POST", "/channels/"+id+"/variable", nil, []byte(`{"variable":"X","value":"1"}`), auth)
	doRequest(t, s, "POST", "/channels/"+id+"/answer", nil, nil, auth)
	doRequest(t, s, "DELETE", "/channels/"+id, nil, nil, auth)
	if err := s.WaitFor(waitCtx(t), func(s *Server) bool { return len(s.Channels()) == 0 }); err != nil {
		t.Fatal(err)
	}
	types := func() []string {
		var got []string
		for _, e := range ws.events() {
			var ev struct{ Type string }
			if err := json.Unmarshal([]byte(e), &ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.Type)
		}
		return got
	}
	deadline := time.Now().Add(5 * time.Second)
	for n < 0 && !slices.Contains(types(), "StasisEnd") && time.Now().Before(deadline) {
		ws.waitCount(len(ws.events())+1, time.Until(deadline))
	}
	if n >= 0 {
		ws.waitCount(n, 5*time.Second)
		time.Sleep(50 * time.Millisecond) // an event too many would show by now
	}
	ws.close()
	return types()
}

// TestBridgeChannelLists: add/removeChannel take several channels as a
// JSON array or a comma-separated query value; a JSON string is one id,
// commas included, as Asterisk's generated parser reads it.
func TestBridgeChannelLists(t *testing.T) {
	s, _ := startFake(t)
	auth := basicAuth("toritsugi", "toritsugi")
	a, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.IncomingCall("0312345678", "0901234568")
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := doRequest(t, s, "POST", "/bridges/br1", nil, []byte(`{"type":"mixing"}`), auth); resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name   string
		query  url.Values
		body   string
		status int
	}{
		{"JSON string with a comma is one id", nil, `{"channel":"` + a + `,` + b + `"}`, 400},
		{"empty value", url.Values{"channel": {""}}, "", 400},
		{"empty values only", nil, `{"channel":["",""]}`, 400},
		{"JSON array", nil, `{"channel":["` + a + `","` + b + `"]}`, 204},
		{"query list", url.Values{"channel": {a + "," + b}}, "", 204},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		resp, got := doRequest(t, s, "POST", "/bridges/br1/addChannel", tc.query, body, auth)
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: %d %s, want %d", tc.name, resp.StatusCode, got, tc.status)
		}
	}
	ca, _ := s.Channel(a)
	cb, _ := s.Channel(b)
	if ca.BridgeID != "br1" || cb.BridgeID != "br1" {
		t.Fatalf("bridges after the adds: %q %q", ca.BridgeID, cb.BridgeID)
	}
}
