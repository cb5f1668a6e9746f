package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// putCallbacks stores pending requests: cb-acme (acme), cb-beta (beta).
func putCallbacks(t *testing.T, e *env) time.Time {
	t.Helper()
	at := time.Date(2026, 11, 10, 0, 30, 0, 0, time.UTC) // 09:30 JST
	for _, cb := range []store.Callback{
		{ID: "cb-acme", ClientID: "acme", Number: "+81312345678", RequestedAt: at},
		{ID: "cb-beta", ClientID: "beta", Number: "+819012345678", RequestedAt: at.Add(time.Minute)},
	} {
		if err := e.st.PutCallback(cb); err != nil {
			t.Fatal(err)
		}
	}
	return at
}

type cbList struct {
	Callbacks []struct {
		ID, Number, Display, Requested string
		ClientID                       string    `json:"client_id"`
		RequestedAt                    time.Time `json:"requested_at"`
	} `json:"callbacks"`
}

func listCallbacks(t *testing.T, u *user) cbList {
	t.Helper()
	resp, body := u.do("GET", "/api/v1/console/callbacks", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("callbacks: %d %s", resp.StatusCode, body)
	}
	var l cbList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("callbacks body %s: %v", body, err)
	}
	return l
}

func TestCallbacksList(t *testing.T) {
	e := newEnv(t)
	at := putCallbacks(t, e)
	l := listCallbacks(t, e.login("sv"))
	if len(l.Callbacks) != 2 {
		t.Fatalf("supervisor sees %+v, want both", l.Callbacks)
	}
	got := l.Callbacks[0]
	if got.ID != "cb-acme" || got.ClientID != "acme" || got.Number != "+81312345678" ||
		got.Display != "03-1234-5678" || got.Requested != "11/10 09:30" || !got.RequestedAt.Equal(at) {
		t.Fatalf("first callback %+v", got)
	}
	if l := listCallbacks(t, e.login("op-a")); len(l.Callbacks) != 1 || l.Callbacks[0].ID != "cb-acme" {
		t.Fatalf("op-a (acme only) sees %+v", l.Callbacks)
	}
	if resp, _ := e.anon().do("GET", "/api/v1/console/callbacks", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous list: %d, want 401", resp.StatusCode)
	}
}

func TestCallbackDone(t *testing.T) {
	e := newEnv(t)
	putCallbacks(t, e)
	sv, a, b := e.login("sv"), e.login("op-a"), e.login("op-b")
	noToken := func(u *user) *user { return &user{e: u.e, hc: u.hc} }
	tests := []struct {
		name string
		u    *user
		id   string
		want int
	}{
		{"anonymous", e.anon(), "cb-acme", http.StatusUnauthorized},
		{"no CSRF token", noToken(a), "cb-acme", http.StatusForbidden},
		{"wrong CSRF token", &user{e: e, hc: a.hc, csrf: b.csrf}, "cb-acme", http.StatusForbidden},
		{"unknown id", sv, "nope", http.StatusNotFound},
		{"other client's request", a, "cb-beta", http.StatusNotFound},
		{"operator serving the client", b, "cb-beta", http.StatusOK},
		{"supervisor", sv, "cb-acme", http.StatusOK},
		{"already done", a, "cb-acme", http.StatusConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.u.do("POST", "/api/v1/console/callbacks/"+tc.id+"/done", nil)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.want)
			}
		})
	}
	done, err := e.st.Callbacks(store.CallbackDone)
	if err != nil || len(done) != 2 {
		t.Fatalf("done = %+v, %v", done, err)
	}
	by := map[string]string{}
	for _, cb := range done {
		by[cb.ID] = cb.OperatorID
		if !cb.DoneAt.Equal(e.clock.Now()) {
			t.Errorf("%s done at %v, want the console clock", cb.ID, cb.DoneAt)
		}
	}
	if by["cb-acme"] != "sv" || by["cb-beta"] != "op-b" {
		t.Fatalf("completed by %v", by)
	}
	if l := listCallbacks(t, sv); len(l.Callbacks) != 0 {
		t.Fatalf("done requests still listed: %+v", l.Callbacks)
	}
}

// TestCallbacksForAnOperatorOfEveryClient: an operator configured for
// every client (clients: ["*"]), not a supervisor, sees every client's
// callback requests.
func TestCallbacksForAnOperatorOfEveryClient(t *testing.T) {
	e := newEnv(t)
	putCallbacks(t, e)
	e.reload(func(ops []console.Operator) []console.Operator {
		return append(ops, console.Operator{ID: "op-all", Name: "全員", PasswordHash: testHash(t), Clients: []string{"*"}})
	})
	if l := listCallbacks(t, e.login("op-all")); len(l.Callbacks) != 2 {
		t.Fatalf("op-all sees %+v, want both", l.Callbacks)
	}
}

// TestCallbackClaim: op-a takes acme's request; the list tells op-b, a
// supervisor, that op-a calls back (and op-a that they do); the
// supervisor's claim answers 409 naming op-a; marking it done stays
// anyone's who may see it.
func TestCallbackClaim(t *testing.T) {
	e := newEnv(t)
	putCallbacks(t, e)
	a, sv := e.login("op-a"), e.login("sv")
	if resp, body := a.do("POST", "/api/v1/console/callbacks/cb-acme/claim", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("op-a's claim: %d %s", resp.StatusCode, body)
	}
	claim := func(u *user) (string, bool) {
		t.Helper()
		resp, body := u.do("GET", "/api/v1/console/callbacks", nil)
		var l struct {
			Callbacks []struct {
				ID        string `json:"id"`
				ClaimedBy string `json:"claimed_by"`
				Mine      bool   `json:"mine"`
			} `json:"callbacks"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &l) != nil {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		for _, cb := range l.Callbacks {
			if cb.ID == "cb-acme" {
				return cb.ClaimedBy, cb.Mine
			}
		}
		t.Fatalf("cb-acme not listed: %s", body)
		return "", false
	}
	if by, mine := claim(a); by != "青木" || !mine {
		t.Errorf("op-a sees cb-acme taken by %q, mine %v; want 青木, theirs", by, mine)
	}
	if by, mine := claim(sv); by != "青木" || mine {
		t.Errorf("the supervisor sees cb-acme taken by %q, mine %v; want 青木, not theirs", by, mine)
	}
	if resp, body := sv.do("POST", "/api/v1/console/callbacks/cb-acme/claim", nil); resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "青木") {
		t.Errorf("the supervisor's claim: %d %s, want 409 naming 青木", resp.StatusCode, body)
	}
	if resp, _ := a.do("POST", "/api/v1/console/callbacks/cb-beta/claim", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("op-a's claim of beta's request (not theirs): %d, want 404", resp.StatusCode)
	}
	e.clock.Advance(store.ClaimFor)
	if by, _ := claim(sv); by != "" {
		t.Errorf("a claim ClaimFor old still listed as %q's", by)
	}
	if resp, body := sv.do("POST", "/api/v1/console/callbacks/cb-acme/done", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("done: %d %s", resp.StatusCode, body)
	}
	// The page tells "taken" from "done" by the error (taken by …).
	if resp, body := a.do("POST", "/api/v1/console/callbacks/cb-acme/claim", nil); resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "already done") {
		t.Errorf("claim of a request done: %d %s, want 409 already done", resp.StatusCode, body)
	}
}
