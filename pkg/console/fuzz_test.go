package console_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// serve runs one request against the console's handler in-process.
func serve(e *env, req *http.Request) int {
	rec := httptest.NewRecorder()
	e.c.Handler().ServeHTTP(rec, req)
	return rec.Code
}

func FuzzLoginForm(f *testing.F) {
	f.Add([]byte("operator_id=op-a&password=secret-pw"), "application/x-www-form-urlencoded")
	f.Add([]byte("operator_id=op-a&password=%zz"), "application/x-www-form-urlencoded")
	f.Add([]byte(`{"operator_id":"op-a","password":"secret-pw"}`), "application/json")
	f.Add([]byte(`{"operator_id":["x"]}`), "application/json")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"operator_id\"\r\n\r\nop-a\r\n--b--"), "multipart/form-data; boundary=b")
	f.Add([]byte{0xff, 0xfe, 0}, "text/plain")
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		for _, path := range []string{"/login", "/api/v1/login"} {
			req := httptest.NewRequest("POST", path, bytes.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			if code := serve(e, req); code >= 500 {
				t.Fatalf("POST %s %q (%s): %d", path, body, ctype, code)
			}
		}
	})
}

func FuzzIntakeJSON(f *testing.F) {
	f.Add([]byte(`{"call_id":"c1","values":{"name":"山田","callback":"03-1234-5678","purpose":"other","detail":"x"}}`))
	f.Add([]byte(`{"call_id":"c1","values":{"name":"<script>alert(1)</script>"}}`))
	f.Add([]byte(`{"call_id":"c1","values":null}`))
	f.Add([]byte(`{"intake_id":"../../etc","values":{}}`))
	f.Add([]byte(`{"call_id":1}`))
	f.Add([]byte(`[`))
	e := newEnv(f)
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	var cookie string
	for _, ck := range u.hc.Jar.Cookies(mustURL(f, e.srv.URL)) {
		cookie = ck.Name + "=" + ck.Value
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range []struct{ method, path string }{
			{"POST", "/api/v1/console/validate"}, {"POST", "/api/v1/console/intakes"},
			{"PUT", "/api/v1/console/intakes/x"}, {"POST", "/api/v1/console/pause"},
		} {
			req := httptest.NewRequest(target.method, target.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", u.csrf)
			req.Header.Set("Cookie", cookie)
			if code := serve(e, req); code >= 500 {
				t.Fatalf("%s %s %q: %d", target.method, target.path, body, code)
			}
		}
	})
}
