package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

func seed(t *testing.T, st *store.Store) {
	t.Helper()
	base := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for i, c := range []struct{ id, client string }{{"c1", "acme"}, {"c2", "beta"}, {"c3", "acme"}} {
		rec := store.CallRecord{ID: c.id, ClientID: c.client, DID: "0312345678", Result: store.ResultCompleted,
			StartedAt: base.Add(time.Duration(i) * time.Hour), EndedAt: base.Add(time.Duration(i)*time.Hour + time.Minute)}
		if err := st.PutCall(rec); err != nil {
			t.Fatal(err)
		}
	}
}

// testToken is the API token of the handlers under test.
const testToken = "test-token-0123456789"

func tokenFunc() string { return testToken }

func get(t *testing.T, h http.Handler, url string) (*http.Response, []byte) {
	t.Helper()
	return do(t, h, "GET", url)
}

// do sends method url to h with the test token, and returns the answer
// and its body.
func do(t *testing.T, h http.Handler, method, url string) (*http.Response, []byte) {
	t.Helper()
	return doAs(t, h, testToken, method, url)
}

// doAs is do with another bearer token.
func doAs(t *testing.T, h http.Handler, token, method, url string) (*http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

type failingStore struct{ *store.Store }

func (failingStore) Ping() error { return errors.New("disk on fire") }

func TestHealthz(t *testing.T) {
	st := storetest.Open(t)
	tests := []struct {
		name   string
		calls  api.Calls
		linkUp bool
		code   int
		body   string
	}{
		{"all good", st, true, 200, `{"status":"ok","ari":"up","store":"ok"}`},
		{"ari down", st, false, 503, `{"status":"degraded","ari":"down","store":"ok"}`},
		{"store failing", failingStore{st}, true, 503, `{"status":"degraded","ari":"up","store":"error"}`},
	}
	for _, tt := range tests {
		up := tt.linkUp
		h := api.NewHandler(api.Deps{Calls: tt.calls, LinkUp: func() bool { return up }, Token: tokenFunc})
		resp, body := get(t, h, "/healthz")
		if resp.StatusCode != tt.code || strings.TrimSpace(string(body)) != tt.body {
			t.Errorf("%s: %d %s, want %d %s", tt.name, resp.StatusCode, body, tt.code, tt.body)
		}
	}
}

// TestMonthOutOfRange: a month no call can be in is a 400 naming the
// range, not a store error.
func TestMonthOutOfRange(t *testing.T) {
	st := storetest.Open(t)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	for _, path := range []string{"/api/v1/clients/acme/counts?month=1600-01", "/api/v1/clients/acme/counts?month=2300-01",
		"/api/v1/reports/clients?month=1999-12", "/api/v1/reports/operators?month=2200-01"} {
		if resp, body := get(t, h, path); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "2000-01 to 2199-12") {
			t.Errorf("%s: %d %s, want 400 naming the range", path, resp.StatusCode, body)
		}
	}
	if resp, body := get(t, h, "/api/v1/clients/acme/counts?month=2026-11"); resp.StatusCode != 200 {
		t.Errorf("a month in range: %d %s", resp.StatusCode, body)
	}
}

func TestMonthlyCounts(t *testing.T) {
	st := storetest.Open(t)
	jst := time.FixedZone("JST", 9*3600)
	for i, r := range []struct {
		at       time.Time
		result   store.Result
		billable bool
	}{
		{time.Date(2026, 11, 1, 0, 30, 0, 0, jst), store.ResultAnswered, true}, // Nov in Japan, Oct in UTC
		{time.Date(2026, 11, 15, 10, 0, 0, 0, jst), store.ResultBlocked, false},
		{time.Date(2026, 11, 30, 23, 59, 0, 0, jst), store.ResultAnswered, true},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, jst), store.ResultAnswered, true},
	} {
		rec := store.CallRecord{ID: fmt.Sprint("c", i), ClientID: "acme", Result: r.result, Billable: r.billable, StartedAt: r.at}
		if err := st.PutCall(rec); err != nil {
			t.Fatal(err)
		}
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	resp, body := get(t, h, "/api/v1/clients/acme/counts?month=2026-11")
	want := `{"client":"acme","month":"2026-11","total":3,"billable":2,"non_billable":1,"by_result":{"answered":2,"blocked":1}}`
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != want {
		t.Fatalf("counts: %d %s\nwant %s", resp.StatusCode, body, want)
	}
	if resp, _ := get(t, h, "/api/v1/clients/acme/counts?month=11-2026"); resp.StatusCode != 400 {
		t.Fatalf("bad month: %d, want 400", resp.StatusCode)
	}
}

func TestCallbacksList(t *testing.T) {
	st := storetest.Open(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, id := range []string{"c1", "c2"} {
		if err := st.PutCallback(store.Callback{ID: id, ClientID: "acme", Number: "+819012345678", RequestedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CompleteCallback("c1", "op1001", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	resp, body := get(t, h, "/api/v1/callbacks?state=pending")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"c2"`) || strings.Contains(string(body), `"id":"c1"`) {
		t.Fatalf("pending callbacks: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, h, "/api/v1/callbacks?state=bogus"); resp.StatusCode != 400 {
		t.Fatalf("bad state: %d", resp.StatusCode)
	}
	// One client's: a dashboard for one client must not show another's.
	if err := st.PutCallback(store.Callback{ID: "c3", ClientID: "beta", Number: "+819012345678", RequestedAt: now}); err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, h, "/api/v1/callbacks?client=beta")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"c3"`) || strings.Contains(string(body), `"id":"c2"`) {
		t.Fatalf("beta's callbacks: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, h, "/api/v1/callbacks?clients=beta"); resp.StatusCode != 400 || !strings.Contains(string(body), "clients: unknown parameter") {
		t.Fatalf("a misspelt parameter: %d %s, want 400", resp.StatusCode, body)
	}
}

func TestAPIToken(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	token := "0123456789abcdef-token"
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: func() string { return token }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(path, auth string) int {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		path, auth string
		want       int
	}{
		{"/api/v1/calls", "", 401},
		{"/api/v1/calls", "Bearer wrong", 401},
		{"/api/v1/calls", "Basic " + token, 401},
		{"/api/v1/calls", "Bearer " + token, 200},
		{"/api/v1/backup", "", 401},
		{"/api/v1/callbacks", "", 401},
		{"/api/v1/clients/acme/counts", "", 401},
		{"/healthz", "", 200},
	}
	for _, tt := range tests {
		if got := do(tt.path, tt.auth); got != tt.want {
			t.Errorf("GET %s with %q = %d, want %d", tt.path, tt.auth, got, tt.want)
		}
	}
}

func TestDataAPIOffWithoutToken(t *testing.T) {
	st := storetest.Open(t)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/api/v1/calls", "/api/v1/backup", "/api/v1/callbacks", "/api/v1/clients/acme/counts"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s without a configured token = %d, want 403", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d, want 200 without a token", resp.StatusCode)
	}
}

// TestMonthlyReports: the month's figures per client and per operator, as
// JSON and as CSV for Excel (UTF-8 with BOM), the month in Japan time;
// the calls list as CSV; a bad month is a 400.
func TestMonthlyReports(t *testing.T) {
	st := storetest.Open(t)
	at := time.Date(2026, 10, 31, 15, 30, 0, 0, time.UTC) // 2026-11-01 00:30 in Japan
	for i, r := range []store.CallRecord{
		{ID: "a1", ClientID: "acme", Result: store.ResultAnswered, Billable: true, WaitMS: 5000, OperatorID: "op1", AnsweredAt: at.Add(5 * time.Second), EndedAt: at.Add(65 * time.Second)},
		{ID: "a2", ClientID: "acme", Result: store.ResultAbandoned, Billable: true, WaitMS: 40000},
		{ID: "b1", ClientID: "beta", Result: store.ResultBlocked},
	} {
		r.StartedAt = at.Add(time.Duration(i) * time.Minute)
		if err := st.PutCall(r); err != nil {
			t.Fatal(err)
		}
	}
	old := store.CallRecord{ID: "oct", ClientID: "acme", Result: store.ResultAnswered, StartedAt: at.Add(-time.Hour)} // October in Japan
	if err := st.PutCall(old); err != nil {
		t.Fatal(err)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})

	resp, body := get(t, h, "/api/v1/reports/clients?month=2026-11")
	var cr struct {
		Month   string `json:"month"`
		Clients []struct {
			ClientID  string `json:"client_id"`
			Calls     int    `json:"calls"`
			Billable  int    `json:"billable"`
			Answered  int    `json:"answered"`
			Abandoned int    `json:"abandoned"`
		} `json:"clients"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &cr) != nil || cr.Month != "2026-11" || len(cr.Clients) != 2 ||
		cr.Clients[0].ClientID != "acme" || cr.Clients[0].Calls != 2 || cr.Clients[0].Billable != 2 || cr.Clients[0].Answered != 1 || cr.Clients[0].Abandoned != 1 {
		t.Fatalf("clients report: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, h, "/api/v1/reports/operators?month=2026-11&format=csv")
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(string(body), "\ufeff月,オペレーター,") || !strings.Contains(string(body), `"=""2026-11""","=""op1""",1,60.0,60.0`) {
		t.Fatalf("operators CSV: %d %q %s", resp.StatusCode, ct, body)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="toritsugi-operators-2026-11.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	resp, body = get(t, h, "/api/v1/calls?client=acme&format=csv")
	if resp.StatusCode != 200 || strings.Count(string(body), "\n") != 4 || !strings.Contains(string(body), "2026-11-01 00:30:00") {
		t.Fatalf("calls CSV: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, h, "/api/v1/reports/clients?month=11/2026"); resp.StatusCode != 400 {
		t.Errorf("a bad month: %d %s", resp.StatusCode, body)
	}
}

// TestMissesAnswerJSON: a path the API does not have (404) and a method a
// path does not take (405, with Allow) are answered in JSON, as every
// other error of the API, not in the router's plain text.
func TestMissesAnswerJSON(t *testing.T) {
	h := api.NewHandler(api.Deps{Calls: storetest.Open(t), LinkUp: func() bool { return true }, Token: tokenFunc})
	for _, tt := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/api/v1/nosuch", 404, ""},
		{"POST", "/api/v1/calls", 405, "GET, HEAD"},
	} {
		resp, body := do(t, h, tt.method, tt.path)
		var e struct{ Error string }
		if resp.StatusCode != tt.code || resp.Header.Get("Allow") != tt.allow || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s %s: %d Allow %q %s %s, want %d in JSON", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Content-Type"), body, tt.code)
		}
	}
}

// TestHealthzSaysAConfigReloadWasRefused: a refused reload keeps the
// running configuration and was a line in the log only (`systemctl
// reload` reports success; the file on disk then fails the next start):
// /healthz names it, degraded, and keeps its status code: a 200 while
// calls go on (a probe restarting the service would have the refused
// file fail the start), a 503 only for what already made one.
func TestHealthzSaysAConfigReloadWasRefused(t *testing.T) {
	st := storetest.Open(t)
	since := time.Date(2026, 11, 30, 10, 15, 0, 0, time.FixedZone("JST", 9*3600))
	refused := func() (api.ReloadFailure, bool) {
		return api.ReloadFailure{File: "/etc/toritsugi/toritsugi.yaml", Since: since, Problems: 3}, true
	}
	none := func() (api.ReloadFailure, bool) { return api.ReloadFailure{}, false }
	const config = `"config":{"reload":"failed","since":"2026-11-30T10:15:00+09:00","problems":3,"file":"/etc/toritsugi/toritsugi.yaml"}`
	for _, tc := range []struct {
		name   string
		failed func() (api.ReloadFailure, bool)
		linkUp bool
		code   int
		body   string
	}{
		{"no reload refused", none, true, 200, `{"status":"ok","ari":"up","store":"ok"}`},
		{"not wired", nil, true, 200, `{"status":"ok","ari":"up","store":"ok"}`},
		{"a reload refused", refused, true, 200, `{"status":"degraded","ari":"up","store":"ok",` + config + `}`},
		{"a reload refused, ari down", refused, false, 503, `{"status":"degraded","ari":"down","store":"ok",` + config + `}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := tc.linkUp
			h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return up }, ConfigReloadFailed: tc.failed})
			resp, body := get(t, h, "/healthz")
			if resp.StatusCode != tc.code || strings.TrimSpace(string(body)) != tc.body {
				t.Fatalf("%d %s\nwant %d %s", resp.StatusCode, body, tc.code, tc.body)
			}
		})
	}
}

// TestHealthzSaysTheFallbackLogIsUnreadable: the calls Asterisk refused
// while toritsugi was down are recorded from the fallback log; one that
// cannot be read (its permissions) was a line in the log only: /healthz
// says it, without a 503 (calls go on).
func TestHealthzSaysTheFallbackLogIsUnreadable(t *testing.T) {
	st := storetest.Open(t)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, FallbackFailing: func() bool { return true }})
	resp, body := get(t, h, "/healthz")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok","ari":"up","store":"ok","fallback_log":"unreadable"}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}
