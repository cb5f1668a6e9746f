package console_test

// What an operator on a flaky network sees (a review of the console
// under network drops): the state read every 5 s is shown, a save the
// network lost is sent again.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
)

// consoleBehind serves a console through what wrap makes of its handler
// (a network that misbehaves) and logs op-a in: the console's env and the
// browser.
func consoleBehind(t *testing.T, wrap func(http.Handler) http.Handler) (*env, context.Context) {
	t.Helper()
	e := newEnv(t)
	srv := httptest.NewServer(wrap(e.c.Handler()))
	t.Cleanup(srv.Close)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, srv.URL, "op-a", "secret-pw")
	return e, ctx
}

// halfOpenConsole is consoleBehind a halfOpen network.
func halfOpenConsole(t *testing.T) (*env, *halfOpen, context.Context) {
	t.Helper()
	o := &halfOpen{}
	e, ctx := consoleBehind(t, func(h http.Handler) http.Handler { o.h = h; return o })
	return e, o, ctx
}

// cutNow leaves the streams open now half-open.
func (o *halfOpen) cutNow() {
	o.mu.Lock()
	o.cut = true
	o.mu.Unlock()
}

// setState makes op-a's state st, as the queue would, and says so.
func (e *env) setState(st console.OperatorStatus) {
	st.ID, st.Name, st.Since, st.Reachable = "op-a", "op-a", time.Now(), true
	e.control.mu.Lock()
	e.control.states["op-a"] = st
	e.control.mu.Unlock()
	e.c.StateChanged("op-a")
}

// TestBrowserHalfOpenStreamShowsTheRinging: the stream is left half-open
// (a network change) with the last call's screen up; the phone rings for
// another client. The state read every 5 s was used only to find a call
// the stream had missed, not shown: no 着信中 banner, the last client's
// screen neither faded nor closed to typing, and what the operator typed
// for the new caller went into the last call's form. It is shown now.
func TestBrowserHalfOpenStreamShowsTheRinging(t *testing.T) {
	e, o, ctx := halfOpenConsole(t)
	popNamed(t, e, ctx, "call-last", "アクメ株式会社")
	o.cutNow()
	e.setState(console.OperatorStatus{State: console.StateRinging, CallID: "call-new", CallClient: "株式会社ベータ"})
	consoletest.Do(t, ctx, "the ringing shown within two reads", consoletest.UntilJS(
		`!document.getElementById('ringing-for').hidden && document.getElementById('ringing-for').textContent.includes('株式会社ベータ')
		 && document.getElementById('pop').inert`))
}

// TestBrowserHalfOpenStreamFirstCallOfShift: no call for a day (the last
// one's screen gone), the stream half-open: the first call was not looked
// for by the state read (it compared with the last pop, none) and came
// only when the stream's silence was noticed, 35 s and more into the
// call. Shown within two reads now.
func TestBrowserHalfOpenStreamFirstCallOfShift(t *testing.T) {
	e, o, ctx := halfOpenConsole(t)
	consoletest.Do(t, ctx, "page up", consoletest.UntilJS(`document.getElementById('state').textContent !== '…'`))
	time.Sleep(time.Second)
	o.cutNow()
	e.setState(console.OperatorStatus{State: console.StateOnCall, CallID: "call-1", CallClient: "二件目の会社"})
	p := pop("call-1", "op-a")
	p.ClientName = "二件目の会社"
	e.c.Pop(p)
	start := time.Now()
	consoletest.Do(t, ctx, "the first call's screen", consoletest.UntilJS(`document.getElementById('pop-client').textContent === '二件目の会社'`))
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the first call's screen came after %v, want within two 5-s reads", d)
	}
}

// lostSave pops call-1 on a console behind flakySaves in mode and saves
// its message, which mode loses: the env, the network and the browser,
// the page saying a save waits.
func lostSave(t *testing.T, mode string) (*env, *flakySaves, context.Context) {
	t.Helper()
	f := &flakySaves{mode: mode}
	e, ctx := consoleBehind(t, func(h http.Handler) http.Handler { f.h = h; return f })
	popNamed(t, e, ctx, "call-1", "アクメ株式会社")
	consoletest.Do(t, ctx, "save, lost", fillCheckSave(consoletest.UntilJS(`!document.getElementById('pending').hidden`))...)
	return e, f, ctx
}

// relayed is how many messages e's console relayed.
func (e *env) relayed() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.submitted)
}

// TestBrowserLostSaveIsSentAgain: the save of a message is lost on the
// network; the page said to press Save again, once, and the next call's
// screen wiped that: the caller's message was never stored. It is kept
// and sent again once the server answers, once (one message), with a
// line saying so that outlives the next call's screen until it is sent.
func TestBrowserLostSaveIsSentAgain(t *testing.T) {
	e, f, ctx := lostSave(t, "drop")
	p := pop("call-2", "op-a")
	p.ClientName = "次のお客様"
	e.c.Pop(p)
	consoletest.Do(t, ctx, "the next call, the unsent message still said", consoletest.UntilJS(
		`document.getElementById('pop-client').textContent === '次のお客様' && !document.getElementById('pending').hidden`))
	f.set("ok")
	consoletest.Do(t, ctx, "sent once the network is back", consoletest.UntilJS(
		`document.getElementById('pending').hidden && document.getElementById('status').textContent.startsWith('通信が戻り')`))
	time.Sleep(6 * time.Second) // one more read: nothing more is sent
	if stored := e.relayed(); stored != 1 {
		t.Fatalf("%d messages relayed, want the lost one, once", stored)
	}
	if got := consoletest.Eval(ctx, `String(Object.keys(localStorage).filter((k) => k.includes('.pending.')).length)`); got != "0" {
		t.Fatalf("%s lost saves left in the browser after it was sent", got)
	}
}

// flakySaves does to each POST /api/v1/console/intakes what its mode
// says: "ok" passes it; "drop" closes the connection without running
// it; "storeDrop" runs it and drops the answer; "502" answers 502 without
// running it (a proxy while the server restarts).
type flakySaves struct {
	mu   sync.Mutex
	mode string
	h    http.Handler
}

func (f *flakySaves) set(m string) { f.mu.Lock(); f.mode = m; f.mu.Unlock() }

func (f *flakySaves) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	m := f.mode
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/console/intakes" || m == "ok" {
		f.h.ServeHTTP(w, r)
		return
	}
	switch m {
	case "storeDrop":
		f.h.ServeHTTP(httptest.NewRecorder(), r)
		fallthrough
	case "drop":
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = c.Close()
		}
	case "502":
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}
}

// TestBrowserLostSaveSentAgainKeepsWhatWasAdded: a save is stored but its
// answer lost; the operator adds to the message and saves again (lost
// too). Sent again, it is answered 409: stored already, with the first
// values. The addition was wiped as if saved (a review found it): the
// form becomes the message's correction, as the Save button makes it,
// the addition in it.
func TestBrowserLostSaveSentAgainKeepsWhatWasAdded(t *testing.T) {
	e, f, ctx := lostSave(t, "storeDrop")
	f.set("drop")
	consoletest.Do(t, ctx, "add to the message, check, save again (lost)",
		chromedp.SendKeys("#f-detail", "、至急折り返し希望"),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('通信できず')`))
	f.set("ok")
	consoletest.Do(t, ctx, "sent again: the form is its correction, with the addition", consoletest.UntilJS(
		`document.getElementById('pending').hidden && !document.getElementById('correcting').hidden
		 && document.getElementById('f-detail').value.includes('至急折り返し希望')`))
	if n := e.relayed(); n != 1 {
		t.Fatalf("%d messages relayed, want the first one", n)
	}
}

// TestBrowserLostSaveKeptThroughA502: a save stored with its answer lost
// is sent again and meets a 502 (a proxy while the server restarts): it
// was taken for a refusal, dropped with its request id, and the operator
// told to save again, which stored and relayed the message twice. It is
// kept and sent again later, with its id: one message.
func TestBrowserLostSaveKeptThroughA502(t *testing.T) {
	e, f, ctx := lostSave(t, "storeDrop")
	f.set("502")
	time.Sleep(12 * time.Second) // two reads: sent again, twice, 502
	if got := consoletest.Eval(ctx, `String(!document.getElementById('pending').hidden)`); got != "true" {
		t.Fatalf("after 502s the lost save is no longer kept (pending shown: %s); status %q", got, consoletest.Eval(ctx, `document.getElementById('status').textContent`))
	}
	f.set("ok")
	consoletest.Do(t, ctx, "sent once the server answers", consoletest.UntilJS(`document.getElementById('pending').hidden`))
	time.Sleep(6 * time.Second)
	if n := e.relayed(); n != 1 {
		t.Fatalf("%d messages relayed, want 1", n)
	}
}

// TestBrowserLogoutAsksWhileSavesWait: logging out drops what the
// browser keeps of callers, the saves still to send too (a review found
// one dropped without a word): it is asked first, and declining keeps
// them.
func TestBrowserLogoutAsksWhileSavesWait(t *testing.T) {
	_, _, ctx := lostSave(t, "drop")
	consoletest.Eval(ctx, `(() => { window.__asked = ''; window.confirm = (m) => { window.__asked = m; return false; }; return ''; })()`)
	consoletest.Do(t, ctx, "log out, declined", chromedp.Click("#logout"), consoletest.UntilJS(`window.__asked !== ''`))
	time.Sleep(time.Second)
	if asked := consoletest.Eval(ctx, `window.__asked`); !strings.Contains(asked, "送れていない用件が 1 件") {
		t.Fatalf("asked %q", asked)
	}
	if got := consoletest.Eval(ctx, `location.pathname + ' ' + Object.keys(localStorage).filter((k) => k.includes('.pending.')).length`); got != "/console 1" {
		t.Fatalf("after declining: %s, want still on /console with the save kept", got)
	}
}
