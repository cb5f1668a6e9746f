package console_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
)

// TestBrowserRingingSaysRinging: while the softphone rings (no pop yet:
// the first call of the shift) the page says the phone rings, not that
// there is no call and to press 受付可.
func TestBrowserRingingSaysRinging(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "available", consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`),
		chromedp.Click("#btn-available"),
		consoletest.UntilJS(`document.getElementById('no-call').textContent === '着信待ちです'`))
	e.control.set("op-a", console.StateRinging, "")
	e.c.StateChanged("op-a")
	consoletest.Do(t, ctx, "ringing", consoletest.UntilJS(`document.getElementById('state').dataset.state === 'ringing'`))
	if got := consoletest.Text(t, ctx, "#no-call"); got != "着信中です（電話に出てください）" {
		t.Errorf("while ringing the page says %q", got)
	}
	// Answered, its screen on the way (the whisper plays first): the page
	// no longer asks to answer (a review of the demo found 通話中 beside
	// 電話に出てください).
	e.control.set("op-a", console.StateOnCall, "")
	e.c.StateChanged("op-a")
	consoletest.Do(t, ctx, "on the call", consoletest.UntilJS(`document.getElementById('state').dataset.state === 'on_call'`))
	if got := consoletest.Text(t, ctx, "#no-call"); !strings.HasPrefix(got, "通話がつながりました") {
		t.Errorf("answered, before the screen, the page says %q", got)
	}
}

// TestBrowserNewCallRingsOverTheLastScreen: the last call's screen stays
// until the new call's pop, which comes once the call is connected (after
// the whisper); while the phone rings and the call connects, the page says
// whose call it is over the faded last screen, so that the operator does
// not answer in the last client's name. The new call's pop ends it.
func TestBrowserNewCallRingsOverTheLastScreen(t *testing.T) {
	e, ctx := lastCallOnScreen(t)
	set := func(st console.OperatorStatus) {
		st.ID, st.Name, st.Since, st.Reachable = "op-a", "op-a", time.Now(), true
		e.control.mu.Lock()
		e.control.states["op-a"] = st
		e.control.mu.Unlock()
		e.c.StateChanged("op-a")
	}
	set(console.OperatorStatus{State: console.StateRinging, CallID: "call-new", CallClient: "株式会社ベータ"})
	consoletest.Do(t, ctx, "ringing", consoletest.UntilJS(`!document.getElementById('ringing-for').hidden`))
	if got := consoletest.Text(t, ctx, "#ringing-for"); !strings.HasPrefix(got, "着信中：株式会社ベータ 宛てのお電話です") || !strings.Contains(got, "前の通話") {
		t.Errorf("ringing over the last screen, the page says %q", got)
	}
	// Faded, and closed to typing and to screen readers: a message typed
	// now would be taken for the last client's.
	if consoletest.Count(t, ctx, "#pop.stale") != 1 || consoletest.Count(t, ctx, "#pop[inert]") != 1 {
		t.Error("the last call's screen is not faded and inert while the new call rings")
	}
	if got := consoletest.Text(t, ctx, "#announce"); got != "着信中：株式会社ベータ 宛てのお電話です" {
		t.Errorf("screen readers are told %q as the phone rings", got)
	}
	// Answered: the page says so, and screen readers are not told again
	// (it would talk over the caller).
	consoletest.Do(t, ctx, "announced once", consoletest.UntilJS(`(document.getElementById('announce').textContent = 'read') === 'read'`))
	set(console.OperatorStatus{State: console.StateOnCall, CallID: "call-new", CallClient: "株式会社ベータ"})
	consoletest.Do(t, ctx, "answered", consoletest.UntilJS(`document.getElementById('state').dataset.state === 'on_call'`))
	if got := consoletest.Text(t, ctx, "#ringing-for"); !strings.HasPrefix(got, "つながりました：株式会社ベータ") {
		t.Errorf("answered, before the pop, the page says %q", got)
	}
	if got := consoletest.Text(t, ctx, "#announce"); got != "read" {
		t.Errorf("answered, screen readers are told %q again", got)
	}
	p := pop("call-new", "op-a")
	p.ClientID, p.ClientName = "beta", "株式会社ベータ"
	e.c.Pop(p)
	consoletest.Do(t, ctx, "the new call's screen", consoletest.UntilJS(`document.getElementById('pop-client').textContent === '株式会社ベータ'`),
		consoletest.UntilJS(`document.getElementById('ringing-for').hidden && !document.getElementById('pop').classList.contains('stale') && !document.getElementById('pop').inert`))
	// Its screen came: the last call opened again from the list (its
	// message to finish) is not taken for the call on the line's.
	consoletest.Do(t, ctx, "the last call opened again",
		consoletest.UntilJS(`!!document.querySelector('#recent-list button[data-call="call-last"]')`),
		chromedp.Click(`#recent-list button[data-call="call-last"]`),
		consoletest.UntilJS(`document.getElementById('pop-client').textContent === 'アクメ株式会社'`))
	if consoletest.Count(t, ctx, "#ringing-for[hidden]") != 1 {
		t.Errorf("the last call opened again after the new call's screen came: the page says %q", consoletest.Text(t, ctx, "#ringing-for"))
	}
}

// TestBrowserAnsweredAtOnceSaysWhoseCall: a softphone that answers at once
// shows no ringing on the page (the state goes on the call before a
// refresh): the page says whose call is on the line over the last call's
// screen all the same.
func TestBrowserAnsweredAtOnceSaysWhoseCall(t *testing.T) {
	e, ctx := lastCallOnScreen(t)
	e.control.mu.Lock()
	e.control.states["op-a"] = console.OperatorStatus{ID: "op-a", Name: "op-a", State: console.StateOnCall, Since: time.Now(), Reachable: true, CallID: "call-new", CallClient: "株式会社ベータ"}
	e.control.mu.Unlock()
	e.c.StateChanged("op-a")
	consoletest.Do(t, ctx, "on the call", consoletest.UntilJS(`!document.getElementById('ringing-for').hidden`))
	if got := consoletest.Text(t, ctx, "#ringing-for"); !strings.HasPrefix(got, "つながりました：株式会社ベータ") {
		t.Errorf("answered at once, the page says %q", got)
	}
}

// lastCallOnScreen logs op-a in, with a call of アクメ株式会社 on screen.
func lastCallOnScreen(t *testing.T) (*env, context.Context) {
	t.Helper()
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-last", "op-a"))
	consoletest.Do(t, ctx, "the last call's screen", consoletest.UntilJS(`document.getElementById('pop-client').textContent === 'アクメ株式会社'`))
	return e, ctx
}

// TestBrowserCallerWithoutANumberShown: a caller with no number shows as
// what they are (表示圏外), not "表示圏外 ()", and a caller ID of a form
// not known, shown as it came, is not repeated in brackets.
func TestBrowserCallerWithoutANumberShown(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	for i, c := range []struct{ number, display string }{{"", "表示圏外"}, {"5001", "5001（形式不明）"}, {"0312345678", "03-1234-5678"}} {
		p := pop(fmt.Sprintf("call-nonumber-%d", i), "op-a")
		p.CallerNumber, p.CallerDisplay = c.number, c.display
		e.c.Pop(p)
		want := c.display
		if c.number == "0312345678" {
			want = "03-1234-5678 (0312345678)"
		}
		consoletest.Do(t, ctx, "pop of "+c.display, consoletest.UntilJS(`document.getElementById('pop-caller').textContent === `+strconv.Quote(want)))
	}
}

// TestBrowserPauseAskedOnACallIsShown: 離席 pressed on a call applies
// after its wrap-up; the state line says it is coming (it showed
// nothing, a review of the demo found).
func TestBrowserPauseAskedOnACallIsShown(t *testing.T) {
	e := newEnv(t)
	e.control.mu.Lock()
	e.control.states["op-a"] = console.OperatorStatus{ID: "op-a", Name: "op-a", State: console.StateOnCall, Since: time.Now(), Reachable: true, PendingPause: "lunch"}
	e.control.mu.Unlock()
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "the state line",
		consoletest.UntilJS(`document.getElementById('state').textContent.includes('通話後に離席')`))
}
