package aritest

import (
	"encoding/json"
	"net/url"
	"testing"
)

// TestSIPHeaderRead: GET variable PJSIP_HEADER(read,…) on a call from the
// trunk gives the header's value without its name; a header the INVITE
// did not have, a channel not from the trunk and a function Asterisk has
// not are answered 500, as resource_channels.c answers a failed function
// read; a missing plain variable stays 404.
func TestSIPHeaderRead(t *testing.T) {
	auth := basicAuth("toritsugi", "toritsugi")
	s, _ := startFake(t)
	id, err := s.IncomingCall("3", "0901234567",
		WithStasisArgs("inbound", "3", "to"), WithSIPHeader("to", "<sip:0312345678@192.168.1.1>"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(channel, variable string) (int, string) {
		t.Helper()
		resp, body := doRequest(t, s, "GET", "/channels/"+channel+"/variable", url.Values{"variable": {variable}}, nil, auth)
		return resp.StatusCode, string(body)
	}
	value := func(body string) string {
		t.Helper()
		var v struct{ Value string }
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return v.Value
	}
	for _, c := range []struct {
		channel, variable string
		status            int
		want              string // the value, or the error's message
	}{
		{id, "PJSIP_HEADER(read,To)", 200, "<sip:0312345678@192.168.1.1>"},
		{id, "PJSIP_HEADER(read,to)", 200, "<sip:0312345678@192.168.1.1>"},
		{id, "PJSIP_HEADER(read,From)", 200, ""},
		{id, "PJSIP_HEADER(read,To,2)", 500, "Unable to read provided function"},
		{id, "PJSIP_HEADER(read,X-Missing)", 500, "Unable to read provided function"},
		{id, "NO_SUCH_FUNCTION(x)", 500, "Unable to read provided function"},
		{id, "NO_SUCH_VARIABLE", 404, "Provided variable was not found"},
		{"no-such-channel", "PJSIP_HEADER(read,To)", 404, "Provided channel was not found"},
	} {
		status, body := get(c.channel, c.variable)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.variable, status, body, c.status)
			continue
		}
		switch {
		case status == 200 && c.want == "":
			if value(body) == "" {
				t.Errorf("%s: empty value", c.variable)
			}
		case status == 200:
			if got := value(body); got != c.want {
				t.Errorf("%s = %q, want %q", c.variable, got, c.want)
			}
		default:
			var m struct{ Message string }
			if err := json.Unmarshal([]byte(body), &m); err != nil || m.Message != c.want {
				t.Errorf("%s: body %s, want message %q", c.variable, body, c.want)
			}
		}
	}
	resp, body := doRequest(t, s, "GET", "/channels/"+id, nil, nil, auth)
	var ch struct {
		Dialplan struct {
			AppData string `json:"app_data"`
		}
	}
	if err := json.Unmarshal(body, &ch); err != nil || resp.StatusCode != 200 || ch.Dialplan.AppData != "toritsugi,inbound,3,to" {
		t.Errorf("GET channel: %d %s, want app_data toritsugi,inbound,3,to", resp.StatusCode, body)
	}
}
