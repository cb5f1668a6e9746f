package aritest

import (
	"encoding/json"
	"reflect"
	"testing"
)

// flatMatchesJSON checks that whenever parseFlatBody takes a body, it reads
// what json.Unmarshal reads; it reports whether it took it.
func flatMatchesJSON(t *testing.T, body []byte) bool {
	t.Helper()
	m, ok := parseFlatBody(body)
	if !ok {
		return false
	}
	var want any
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("parseFlatBody took %q, which json.Unmarshal refuses: %v", body, err)
	}
	if !reflect.DeepEqual(any(m), want) {
		t.Fatalf("parseFlatBody(%q)\n got %#v\nwant %#v", body, m, want)
	}
	return true
}

var flatBodies = []string{
	`{}`, ` { } `, "{\n\t\"a\" : \"b\" \r}",
	`{"media":["sound:silence/1","sound:bench/greeting"]}`,
	`{"variable":"TORITSUGI_STATE","value":"c=acme\u0026d=0312345678"}`,
	`{"endpoint":"PJSIP/op1000","timeout":18,"callerId":"\"ACME\" \u003c09000000000\u003e","app":"toritsugi"}`,
	`{"endpoint":"PJSIP/op1000","timeout":-1,"app":"toritsugi","appArgs":"operator,1.1"}`,
	`{"channel":["1.1","1.1-op-op1000-x-2"]}`, `{"channel":[]}`, `{"channel":"1.1"}`,
	`{"mohClass":"default"}`, `{"a":true,"b":false,"c":null}`, `{"a":1,"a":"2"}`,
	`{"name":"電話","x":"ＡＣＭＥ"}`, `{"n":0}`, `{"n":-0}`, `{"n":007}`, `{"n":1.5}`, `{"n":1e3}`,
	`{"n":123456789012345}`, `{"n":1234567890123456}`, `{"n":-123456789012345}`,
	`{"a":"x\ny"}`, "{\"a\":\"\xff\"}", `{"a":["x",1]}`, `{"a":{"b":"c"}}`, `{"a":[null]}`,
	`[]`, `"x"`, `{"a":"b"} x`, `{"a":"b",}`, `{"a" "b"}`, `{"a":tru}`, `{"a":nul}`, `{a:"b"}`,
	`{"a":"b"`, `{"a":`, `{`, `{"a":["x",]}`, `{"a":["x"`, `{"\u0061":"b"}`, `{"a":-}`,
}

// TestParseFlatBody: the bodies clients send are taken, read as
// encoding/json reads them; the rest is left to it.
func TestParseFlatBody(t *testing.T) {
	took := 0
	for _, b := range flatBodies {
		if flatMatchesJSON(t, []byte(b)) {
			took++
		}
	}
	for _, b := range []string{`{"media":["sound:a"]}`, `{"endpoint":"PJSIP/op1000","timeout":18}`, `{"channel":["a","b"]}`} {
		if _, ok := parseFlatBody([]byte(b)); !ok {
			t.Errorf("parseFlatBody refused %s", b)
		}
	}
	if took == 0 {
		t.Fatal("no body taken")
	}
}

// FuzzParseFlatBody: whatever parseFlatBody takes, json.Unmarshal reads the
// same.
func FuzzParseFlatBody(f *testing.F) {
	for _, b := range flatBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { flatMatchesJSON(t, body) })
}
