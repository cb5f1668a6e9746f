package aritest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzRequestBody checks that any body that is not JSON is answered 400
// "Error parsing request body", and that JSON bodies never crash the fake.
func FuzzRequestBody(f *testing.F) {
	for _, seed := range []string{
		`{"endpoint": "PJSIP/op1001", "app": `,
		`{"endpoint":"PJSIP/op1001","app":"toritsugi"}`,
		`{}`, `[]`, `"x"`, `{"variables":{"A":1}}`, `{"timeout":"x"}`, "\x00", `{"a":1}{`, ` `,
	} {
		f.Add([]byte(seed))
	}
	s, err := New(Options{Clock: ScaledClock(50)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	auth := basicAuth("toritsugi", "toritsugi")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/channels", "/channels/create", "/bridges"} {
			resp, got := doRequest(t, s, "POST", path, nil, body, auth)
			if len(body) > 0 && !json.Valid(body) {
				if resp.StatusCode != http.StatusBadRequest || string(got) != `{"message":"Error parsing request body"}` {
					t.Fatalf("POST %s %q: %d %s", path, body, resp.StatusCode, got)
				}
				continue
			}
			if resp.StatusCode >= 500 && resp.StatusCode != http.StatusInternalServerError {
				t.Fatalf("POST %s %q: %d", path, body, resp.StatusCode)
			}
			if !json.Valid(got) {
				t.Fatalf("POST %s %q: invalid JSON answer %q", path, body, got)
			}
		}
	})
}
