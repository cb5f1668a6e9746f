package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// restart builds a second console on e's store, clock and fakes, as a
// toritsugi restart would, and returns an env serving it.
func (e *env) restart() *env {
	e.t.Helper()
	e2 := &env{t: e.t, clock: e.clock, control: e.control, st: e.st, path: e.path, ops: e.ops}
	e2.c = console.New(console.Deps{
		Operators: e2.operators,
		Forms:     fakeForms{formFor: func(string) console.FormSpec { return branchingForm }, validate: validateBranching},
		Control:   e2.control,
		Relay: fakeRelay{
			submit: func(context.Context, store.Intake) error { return nil },
			status: func(string) []console.RelayStatus { return nil },
		},
		Store:     e2.st,
		Now:       e2.clock.Now,
		StatePoll: time.Hour,
	})
	e2.srv = httptest.NewServer(e2.c.Handler())
	e.t.Cleanup(func() { e2.c.Close(); e2.srv.Close() })
	return e2
}

// on is u talking to another env (same cookie jar: cookies ignore ports).
func (u *user) on(e *env) *user { return &user{e: e, hc: u.hc, csrf: u.csrf} }

// cookie returns the session cookie value u holds for e's server.
func (u *user) cookie() string {
	u.e.t.Helper()
	for _, c := range u.hc.Jar.Cookies(mustURL(u.e.t, u.e.srv.URL)) {
		if c.Name == "toritsugi_session" {
			return c.Value
		}
	}
	u.e.t.Fatal("no session cookie")
	return ""
}

// storeKey is what the store must key a session cookie by.
func storeKey(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(h[:])
}

func TestSessionSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	key := storeKey(u.cookie())
	e.clock.Advance(2 * time.Hour)

	e2 := e.restart()
	u2 := u.on(e2)
	if resp, body := u2.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("state after restart: %d %s", resp.StatusCode, body)
	}
	if resp, body := u2.do("POST", "/api/v1/console/available", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("CSRF-checked request after restart: %d %s", resp.StatusCode, body)
	}
	if resp, _ := u2.raw("POST", "/api/v1/console/available", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no CSRF token after restart: %d, want 403", resp.StatusCode)
	}
	if resp, body := u2.do("POST", "/api/v1/logout", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	if _, err := e.st.Session(key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session row after logout: %v, want ErrNotFound", err)
	}
}

func TestLoggedOutSessionStaysOutAfterRestart(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	cookie := u.cookie() // the logout clears it from the jar; a stolen copy stays
	if resp, _ := u.do("POST", "/api/v1/logout", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	stale := &user{hc: &http.Client{Timeout: 10 * time.Second}}
	s := stale.on(e.restart())
	if resp, _ := s.raw("GET", "/api/v1/console/state", nil, map[string]string{"Cookie": "toritsugi_session=" + cookie}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("logged-out cookie after restart: %d, want 401", resp.StatusCode)
	}
}

func TestExpiredSessionGoneAfterRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		// use is how long after login the session was last used; idle is
		// how long after that the restart happens.
		use, idle time.Duration
	}{
		{"idle", 0, console.IdleTimeout},
		{"absolute", console.AbsoluteTimeout - time.Hour, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.login("op-a")
			key := storeKey(u.cookie())
			for used := time.Duration(0); used < tc.use; used += 6 * time.Hour {
				e.clock.Advance(min(6*time.Hour, tc.use-used))
				if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusOK {
					t.Fatalf("use after %v: %d", used, resp.StatusCode)
				}
			}
			e.clock.Advance(tc.idle)
			e2 := e.restart()
			if _, err := e.st.Session(key); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("start-up sweep kept the expired session: %v", err)
			}
			if resp, _ := u.on(e2).do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("expired session after restart: %d, want 401", resp.StatusCode)
			}
		})
	}
}

func TestExpiredSessionDeletedLazily(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	key := storeKey(u.cookie())
	e.clock.Advance(console.IdleTimeout)
	if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("idle session: %d, want 401", resp.StatusCode)
	}
	if _, err := e.st.Session(key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session row: %v, want deleted", err)
	}
}

func TestSessionStoredUnderHashOnly(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	cookie := u.cookie()
	var keys []string
	err := e.st.Bolt().View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("console_sessions"))
		if b == nil {
			return errors.New("no sessions bucket")
		}
		return b.ForEach(func(k, v []byte) error {
			keys = append(keys, string(k))
			if bytes.Contains(k, []byte(cookie)) || bytes.Contains(v, []byte(cookie)) {
				t.Errorf("the store holds the session id itself: %q → %s", k, v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != storeKey(cookie) {
		t.Fatalf("stored keys %q, want the SHA-256 of the cookie", keys)
	}
	if s, err := e.st.Session(keys[0]); err != nil || s.OperatorID != "op-a" || s.CSRF != u.csrf {
		t.Fatalf("stored session %+v, %v", s, err)
	}
}

func TestSessionUseWrittenAtMostOncePerMinute(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	key := storeKey(u.cookie())
	login := e.clock.Now()
	lastSeen := func() time.Time {
		t.Helper()
		s, err := e.st.Session(key)
		if err != nil {
			t.Fatal(err)
		}
		return s.LastSeen
	}
	steps := []struct {
		advance time.Duration
		want    time.Time
	}{
		{10 * time.Second, login},
		{40 * time.Second, login},
		{10 * time.Second, login.Add(time.Minute)},
		{30 * time.Second, login.Add(time.Minute)},
	}
	for i, s := range steps {
		e.clock.Advance(s.advance)
		if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("step %d: %d", i, resp.StatusCode)
		}
		if got := lastSeen(); !got.Equal(s.want) {
			t.Fatalf("step %d: stored last-seen %v, want %v", i, got, s.want)
		}
	}
}

// TestLoggedInAfterARestart: after a restart, the operators logged in are
// those with a session the console would still accept: not one that
// logged out, not one whose session has expired, not one whose password
// changed meanwhile (the states of only these are restored).
func TestLoggedInAfterARestart(t *testing.T) {
	e := newEnv(t)
	e.reload(func(ops []console.Operator) []console.Operator {
		return append(ops, console.Operator{ID: "op-c", Name: "Carol", PasswordHash: ops[0].PasswordHash, Clients: []string{"acme"}},
			console.Operator{ID: "op-d", Name: "Dan", PasswordHash: ops[0].PasswordHash, Clients: []string{"acme"}})
	})
	e.login("op-a")
	gone := e.login("op-b")
	if resp, body := gone.do("POST", "/api/v1/logout", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	e.login("op-c")
	e.clock.Advance(console.IdleTimeout - time.Minute)
	e.login("op-d") // op-a and op-c idle for almost the idle timeout
	e.clock.Advance(2 * time.Minute)
	e.reload(func(ops []console.Operator) []console.Operator {
		for i := range ops {
			if ops[i].ID == "op-d" {
				ops[i].PasswordHash += "x" // a new password
			}
		}
		return ops
	})
	e2 := e.restart()
	got, err := e2.c.LoggedIn()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("logged in after the restart: %v, want nobody (op-a and op-c expired, op-b out, op-d's password changed)", got)
	}
	e2.login("op-a")
	if got, err := e2.c.LoggedIn(); err != nil || len(got) != 1 || !got["op-a"] {
		t.Errorf("after op-a logs in again: %v, %v", got, err)
	}
}

// TestLogoutOnOnePCKeepsTheOtherInRouting: an operator with the console
// open on two PCs (or two browsers) logs out of one: the other's console
// goes on, so the operator stays in routing; logging out of the last one
// takes them out. Only a session with its console's event stream open
// counts: not one whose browser was closed without logging out, nor a
// wallboard's; nor one that idled out, another operator's, or one logged
// out already. After a restart, one whose console reconnected does.
func TestLogoutOnOnePCKeepsTheOtherInRouting(t *testing.T) {
	const loggedOut = "op-a:offline:logout"
	// open logs in op-a with the console open (its stream).
	open := func(e *env) *user {
		u := e.login("op-a")
		u.stream()
		return u
	}
	for _, tc := range []struct {
		name string
		// setup logs in what is there besides the session logging out
		// (returned), on e or a restarted env.
		setup    func(e *env) (out *user, others []*user)
		wantKept bool
	}{
		{"another session with the console open", func(e *env) (*user, []*user) {
			other := open(e)
			return e.login("op-a"), []*user{other}
		}, true},
		{"another session, its browser closed", func(e *env) (*user, []*user) {
			other := e.login("op-a")
			other.stream().resp.Body.Close()
			// The stream is gone once its handler saw the close.
			deadline := time.Now().Add(5 * time.Second)
			for console.OpenStreams(e.c, "op-a") > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := console.OpenStreams(e.c, "op-a"); n > 0 {
				t.Fatalf("streams still open after the close: %d", n)
			}
			return open(e), []*user{other}
		}, false},
		{"another session with only the wallboard open", func(e *env) (*user, []*user) {
			e.reload(func(ops []console.Operator) []console.Operator { ops[0].Supervisor = true; return ops })
			other := e.login("op-a")
			if resp, _ := other.raw("GET", "/api/v1/console/wallboard", nil, map[string]string{"X-Toritsugi-Poll": "1"}); resp.StatusCode != http.StatusOK {
				t.Fatalf("wallboard: %d", resp.StatusCode)
			}
			return open(e), []*user{other}
		}, false},
		{"no other session", func(e *env) (*user, []*user) {
			return open(e), nil
		}, false},
		{"only another operator's", func(e *env) (*user, []*user) {
			u := e.login("op-b")
			u.stream()
			return open(e), nil
		}, false},
		{"the other idled out", func(e *env) (*user, []*user) {
			open(e)
			out := e.login("op-a")
			for range 13 {
				e.clock.Advance(time.Hour)
				out.do("POST", "/api/v1/console/available", nil)
			}
			return out, nil
		}, false},
		{"the other logged out before", func(e *env) (*user, []*user) {
			open(e).do("POST", "/api/v1/logout", nil)
			return e.login("op-a"), nil
		}, false},
		{"the other's console reconnected after a restart", func(e *env) (*user, []*user) {
			other, out := e.login("op-a"), e.login("op-a")
			e2 := e.restart()
			other = other.on(e2)
			other.stream()
			return out.on(e2), []*user{other}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			out, others := tc.setup(e)
			before := len(e.control.actions())
			if resp, body := out.do("POST", "/api/v1/logout", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("logout: %d %s", resp.StatusCode, body)
			}
			got := slices.Contains(e.control.actions()[before:], loggedOut)
			if got == tc.wantKept {
				t.Fatalf("taken out of routing: %v, want %v (actions %v)", got, !tc.wantKept, e.control.actions())
			}
			for _, o := range others {
				if resp, _ := o.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusOK {
					t.Fatalf("the other session after the logout: %d, want 200", resp.StatusCode)
				}
				if resp, body := o.do("POST", "/api/v1/logout", nil); resp.StatusCode != http.StatusOK {
					t.Fatalf("logout of the other: %d %s", resp.StatusCode, body)
				}
			}
			if !slices.Contains(e.control.actions()[before:], loggedOut) {
				t.Fatalf("the last session logged out, the operator still in routing: %v", e.control.actions())
			}
		})
	}
}

// TestLoginAgainInTheSameBrowserReplacesItsSession: the console is open in
// tab A (the first session, its event stream); the operator logs in again
// in tab B of the same browser (a bookmarked /login: the browser's cookie
// replaced) and logs out there at the end of the shift. The first
// session, which no browser can reach any more, ended with the login, its
// stream too: it does not count as a console open elsewhere, and the
// logout takes the operator out of routing. Tab A went on meanwhile with
// the new session (its stream reconnected with the new cookie), and ends
// with it.
func TestLoginAgainInTheSameBrowserReplacesItsSession(t *testing.T) {
	e := newEnv(t)
	tabA := e.login("op-a")
	streamA := tabA.stream()
	// Tab B: the same browser (cookie jar), a new login.
	tabB := &user{e: e, hc: tabA.hc}
	resp, body := tabB.do("POST", "/api/v1/login", map[string]string{"operator_id": "op-a", "password": "secret-pw"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login in tab B: %d %s", resp.StatusCode, body)
	}
	var lr struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &lr); err != nil {
		t.Fatal(err)
	}
	tabB.csrf = lr.CSRF
	if !streamA.ends() {
		t.Error("tab A's stream of the replaced session still open after the new login")
	}
	if resp, _ := tabA.do("POST", "/api/v1/console/available", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("tab A's press with the replaced session's token: %d, want 403 (the page then takes the new one)", resp.StatusCode)
	}
	streamA = tabA.stream() // tab A reconnects, with the browser's new cookie
	before := len(e.control.actions())
	if resp, body := tabB.do("POST", "/api/v1/logout", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout in tab B: %d %s", resp.StatusCode, body)
	}
	if acts := e.control.actions()[before:]; !slices.Contains(acts, "op-a:offline:logout") {
		t.Fatalf("logged out of the only browser, still in routing: %v", acts)
	}
	if !streamA.ends() {
		t.Fatal("tab A's stream still open after the logout")
	}
}

// TestLoginAsAnotherOperatorEndsTheBrowsersSession: on a shared computer,
// op-b logs in where op-a's console was open: op-a's session there, which
// the browser can no longer reach, ends, and no longer keeps op-a in
// routing when op-a logs out on their own PC.
func TestLoginAsAnotherOperatorEndsTheBrowsersSession(t *testing.T) {
	e := newEnv(t)
	shared := e.login("op-a")
	streamA := shared.stream()
	own := e.login("op-a") // op-a's own PC
	next := &user{e: e, hc: shared.hc}
	if resp, body := next.do("POST", "/api/v1/login", map[string]string{"operator_id": "op-b", "password": "secret-pw"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("op-b's login on the shared computer: %d %s", resp.StatusCode, body)
	}
	if !streamA.ends() {
		t.Error("op-a's stream on the shared computer still open after op-b's login there")
	}
	before := len(e.control.actions())
	if resp, body := own.do("POST", "/api/v1/logout", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("op-a's logout: %d %s", resp.StatusCode, body)
	}
	if acts := e.control.actions()[before:]; !slices.Contains(acts, "op-a:offline:logout") {
		t.Fatalf("op-a logged out with no console open anywhere, still in routing: %v", acts)
	}
}
