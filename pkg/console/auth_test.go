package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/password"
)

func TestLoginRefused(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, id, pw string }{
		{"wrong password", "op-a", "nope"},
		{"unknown operator", "ghost", "secret-pw"},
		{"empty", "", ""},
		{"case differs", "OP-A", "secret-pw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := e.anon()
			resp, body := u.do("POST", "/api/v1/login", map[string]string{"operator_id": tt.id, "password": tt.pw})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d %s, want 401", resp.StatusCode, body)
			}
			if len(resp.Cookies()) != 0 {
				t.Fatalf("cookie set on failed login: %v", resp.Cookies())
			}
			if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("state after failed login: %d", resp.StatusCode)
			}
		})
	}
}

func TestLoginFormSetsSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		e := newEnv(t, func(d *console.Deps, _ *env) { d.SecureCookies = secure })
		u := e.anon()
		resp, _ := u.postForm("/login", url.Values{"operator_id": {"op-a"}, "password": {"secret-pw"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console") {
			t.Fatalf("form login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		cks := resp.Cookies()
		if len(cks) != 1 {
			t.Fatalf("cookies %v", cks)
		}
		ck := cks[0]
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != secure || len(ck.Value) != 43 {
			t.Errorf("cookie %+v: want HttpOnly, Lax, Secure=%v, 32 random bytes", ck, secure)
		}
		if secure {
			continue // the jar will not send a Secure cookie over http
		}
		resp, body := u.do("GET", "/console", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="csrf-token"`) {
			t.Fatalf("console page: %d", resp.StatusCode)
		}
	}
}

// TestCookieSecureBehindTheHTTPSProxy: a login through the loopback TLS
// proxy (X-Forwarded-Proto: https) gets a Secure cookie even without
// http.secure_cookies; the same header from any other peer is not trusted.
func TestCookieSecureBehindTheHTTPSProxy(t *testing.T) {
	e := newEnv(t)
	u := e.anon()
	body := strings.NewReader(`{"operator_id":"op-a","password":"secret-pw"}`)
	resp, _ := u.raw("POST", "/api/v1/login", body, map[string]string{"Content-Type": "application/json", "X-Forwarded-Proto": "https"})
	if cks := resp.Cookies(); resp.StatusCode != http.StatusOK || len(cks) != 1 || !cks[0].Secure {
		t.Fatalf("login through the HTTPS proxy: %d, cookies %+v; want one Secure cookie", resp.StatusCode, cks)
	}
	r := httptest.NewRequest("POST", "/api/v1/login", nil)
	r.RemoteAddr = "203.0.113.5:4321"
	r.Header.Set("X-Forwarded-Proto", "https")
	if console.OverHTTPS(r) {
		t.Fatal("X-Forwarded-Proto from a peer that is not the local proxy was trusted")
	}
}

func TestLoginPageWrongPasswordShowsError(t *testing.T) {
	e := newEnv(t)
	resp, body := e.anon().postForm("/login", url.Values{"operator_id": {"op-a"}, "password": {"x"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "IDまたはパスワードが違います") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
}

func TestUnauthenticatedRedirectsAndRefuses(t *testing.T) {
	e := newEnv(t)
	u := e.anon()
	for _, p := range []string{"/console", "/supervisor"} {
		if resp, _ := u.do("GET", p, nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("GET %s: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, p := range []string{"/api/v1/console/state", "/api/v1/console/events", "/api/v1/console/wallboard"} {
		if resp, _ := u.do("GET", p, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s: %d, want 401", p, resp.StatusCode)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		e := newEnv(t)
		u := e.login("op-a")
		e.clock.Advance(12*time.Hour - time.Second)
		if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("before idle limit: %d", resp.StatusCode)
		}
		e.clock.Advance(12 * time.Hour)
		if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after 12 h idle: %d, want 401", resp.StatusCode)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		e := newEnv(t)
		u := e.login("op-a")
		for range 2 {
			e.clock.Advance(11 * time.Hour)
			if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("active session refused at %v: %d", e.clock.Now(), resp.StatusCode)
			}
		}
		e.clock.Advance(2 * time.Hour) // 24 h after login, used 2 h ago
		if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after 24 h: %d, want 401", resp.StatusCode)
		}
	})
	// NTP setting the clock back a little logs nobody out; a session made
	// far in this clock's future is not one it made.
	t.Run("clock set back", func(t *testing.T) {
		e := newEnv(t)
		u := e.login("op-a")
		e.clock.Advance(-30 * time.Second)
		if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("after the clock went back 30 s: %d, want 200", resp.StatusCode)
		}
		e.clock.Advance(-time.Hour)
		if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("an hour before the session was made: %d, want 401", resp.StatusCode)
		}
	})
}

// TestPagePollsAreNoUse: a console page left open reads the state (and
// the delivery status, the callback requests) by itself every few seconds,
// marking those reads X-Toritsugi-Poll: 1. They need a live session but
// do not count as its use: a page left open with nobody at it ends 12 h
// after the last real use (a press, a save); a real action keeps it, even
// marked (only a GET is a poll). A read without the mark counts as use, as
// before.
func TestPagePollsAreNoUse(t *testing.T) {
	poll := func(u *user) int {
		resp, _ := u.raw("GET", "/api/v1/console/state", nil, map[string]string{"X-Toritsugi-Poll": "1"})
		return resp.StatusCode
	}
	plain := func(u *user) int {
		resp, _ := u.do("GET", "/api/v1/console/state", nil)
		return resp.StatusCode
	}
	press := func(u *user) int {
		resp, _ := u.do("POST", "/api/v1/console/available", nil)
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name string
		// at, when given, is a request made once, at that time after the
		// login, besides the polls.
		at      time.Duration
		action  func(*user) int
		endsAt  time.Duration // when the polls are first refused
		reading func(*user) int
		op      string // who logs in; op-a if empty
	}{
		{name: "polls only", endsAt: 12 * time.Hour, reading: poll},
		{name: "a press 6 h in", at: 6 * time.Hour, action: press, endsAt: 18 * time.Hour, reading: poll},
		{name: "a press marked as a poll is still use", at: 6 * time.Hour, action: func(u *user) int {
			resp, _ := u.raw("POST", "/api/v1/console/available", nil, map[string]string{"X-CSRF-Token": u.csrf, "X-Toritsugi-Poll": "1"})
			return resp.StatusCode
		}, endsAt: 18 * time.Hour, reading: poll},
		{name: "reads without the mark are use", endsAt: 24 * time.Hour, reading: plain},
		// EventSource cannot mark its request: the page opens its stream
		// again after every restart or network blip.
		{name: "opening the event stream is no use", at: 11 * time.Hour, action: func(u *user) int {
			u.stream().resp.Body.Close()
			return http.StatusOK
		}, endsAt: 12 * time.Hour, reading: poll},
		{name: "only the event stream opened, again and again", endsAt: 12 * time.Hour, reading: func(u *user) int {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "GET", u.e.srv.URL+"/api/v1/console/events", nil)
			if err != nil {
				t.Fatal(err)
			}
			hc := *u.hc
			hc.Timeout = 0
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			resp.Body.Close()
			return resp.StatusCode
		}},
		{name: "the wallboard's marked reads", op: "sv", endsAt: 12 * time.Hour, reading: func(u *user) int {
			resp, _ := u.raw("GET", "/api/v1/console/wallboard", nil, map[string]string{"X-Toritsugi-Poll": "1"})
			return resp.StatusCode
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.op == "" {
				tc.op = "op-a"
			}
			u := e.login(tc.op)
			const every = 5 * time.Minute
			for at := every; at <= 25*time.Hour; at += every {
				e.clock.Advance(every)
				if tc.action != nil && at == tc.at {
					if got := tc.action(u); got != http.StatusOK {
						t.Fatalf("the request %v in: %d", at, got)
					}
				}
				got := tc.reading(u)
				if want := http.StatusOK; at >= tc.endsAt {
					want = http.StatusUnauthorized
					if got != want {
						t.Fatalf("%v after the login: %d, want %d", at, got, want)
					}
					return
				} else if got != want {
					t.Fatalf("%v after the login: %d, want %d", at, got, want)
				}
			}
			t.Fatalf("still live after 25 h")
		})
	}
}

// TestReloadEndsSessions: an operator's sessions end, open event streams
// included, when a reload changes their password, takes it away (no more
// console access) or removes them; the other operators' sessions go on.
func TestReloadEndsSessions(t *testing.T) {
	other, err := password.HashWith("another-pw", cheap)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(op console.Operator) []console.Operator
	}{
		{"password changed", func(op console.Operator) []console.Operator { op.PasswordHash = other; return []console.Operator{op} }},
		{"password taken away", func(op console.Operator) []console.Operator { op.PasswordHash = ""; return []console.Operator{op} }},
		{"operator removed", func(console.Operator) []console.Operator { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			a, b := e.login("op-a"), e.login("op-b")
			events := a.stream()
			events.nextNamed(t, "state")
			e.reload(func(ops []console.Operator) []console.Operator {
				var out []console.Operator
				for _, op := range ops {
					if op.ID == "op-a" {
						out = append(out, tc.change(op)...)
					} else {
						out = append(out, op)
					}
				}
				return out
			})
			if resp, _ := a.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("op-a's session after the reload: %d, want 401", resp.StatusCode)
			}
			if resp, _ := b.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("op-b's session after the reload: %d, want 200", resp.StatusCode)
			}
			// The stream ends at its next event instead of carrying it.
			e.c.StateChanged("op-a")
			for {
				line, err := events.rd.ReadString('\n')
				if err != nil {
					break
				}
				if strings.HasPrefix(line, "event: ") {
					t.Fatalf("op-a's stream carried %q after the reload", line)
				}
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	other := e.login("op-b")
	tests := []struct {
		name, token string
		want        int
	}{
		{"missing", "", http.StatusForbidden},
		{"wrong", "AAAA", http.StatusForbidden},
		{"another session's", other.csrf, http.StatusForbidden},
		{"right", u.csrf, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := u.raw("POST", "/api/v1/console/available", strings.NewReader("{}"),
				map[string]string{"Content-Type": "application/json", "X-CSRF-Token": tt.token})
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tt.want)
			}
		})
	}
	if got := e.control.actions(); len(got) != 1 || got[0] != "op-a:available:" {
		t.Fatalf("control actions %v, want exactly one from op-a", got)
	}
	// The logout form needs its hidden field.
	if resp, _ := u.postForm("/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := u.postForm("/logout", url.Values{"csrf_token": {u.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d, want 303", resp.StatusCode)
	}
	if resp, _ := u.do("GET", "/api/v1/console/state", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after logout: %d, want 401", resp.StatusCode)
	}
}

func TestCrossOriginRefused(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	resp, _ := u.raw("POST", "/api/v1/console/available", strings.NewReader("{}"), map[string]string{
		"Content-Type": "application/json", "X-CSRF-Token": u.csrf, "Origin": "https://evil.example",
	})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST: %d, want 403", resp.StatusCode)
	}
	resp, _ = e.anon().raw("POST", "/login", strings.NewReader("operator_id=op-a&password=secret-pw"), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site",
	})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site login: %d, want 403", resp.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	u := e.anon()
	try := func(id, pw string) int {
		resp, _ := u.do("POST", "/api/v1/login", map[string]string{"operator_id": id, "password": pw})
		return resp.StatusCode
	}
	for i := range 5 {
		if got := try("op-a", "wrong"); got != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, got)
		}
	}
	if got := try("op-a", "secret-pw"); got != http.StatusTooManyRequests {
		t.Fatalf("6th attempt with the right password: %d, want 429", got)
	}
	if got := try("op-b", "secret-pw"); got != http.StatusOK {
		t.Fatalf("another operator from the same IP: %d, want 200", got)
	}
	e.clock.Advance(5 * time.Minute)
	if got := try("op-a", "secret-pw"); got != http.StatusOK {
		t.Fatalf("after the window: %d, want 200", got)
	}
}

// TestBusyPasswordChecksAreNoFailures: while a flood holds every password
// check, logins are refused (429) without being counted as failed
// guesses: once the flood is over, the operator logs in.
func TestBusyPasswordChecksAreNoFailures(t *testing.T) {
	e := newEnv(t)
	u := e.anon()
	release := console.HoldPasswordChecks(e.c)
	for i := range 10 {
		resp, _ := u.do("POST", "/api/v1/login", map[string]string{"operator_id": "op-a", "password": "secret-pw"})
		if resp.StatusCode != http.StatusTooManyRequests {
			release()
			t.Fatalf("attempt %d while the checks are busy: %d, want 429", i+1, resp.StatusCode)
		}
	}
	release()
	if resp, _ := u.do("POST", "/api/v1/login", map[string]string{"operator_id": "op-a", "password": "secret-pw"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the flood: %d, want 200", resp.StatusCode)
	}
}

// TestKnownLoginThroughAFlood: a flood of guesses from many addresses
// holds every shared password check; an operator logging in from where
// they logged in before still gets a check (kept for them), and is in;
// a login from elsewhere is refused at once, as before.
func TestKnownLoginThroughAFlood(t *testing.T) {
	e := newEnv(t)
	e.login("op-a") // known from here now
	release := console.HoldPasswordChecks(e.c)
	defer release()
	if resp, _ := e.anon().do("POST", "/api/v1/login", map[string]string{"operator_id": "op-a", "password": "secret-pw"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("op-a at their own desk during a flood: %d, want 200", resp.StatusCode)
	}
	if resp, _ := e.anon().do("POST", "/api/v1/login", map[string]string{"operator_id": "op-b", "password": "secret-pw"}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("op-b, never logged in from here, during a flood: %d, want 429", resp.StatusCode)
	}
}

func TestSupervisorOnly(t *testing.T) {
	e := newEnv(t)
	a, sv := e.login("op-a"), e.login("sv")
	for _, p := range []string{"/supervisor", "/api/v1/console/wallboard"} {
		if resp, _ := a.do("GET", p, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("operator GET %s: %d, want 403", p, resp.StatusCode)
		}
		if resp, _ := sv.do("GET", p, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("supervisor GET %s: %d, want 200", p, resp.StatusCode)
		}
	}
}

func TestControlActsForSessionOperator(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-b")
	steps := []struct {
		path string
		body any
		want int
	}{
		{"/api/v1/console/available", map[string]string{"operator_id": "op-a"}, 200},
		{"/api/v1/console/pause", map[string]string{"reason": "lunch", "operator_id": "op-a"}, 200},
		{"/api/v1/console/pause", map[string]string{"reason": "<script>"}, 400},
		{"/api/v1/console/wrapup/extend", map[string]int{"seconds": 30}, 200},
		{"/api/v1/console/wrapup/extend", map[string]int{"seconds": 6000}, 400},
		// Numbers that multiplied into seconds wrapped round to a
		// negative or tiny wrap-up, and passed the range check.
		{"/api/v1/console/wrapup/extend", map[string]int64{"seconds": 9223372037}, 400},
		{"/api/v1/console/wrapup/extend", map[string]int64{"seconds": 1 << 55}, 400},
		{"/api/v1/console/wrapup/extend", map[string]int64{"seconds": 1<<55 + 1}, 400},
		{"/api/v1/console/wrapup/end", map[string]string{}, 200},
		// Logging out takes the operator out of routing.
		{"/api/v1/logout", map[string]string{"operator_id": "op-a"}, 200},
	}
	for _, s := range steps {
		if resp, body := u.do("POST", s.path, s.body); resp.StatusCode != s.want {
			t.Errorf("POST %s %v: %d %s, want %d", s.path, s.body, resp.StatusCode, body, s.want)
		}
	}
	want := []string{"op-b:available:", "op-b:paused:lunch", "op-b:wrap_up:30s", "op-b:available:end", "op-b:offline:logout"}
	got := e.control.actions()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("actions %v, want %v", got, want)
	}
}

func TestEventsCarryOnlyOwnPopsAndState(t *testing.T) {
	e := newEnv(t)
	a, b := e.login("op-a"), e.login("op-b")
	sa, sb := a.stream(), b.stream()
	sa.nextNamed(t, "state")
	sb.nextNamed(t, "state")
	e.c.Pop(pop("call-for-b", "op-b"))
	e.c.Pop(pop("call-for-a", "op-a"))
	if d := sa.nextNamed(t, "pop"); !strings.Contains(d, "call-for-a") || strings.Contains(d, "call-for-b") {
		t.Fatalf("A got %s", d)
	}
	if d := sb.nextNamed(t, "pop"); !strings.Contains(d, "call-for-b") {
		t.Fatalf("B got %s", d)
	}
	// A's state change reaches A's stream.
	a.do("POST", "/api/v1/console/pause", map[string]string{"reason": "break"})
	if d := sa.nextNamed(t, "state"); !strings.Contains(d, `"paused"`) {
		t.Fatalf("A state %s", d)
	}
	// B cannot see A's call in its state nor save an intake for it.
	_, body := b.do("GET", "/api/v1/console/state", nil)
	if strings.Contains(string(body), "call-for-a") {
		t.Fatalf("B's state shows A's call: %s", body)
	}
	resp, _ := b.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-for-a", "values": goodValues(), "operator_id": "op-a"})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("B saving on A's call: %d, want 404", resp.StatusCode)
	}
}

// TestLoginRateLimitAcrossIPv6Rotation: guesses from addresses that change
// within one IPv6 /64 (behind the loopback TLS proxy) share the limits of
// that network; an operator id longer than any operator's is refused
// without being counted.
func TestLoginRateLimitAcrossIPv6Rotation(t *testing.T) {
	e := newEnv(t)
	u := e.anon()
	login := func(i int, id, pw string) int {
		body := strings.NewReader(fmt.Sprintf(`{"operator_id":%q,"password":%q}`, id, pw))
		resp, _ := u.raw("POST", "/api/v1/login", body, map[string]string{"Content-Type": "application/json",
			"X-Forwarded-For": fmt.Sprintf("2001:db8:1:2::%x", i+1)})
		return resp.StatusCode
	}
	if got := login(0, strings.Repeat("x", 1000), "x"); got != http.StatusUnauthorized {
		t.Fatalf("a huge operator id: %d", got)
	}
	for i := range maxGuesses {
		if got := login(i, "op-a", "wrong"); got != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, got)
		}
	}
	if got := login(maxGuesses, "op-a", "secret-pw"); got != http.StatusTooManyRequests {
		t.Fatalf("after %d guesses from one /64, each from another address: %d, want 429", maxGuesses, got)
	}
}

// TestLoginRateLimitAcrossAddresses: guesses at one operator spread over
// many addresses (each under its own limits) are capped for the operator;
// the operator still logs in from an address they logged in from before,
// and another operator is not held up.
func TestLoginRateLimitAcrossAddresses(t *testing.T) {
	e := newEnv(t)
	u := e.anon()
	from := func(addr, id, pw string) int { return u.loginFrom(addr, id, pw) }
	const home = "198.51.100.7"
	if got := from(home, "op-a", "secret-pw"); got != http.StatusOK {
		t.Fatalf("op-a from home: %d, want 200", got)
	}
	for i := range maxAccountGuesses {
		if got := from(fmt.Sprintf("203.0.113.%d", i+1), "op-a", "wrong"); got != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, got)
		}
	}
	if got := from("203.0.113.200", "op-a", "secret-pw"); got != http.StatusTooManyRequests {
		t.Fatalf("after %d guesses from as many addresses, the right password from another: %d, want 429", maxAccountGuesses, got)
	}
	if got := from(home, "op-a", "secret-pw"); got != http.StatusOK {
		t.Fatalf("op-a from home during the guessing: %d, want 200", got)
	}
	if got := from("203.0.113.201", "op-b", "secret-pw"); got != http.StatusOK {
		t.Fatalf("op-b from a new address: %d, want 200", got)
	}
	e.clock.Advance(5 * time.Minute)
	if got := from("203.0.113.202", "op-a", "secret-pw"); got != http.StatusOK {
		t.Fatalf("after the window, from a new address: %d, want 200", got)
	}
}

// maxAccountGuesses is the console's failures allowed per operator from
// addresses it has not logged in from.
const maxAccountGuesses = 20

// maxGuesses is the console's failures allowed per (network, operator).
const maxGuesses = 5

func TestLoginRateLimitPerIP(t *testing.T) {
	e := newEnv(t)
	u := e.anon()
	for i := range 50 {
		resp, _ := u.do("POST", "/api/v1/login", map[string]string{"operator_id": "spray-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), "password": "x"})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	if resp, _ := u.do("POST", "/api/v1/login", map[string]string{"operator_id": "op-a", "password": "secret-pw"}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 50 failures from one IP: %d, want 429", resp.StatusCode)
	}
}

// TestKnownAddressesSurviveARestart: the address an operator logged in
// from is remembered in the store: after a restart, guesses at the
// operator from elsewhere still do not keep them out at their own desk.
func TestKnownAddressesSurviveARestart(t *testing.T) {
	e := newEnv(t)
	from := func(env *env, addr, id, pw string) int {
		body := strings.NewReader(fmt.Sprintf(`{"operator_id":%q,"password":%q}`, id, pw))
		resp, _ := env.anon().raw("POST", "/api/v1/login", body, map[string]string{"Content-Type": "application/json", "X-Forwarded-For": addr})
		return resp.StatusCode
	}
	const home = "198.51.100.7"
	if got := from(e, home, "op-a", "secret-pw"); got != http.StatusOK {
		t.Fatalf("op-a from home: %d, want 200", got)
	}
	e2 := e.restart()
	for i := range maxAccountGuesses {
		if got := from(e2, fmt.Sprintf("203.0.113.%d", i+1), "op-a", "wrong"); got != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, got)
		}
	}
	if got := from(e2, "203.0.113.200", "op-a", "secret-pw"); got != http.StatusTooManyRequests {
		t.Fatalf("the right password from a new address during the guessing: %d, want 429", got)
	}
	if got := from(e2, home, "op-a", "secret-pw"); got != http.StatusOK {
		t.Fatalf("op-a from home after a restart, during the guessing: %d, want 200", got)
	}
}

// TestNoLoginWithAHashThatIsNotOne: an operator whose password_hash is
// not an argon2id hash (bcrypt from an htpasswd file, the argon2 tool's
// default argon2i, a password pasted in) cannot be logged in as by
// anyone: not with the password the login checks unknown operators
// against to spend the same time on them.
func TestNoLoginWithAHashThatIsNotOne(t *testing.T) {
	for _, h := range []string{
		"$2y$10$abcdefghijklmnopqrstuuJ2m8s7wXr0Q1yq7c7Qm7kT2l8kQ9o2a",
		"$argon2i$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
		"change-me",
	} {
		e := newEnv(t)
		e.reload(func(ops []console.Operator) []console.Operator {
			return append(ops, console.Operator{ID: "boss", Name: "Boss", Supervisor: true, PasswordHash: h})
		})
		u := e.anon()
		for _, pw := range []string{"toritsugi-unknown-user", h} {
			if resp, body := u.do("POST", "/api/v1/login", map[string]string{"operator_id": "boss", "password": pw}); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("hash %.12q…, password %.12q…: login %d %s, want 401", h, pw, resp.StatusCode, body)
			}
		}
		if resp, _ := u.do("GET", "/api/v1/console/wallboard", nil); resp.StatusCode == http.StatusOK {
			t.Errorf("hash %.12q…: the wallboard answered 200 without a login", h)
		}
	}
}

// TestNoLoginWithoutAHash: an operator without a password_hash does not
// use the console; the login says 401, as for a wrong password, and
// hands out no session.
func TestNoLoginWithoutAHash(t *testing.T) {
	e := newEnv(t)
	e.reload(func(ops []console.Operator) []console.Operator {
		return append(ops, console.Operator{ID: "phoneonly", Name: "P", Clients: []string{"acme"}})
	})
	u := e.anon()
	if resp, body := u.do("POST", "/api/v1/login", map[string]string{"operator_id": "phoneonly", "password": "toritsugi-unknown-user"}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("login of an operator without console access: %d %s, want 401", resp.StatusCode, body)
	}
}

// TestOperatorCapOutlivesAFloodOfMadeUpIDs: 19 guesses at a real
// operator, then logins for more made-up ids than the limiter tracks
// (from many addresses, under each address's limit), then more guesses:
// the flood does not reset the operator's cap of 20 in the window.
func TestOperatorCapOutlivesAFloodOfMadeUpIDs(t *testing.T) {
	e := newEnv(t)
	u := e.anon()
	from := func(addr, id, pw string) int { return u.loginFrom(addr, id, pw) }
	addr := 0
	next := func() string { addr++; return fmt.Sprintf("2001:db8:%x:%x::1", addr/65536, addr%65536) }
	guesses := 0
	for range maxAccountGuesses - 1 {
		if from(next(), "op-a", "wrong") == http.StatusUnauthorized {
			guesses++
		}
	}
	e.clock.Advance(time.Second)
	const flood = 10000 + 100 // more than the limiter's table holds
	for i := 0; i < flood; {
		a := next()
		for j := 0; j < 40 && i < flood; j, i = j+1, i+1 {
			from(a, fmt.Sprintf("x%d", i), "x")
		}
	}
	for range maxAccountGuesses {
		if from(next(), "op-a", "wrong") == http.StatusUnauthorized {
			guesses++
		}
	}
	if guesses > maxAccountGuesses {
		t.Fatalf("%d guesses at op-a checked within one 5-minute window; the cap is %d", guesses, maxAccountGuesses)
	}
}

// loginFrom logs in as id with pw from addr (the proxy's X-Forwarded-For)
// and returns the status.
func (u *user) loginFrom(addr, id, pw string) int {
	body := strings.NewReader(fmt.Sprintf(`{"operator_id":%q,"password":%q}`, id, pw))
	resp, _ := u.raw("POST", "/api/v1/login", body, map[string]string{"Content-Type": "application/json", "X-Forwarded-For": addr})
	return resp.StatusCode
}
