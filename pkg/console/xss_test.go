package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/console"
)

const hostile = `<script>alert(1)</script>`

// noRawMarkup fails if body contains hostile markup unescaped.
func noRawMarkup(t *testing.T, where string, body []byte) {
	t.Helper()
	for _, bad := range []string{"<script>alert", "<img", "onerror=alert(1)>", "<b>", "</pre><script"} {
		if strings.Contains(string(body), bad) {
			t.Errorf("%s contains raw %q", where, bad)
		}
	}
}

func TestHostileDataIsEscapedEverywhere(t *testing.T) {
	e := newEnv(t, func(_ *console.Deps, e *env) {
		e.ops[0].Name = `<b>青木</b>` + hostile
		e.ops[2].Name = `"><img src=x onerror=alert(1)>`
	})
	e.control.SetAvailable("op-a")
	e.control.mu.Lock()
	st := e.control.states["op-a"]
	st.Name = e.ops[0].Name
	e.control.states["op-a"] = st
	e.control.mu.Unlock()

	a, sv := e.login("op-a"), e.login("sv")
	stream := a.stream()
	p := pop("c1", "op-a")
	p.CallerDisplay, p.KnownName, p.ClientName = hostile, `<img src=x onerror=alert(1)>`, hostile
	p.GreetingText, p.Manual = hostile, `</pre><script>alert(1)</script>`
	p.History = []console.HistoryItem{{Result: hostile, Summary: `<b>bold</b>`}}
	e.c.Pop(p)
	popData := stream.nextNamed(t, "pop")
	noRawMarkup(t, "pop event", []byte(popData))
	var back struct {
		Pop console.ScreenPop `json:"pop"`
	}
	if err := json.Unmarshal([]byte(popData), &back); err != nil || back.Pop.CallerDisplay != hostile {
		t.Fatalf("pop does not round-trip: %v %q", err, back.Pop.CallerDisplay)
	}

	vals := goodValues()
	vals["name"], vals["detail"] = hostile, `<img src=x onerror=alert(1)>`
	resp, body := a.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": vals})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	noRawMarkup(t, "save response", body)
	var sr saveResp
	if err := json.Unmarshal(body, &sr); err != nil || sr.Intake.Values["name"] != hostile {
		t.Fatalf("intake does not round-trip: %v %+v", err, sr.Intake.Values)
	}

	pages := []struct {
		who  *user
		path string
	}{
		{a, "/console"}, {a, "/console?lang=en"}, {sv, "/supervisor"},
		{a, "/api/v1/console/state"}, {a, "/api/v1/console/intakes/" + sr.Intake.ID},
		{sv, "/api/v1/console/wallboard"}, {a, "/login?lang=" + url.QueryEscape(hostile)},
	}
	for _, pg := range pages {
		resp, body := pg.who.do("GET", pg.path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", pg.path, resp.StatusCode)
		}
		noRawMarkup(t, pg.path, body)
	}
	// The page shows the operator's name as text.
	_, body = a.do("GET", "/console", nil)
	if !strings.Contains(string(body), "&lt;b&gt;青木&lt;/b&gt;&lt;script&gt;") {
		t.Errorf("console page does not show the escaped name")
	}
	// A login form echoing a hostile id.
	_, body = e.anon().postForm("/login", url.Values{"operator_id": {hostile}, "password": {"x"}})
	noRawMarkup(t, "login error page", body)
}

func TestPagesSendSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.anon().do("GET", "/login", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", resp.Header)
	}
	// HSTS over HTTPS only (behind the TLS proxy): over plain HTTP a
	// browser ignores it, and a test box has no certificate.
	if v := resp.Header.Get("Strict-Transport-Security"); v != "" {
		t.Errorf("HSTS over plain HTTP: %q", v)
	}
	resp, _ = e.anon().raw("GET", "/login", nil, map[string]string{"X-Forwarded-Proto": "https"})
	if v := resp.Header.Get("Strict-Transport-Security"); v != "max-age=31536000" {
		t.Errorf("HSTS behind the TLS proxy: %q", v)
	}
}

func TestLanguageChoice(t *testing.T) {
	e := newEnv(t)
	u := e.anon()
	tests := []struct{ path, accept, want string }{
		{"/login", "", "パスワード"},
		{"/login?lang=en", "", "Password"},
		{"/login", "en-US,en;q=0.9", "Password"},
		{"/login", "ja,en;q=0.5", "パスワード"},
		{"/login?lang=ja", "en", "パスワード"},
	}
	for _, tt := range tests {
		_, body := u.raw("GET", tt.path, nil, map[string]string{"Accept-Language": tt.accept})
		if !strings.Contains(string(body), tt.want) {
			t.Errorf("%s (Accept-Language %q): no %q", tt.path, tt.accept, tt.want)
		}
	}
}

func TestConsolePageEmbedsMessagesAsJSON(t *testing.T) {
	e := newEnv(t)
	for _, lang := range []string{"ja", "en"} {
		_, body := e.login("op-a").do("GET", "/console?lang="+lang, nil)
		s := string(body)
		i := strings.Index(s, `<script type="application/json" id="i18n">`)
		if i < 0 {
			t.Fatalf("%s: no i18n block", lang)
		}
		s = s[i+len(`<script type="application/json" id="i18n">`):]
		s = s[:strings.Index(s, "</script>")]
		var m map[string]string
		if err := json.Unmarshal([]byte(s), &m); err != nil || m["saved"] == "" {
			t.Fatalf("%s: i18n block %q: %v", lang, s, err)
		}
	}
}

func TestExpiredSessionEndsEventStream(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	s := u.stream()
	s.nextNamed(t, "state")
	e.clock.Advance(13 * time.Hour)
	e.c.Pop(pop("late", "op-a")) // must not reach an expired session
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			return // stream ended
		}
		if strings.Contains(line, "late") {
			t.Fatalf("expired session received a pop: %s", line)
		}
	}
}
