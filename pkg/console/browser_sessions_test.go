package console_test

import (
	"net/http"
	"slices"
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
