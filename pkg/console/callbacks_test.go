package console_test

import (
	"encoding/json"
	"net/http"
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
