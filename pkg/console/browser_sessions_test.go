package console_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
)

// TestBrowserStaleTokenAfterAnotherLogin: a login in another tab starts a
// new session; this tab's next press takes the new token and works.
func TestBrowserStaleTokenAfterAnotherLogin(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "loaded", consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`))
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({operator_id: 'op-a', password: 'secret-pw'})}).then((r) => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || status != 200 {
		t.Fatalf("login in another tab: %d %v", status, err)
	}
	consoletest.Do(t, ctx, "press available with the old page",
		chromedp.Click("#btn-available"),
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'available'`))
}

// TestBrowserLogoutInATabThatLoggedInAgain: the console is open and 受付可
// in tab A; the operator logs in again in tab B of the same browser (a
// bookmarked /login) and logs out there at the end of the shift. Tab A's
// stream, of the session the login replaced, does not count as a console
// open elsewhere: the operator is taken out of routing, and tab A goes to
// the login page by itself.
func TestBrowserLogoutInATabThatLoggedInAgain(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.CaptureIntervals(t, ctx)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "tab A: available", chromedp.Click("#btn-available"),
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'available'`))
	// Tab B, in the same browser: a login (the cookie replaced), then its
	// logout with that session's token.
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
	  const l = await fetch('/api/v1/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({operator_id: 'op-a', password: 'secret-pw'})});
	  const tok = (await l.json()).csrf_token;
	  const o = await fetch('/api/v1/logout', {method: 'POST', headers: {'X-CSRF-Token': tok}});
	  return l.status + ' ' + o.status; })()`, chromedp.EvalAwaitPromise))
	if err != nil || res != "200 200" {
		t.Fatalf("tab B's login and logout: %q %v", res, err)
	}
	if acts := e.control.actions(); !slices.Contains(acts, "op-a:offline:logout") {
		t.Errorf("logged out in tab B, tab A's page still counted as a console open: still in routing (%q)", acts)
	}
	consoletest.Do(t, ctx, "tab A goes to the login page at its next read",
		consoletest.FireIntervals(5000), consoletest.UntilJS(`location.pathname === '/login'`))
}

// TestBrowserLogoutFromTheOlderTab: the console (or the wallboard) is
// open in tab A, a message half typed; the operator logs in again in tab
// B of the same browser, then logs out from tab A. Tab A's logout form
// carried the replaced session's token: the server answered a bare 403
// "invalid CSRF token", the drafts were wiped anyway (at the form's
// submit, before any answer), and nobody was logged out. It logs out
// now, with the session's token, and the drafts go once it has.
func TestBrowserLogoutFromTheOlderTab(t *testing.T) {
	for _, tc := range []struct{ page, op, logout string }{
		{"/console", "op-a", "#logout"},
		{"/supervisor", "sv", "form[action='/logout'] button"},
	} {
		t.Run(strings.TrimPrefix(tc.page, "/"), func(t *testing.T) {
			e := newEnv(t)
			ctx := consoletest.Browser(t)
			consoletest.LogIn(t, ctx, e.srv.URL, tc.op, "secret-pw")
			consoletest.Do(t, ctx, "tab A loaded", consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`))
			e.c.Pop(pop("call-x", tc.op))
			consoletest.Do(t, ctx, "a draft", chromedp.WaitVisible("#f-name"), chromedp.SendKeys("#f-name", "山田"),
				consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.`+tc.op+`.call-x') || '').includes('山田')`),
				chromedp.Navigate(e.srv.URL+tc.page), chromedp.WaitVisible(tc.logout))
			status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
				body: JSON.stringify({operator_id: '`+tc.op+`', password: 'secret-pw'})}).then((r) => r.status)`, chromedp.EvalAwaitPromise))
			if err != nil || status != 200 {
				t.Fatalf("login in tab B: %d %v", status, err)
			}
			consoletest.Do(t, ctx, "log out from tab A", chromedp.Click(tc.logout), consoletest.UntilJS(`location.pathname === '/login'`))
			if got := consoletest.Eval(ctx, `String(Object.keys(localStorage).filter((k) => k.startsWith('toritsugi.draft.')).length)`); got != "0" {
				t.Errorf("%s drafts left after the logout", got)
			}
			if acts := e.control.actions(); !slices.Contains(acts, tc.op+":offline:logout") {
				t.Errorf("logged out from the only console, still in routing: %q", acts)
			}
			if st, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/console/state').then((r) => r.status)`, chromedp.EvalAwaitPromise)); err != nil || st != http.StatusUnauthorized {
				t.Errorf("the browser's session after the logout: %d %v, want 401", st, err)
			}
		})
	}
}

// TestBrowserLogoutThatFailsKeepsTheDraft: a logout that gets no answer
// (the network), or an error, leaves the typed message and the session as
// they were and says so; pressing again logs out.
func TestBrowserLogoutThatFailsKeepsTheDraft(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-x", "op-a"))
	consoletest.Do(t, ctx, "a draft", chromedp.WaitVisible("#f-name"), chromedp.SendKeys("#f-name", "山田"),
		consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.op-a.call-x') || '').includes('山田')`))
	for _, how := range []string{`Promise.reject(new TypeError('Failed to fetch'))`, `Promise.resolve(new Response('{"error":"x"}', {status: 502}))`} {
		consoletest.Eval(ctx, `(() => { const f = window.__fetch = window.__fetch || window.fetch;
  window.fetch = function (path, opts) { return String(path).startsWith('/api/v1/logout') ? `+how+` : f.apply(this, arguments); };
  document.getElementById('logout-failed').hidden = true; return ''; })()`)
		consoletest.Do(t, ctx, "log out: "+how, chromedp.Click("#logout"),
			consoletest.UntilJS(`!document.getElementById('logout-failed').hidden`))
		if got := consoletest.Eval(ctx, `location.pathname + ' ' + (localStorage.getItem('toritsugi.draft.op-a.call-x') || '').includes('山田') + ' ' + document.getElementById('f-name').value`); got != "/console true 山田" {
			t.Fatalf("after a logout that failed (%s): %q, want still on the console, the draft kept", how, got)
		}
	}
	if acts := e.control.actions(); slices.Contains(acts, "op-a:offline:logout") {
		t.Fatalf("taken out of routing by a logout that never reached the server: %q", acts)
	}
	consoletest.Eval(ctx, `(() => { window.fetch = window.__fetch; return ''; })()`)
	consoletest.Do(t, ctx, "log out again", chromedp.Click("#logout"), consoletest.UntilJS(`location.pathname === '/login'`),
		consoletest.UntilJS(`localStorage.getItem('toritsugi.draft.op-a.call-x') === null`))
}

// TestBrowserOpenConsoleIdlesOut: the page reads the state every 5 s, the
// delivery status of its call's messages every 5 s and the callback
// requests every 15 s by itself; none of it is use of the session, which
// ends 12 h after the last real use though the page stays open (it goes
// to the login page at its next read).
func TestBrowserOpenConsoleIdlesOut(t *testing.T) {
	e := newEnv(t)
	e.c.Pop(pop("call-idle", "op-a"))
	if resp, body := e.login("op-a").do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-idle", "values": goodValues()}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a message whose delivery the page follows: %d %s", resp.StatusCode, body)
	}
	ctx := consoletest.Browser(t)
	consoletest.CaptureIntervals(t, ctx)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "the console open, its reads counted",
		consoletest.UntilJS(`document.querySelectorAll('#history li.intake').length === 1`),
		chromedp.Evaluate[chromedp.Void](`(() => { window.__reads = []; const f = window.fetch;
  window.fetch = function (path, opts) { const p = f.apply(this, arguments); p.finally(() => window.__reads.push(path)); return p; }; })()`))
	e.clock.Advance(12*time.Hour - 2*time.Minute)
	consoletest.Do(t, ctx, "the page's own reads, nearly 12 h on",
		consoletest.FireIntervals(5000), consoletest.FireIntervals(15000),
		consoletest.UntilJS(`['/api/v1/console/state', '/api/v1/console/intakes/', '/api/v1/console/callbacks'].every((p) => window.__reads.some((r) => r.startsWith(p)))`))
	e.clock.Advance(3 * time.Minute)
	consoletest.Do(t, ctx, "12 h after the login: the next read goes to the login page",
		consoletest.FireIntervals(5000),
		consoletest.UntilJS(`location.pathname === '/login'`))
}

// TestBrowserOpenWallboardIdlesOut: the wallboard reads itself every 2 s
// and the callback requests every 5 s; neither is use of the session, so
// a wallboard left open goes to the login page 12 h after the last use.
func TestBrowserOpenWallboardIdlesOut(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.CaptureIntervals(t, ctx)
	consoletest.LogIn(t, ctx, e.srv.URL, "sv", "secret-pw")
	consoletest.Do(t, ctx, "the wallboard open",
		chromedp.Navigate(e.srv.URL+"/supervisor"),
		consoletest.UntilJS(`location.pathname === '/supervisor'`),
		chromedp.Evaluate[chromedp.Void](`(() => { window.__reads = []; const f = window.fetch;
  window.fetch = function (path, opts) { const p = f.apply(this, arguments); p.finally(() => window.__reads.push(path)); return p; }; })()`))
	e.clock.Advance(12*time.Hour - 2*time.Minute)
	consoletest.Do(t, ctx, "the page's own reads, nearly 12 h on",
		consoletest.FireIntervals(2000), consoletest.FireIntervals(5000),
		consoletest.UntilJS(`['/api/v1/console/wallboard', '/api/v1/console/callbacks'].every((p) => window.__reads.includes(p))`))
	e.clock.Advance(3 * time.Minute)
	consoletest.Do(t, ctx, "12 h after the login: the next read goes to the login page",
		consoletest.FireIntervals(2000),
		consoletest.UntilJS(`location.pathname === '/login'`))
}
