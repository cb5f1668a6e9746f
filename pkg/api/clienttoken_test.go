package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

const (
	acmeToken = "acme-token-0123456789"
	betaToken = "beta-token-0123456789"
)

// TestClientTokenReadsItsClientOnly: a client's own token (clients[].
// api_token) reads that client's calls, counts, report row, callback
// requests and relay entries, and nothing of another client's: asking
// for beta's with acme's token is refused, and what it lists holds no
// beta data; what concerns every client (backup, erasure, operators,
// retrying or discarding dead letters) needs the service's token. Every
// route of the data API is in the table: a new one must say who may use
// it.
func TestClientTokenReadsItsClientOnly(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st) // c1, c3 acme; c2 beta, on 2026-11-02
	for _, cb := range []store.Callback{
		{ID: "cb-acme", ClientID: "acme", Number: "+81312345678", RequestedAt: time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)},
		{ID: "cb-beta", ClientID: "beta", Number: "+81322223333", RequestedAt: time.Date(2026, 11, 2, 1, 1, 0, 0, time.UTC)},
	} {
		if err := st.PutCallback(cb); err != nil {
			t.Fatal(err)
		}
	}
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"acme", "beta"} {
		if _, err := ob.Enqueue(relay.Message{ID: "m-" + c, ClientID: c, Text: "x"}, []string{"hook-" + c}); err != nil {
			t.Fatal(err)
		}
	}
	d := api.Deps{Calls: st, Outbox: ob, BackupDir: t.TempDir(), Token: tokenFunc,
		ClientTokens: func() map[string]string { return map[string]string{acmeToken: "acme", betaToken: "beta"} }}
	h := api.NewHandler(d)
	send := func(token, method, path string) (int, string) {
		t.Helper()
		resp, body := doAs(t, h, token, method, path)
		return resp.StatusCode, string(body)
	}
	// Each route as a client asks it: its path, and a query showing the
	// data (acme's and beta's in it for the service's token).
	cases := map[string]struct{ method, path, query string }{
		"GET /api/v1/calls":                     {"GET", "/api/v1/calls", "from=2026-11-01&to=2026-12-01"},
		"GET /api/v1/backup":                    {"GET", "/api/v1/backup", ""},
		"GET /api/v1/clients/{id}/counts":       {"GET", "/api/v1/clients/{id}/counts", "month=2026-11"},
		"GET /api/v1/reports/clients":           {"GET", "/api/v1/reports/clients", "month=2026-11"},
		"GET /api/v1/reports/operators":         {"GET", "/api/v1/reports/operators", "month=2026-11"},
		"GET /api/v1/callbacks":                 {"GET", "/api/v1/callbacks", "state=pending"},
		"POST /api/v1/callers/forget":           {"POST", "/api/v1/callers/forget", "number=0312345678"},
		"GET /api/v1/relay":                     {"GET", "/api/v1/relay", "state=pending"},
		"POST /api/v1/relay/retry":              {"POST", "/api/v1/relay/retry", "id=m-acme/hook-acme"},
		"POST /api/v1/relay/discard":            {"POST", "/api/v1/relay/discard", "id=m-acme/hook-acme"},
		"POST /api/v1/relay/unreadable/discard": {"POST", "/api/v1/relay/unreadable/discard", "id=m-acme/hook-acme"},
	}
	routes := api.Routes(d)
	if len(routes) != len(cases) {
		t.Fatalf("%d routes, %d in the table: %v", len(routes), len(cases), routes)
	}
	for _, r := range routes {
		c, ok := cases[r.Pattern]
		if !ok {
			t.Fatalf("route %s is not in the table: say what a client's token may do there", r.Pattern)
		}
		path := strings.Replace(c.path, "{id}", "acme", 1)
		with := func(q string) string {
			if q == "" {
				return path
			}
			return path + "?" + q
		}
		switch r.Access {
		case "service":
			if code, body := send(acmeToken, c.method, with(c.query)); code != http.StatusForbidden {
				t.Errorf("%s with acme's token: %d %s, want 403", r.Pattern, code, body)
			}
		case "client-param":
			code, body := send(acmeToken, c.method, with(c.query))
			if code != http.StatusOK || !strings.Contains(body, "acme") || strings.Contains(body, "beta") {
				t.Errorf("%s with acme's token: %d %s, want acme's data only", r.Pattern, code, body)
			}
			if code, body := send(acmeToken, c.method, with(c.query+"&client=beta")); code != http.StatusForbidden {
				t.Errorf("%s?client=beta with acme's token: %d %s, want 403", r.Pattern, code, body)
			}
			if code, body := send(testToken, c.method, with(c.query)); code != http.StatusOK || !strings.Contains(body, "beta") {
				t.Errorf("%s with the service's token: %d %s, want every client's", r.Pattern, code, body)
			}
		case "client-path":
			if code, body := send(acmeToken, c.method, with(c.query)); code != http.StatusOK {
				t.Errorf("%s of acme with acme's token: %d %s", r.Pattern, code, body)
			}
			if code, body := send(acmeToken, c.method, strings.Replace(with(c.query), "/acme/", "/beta/", 1)); code != http.StatusForbidden {
				t.Errorf("%s of beta with acme's token: %d %s, want 403", r.Pattern, code, body)
			}
		default:
			t.Errorf("%s: access %q", r.Pattern, r.Access)
		}
	}
	if code, _ := send("beta-token-wrong-0123", "GET", "/api/v1/calls"); code != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", code)
	}
}

// TestClientTokensOnlyDataAPI: with clients' tokens and no service
// token, the data API answers the clients, and refuses what needs the
// service's token.
func TestClientTokensOnlyDataAPI(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	h := api.NewHandler(api.Deps{Calls: st, BackupDir: t.TempDir(), Token: func() string { return "" },
		ClientTokens: func() map[string]string { return map[string]string{betaToken: "beta"} }})
	for path, want := range map[string]int{"/api/v1/calls": 200, "/api/v1/backup": 403} {
		if resp, _ := doAs(t, h, betaToken, "GET", path); resp.StatusCode != want {
			t.Errorf("%s with beta's token and no service token: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestClientChangeFeedCursorIsItsOwn: a client's change feed cursor
// moves with its own records only: one that moved with every client's
// writes told a client's token when other clients' calls ended (a review
// found it).
func TestClientChangeFeedCursorIsItsOwn(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	h := api.NewHandler(api.Deps{Calls: st, BackupDir: t.TempDir(), Token: tokenFunc,
		ClientTokens: func() map[string]string { return map[string]string{acmeToken: "acme"} }})
	next := func(after string) (string, int) {
		t.Helper()
		_, b := doAs(t, h, acmeToken, "GET", "/api/v1/calls?changed_after="+after)
		var body struct {
			Calls []store.CallRecord `json:"calls"`
			Next  string             `json:"next"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatal(err)
		}
		return body.Next, len(body.Calls)
	}
	n1, got := next("0")
	if got != 2 {
		t.Fatalf("acme's feed: %d records, want its 2", got)
	}
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	if err := st.PutCall(store.CallRecord{ID: "b9", ClientID: "beta", DID: "0311112222", Result: store.ResultCompleted, StartedAt: at, EndedAt: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n2, got := next(n1); got != 0 || n2 != n1 {
		t.Errorf("after beta's call: acme's feed %d records, cursor %s → %s; want none, the cursor unmoved", got, n1, n2)
	}
	if err := st.PutCall(store.CallRecord{ID: "a9", ClientID: "acme", DID: "0312345678", Result: store.ResultCompleted, StartedAt: at, EndedAt: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n3, got := next(n1); got != 1 || n3 == n1 {
		t.Errorf("after acme's call: %d records, cursor %s → %s; want it, the cursor moved", got, n1, n3)
	}
}

// TestClientFeedMoreIsItsOwn: a full page's "more" says whether more of
// the client's own records follow, not whether any entry does: it
// flipped when another client's call was written (a review found it).
func TestClientFeedMoreIsItsOwn(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st) // acme's c1, c3
	h := api.NewHandler(api.Deps{Calls: st, BackupDir: t.TempDir(), Token: tokenFunc,
		ClientTokens: func() map[string]string { return map[string]string{acmeToken: "acme"} }})
	type page struct {
		Calls []store.CallRecord `json:"calls"`
		Next  string             `json:"next"`
		More  bool               `json:"more"`
	}
	ask := func(q string) page {
		t.Helper()
		_, b := doAs(t, h, acmeToken, "GET", "/api/v1/calls?"+q)
		var p page
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := ask("changed_after=0&limit=1")
	if len(first.Calls) != 1 || !first.More {
		t.Fatalf("acme's first page of one: %d records, more %v; want one, and more", len(first.Calls), first.More)
	}
	probe := "changed_after=" + first.Next + "&limit=1"
	if p := ask(probe); len(p.Calls) != 1 || p.More {
		t.Fatalf("acme's last record: %d records, more %v", len(p.Calls), p.More)
	}
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	if err := st.PutCall(store.CallRecord{ID: "b9", ClientID: "beta", DID: "0311112222", Result: store.ResultCompleted, StartedAt: at, EndedAt: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if p := ask(probe); p.More {
		t.Error("acme's last page says more after beta's call was written: it tells acme when beta's calls end")
	}
}
