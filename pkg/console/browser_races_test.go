package console_test

// Browser tests of what an operator meets when answers cross on the
// network: a save, a call opened, a control pressed, each answered after
// something newer happened.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
	"github.com/toritsugi/toritsugi/pkg/intake"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// gate holds the answer to one request path until released: the handler
// runs (and is done) at once, its answer is delivered on release, as a
// slow network delivers it.
type gate struct {
	mu      sync.Mutex
	path    string
	arrived chan struct{}
	release chan struct{}
}

func (g *gate) set(method, path string) (arrived, release chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.path = method + " " + path
	g.arrived, g.release = make(chan struct{}), make(chan struct{})
	return g.arrived, g.release
}

type bufRW struct {
	h    http.Header
	code int
	buf  bytes.Buffer
}

func (b *bufRW) Header() http.Header         { return b.h }
func (b *bufRW) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufRW) WriteHeader(c int)           { b.code = c }

func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		match := g.path == r.Method+" "+r.URL.Path
		arrived, release := g.arrived, g.release
		if match {
			g.path = ""
		}
		g.mu.Unlock()
		if !match {
			h.ServeHTTP(w, r)
			return
		}
		rec := &bufRW{h: http.Header{}, code: 200}
		h.ServeHTTP(rec, r)
		close(arrived)
		<-release
		for k, v := range rec.h {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(rec.buf.Bytes())
	})
}

func waitCh(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: timed out", what)
	}
}

// TestBrowserFormHeldWhileSaving: while a save is on its way the form
// takes no typing (an addition typed then was wiped by the answer, which
// empties the form, and never saved); once saved, the cursor is in the
// empty form for the next message (it was on the hidden Save button: a
// keyboard user was back at the top of the page).
func TestBrowserFormHeldWhileSaving(t *testing.T) {
	e := newEnv(t)
	hold := make(chan struct{})
	var released sync.Once
	release := func() { released.Do(func() { close(hold) }) }
	t.Cleanup(release) // a failure below must not leave the save's handler waiting
	e.mu.Lock()
	e.submitHold = hold
	e.mu.Unlock()
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-1", "op-a"))
	consoletest.Do(t, ctx, "fill, check, save", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent === '保存中…'`))...)
	held := consoletest.Eval(ctx, `(() => { const f = document.getElementById('f-detail'); f.focus(); return String(document.getElementById('intake-form').inert && document.activeElement !== f); })()`)
	if held != "true" {
		t.Fatal("the form could be typed into while its save was on the way")
	}
	release()
	consoletest.Do(t, ctx, "saved; the form free and focused",
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`),
		consoletest.UntilJS(`!document.getElementById('intake-form').inert`),
		consoletest.UntilJS(`document.activeElement && document.activeElement.id === 'f-company'`))
}

// TestBrowserSavedForNobody: a message the client's relay settings send
// nowhere was answered as any queueing error, in English ("relay not
// queued"), and looked saved and done. The operator is told, in Japanese
// and marked, that it will not be sent.
func TestBrowserSavedForNobody(t *testing.T) {
	e := newEnv(t, func(d *console.Deps, e *env) {
		d.Relay = fakeRelay{
			submit: func(context.Context, store.Intake) error {
				return fmt.Errorf("desk: x: %w (client acme: no relay.to and no rule matched)", console.ErrNoRelayDestination)
			},
			status: func(string) []console.RelayStatus { return nil },
		}
	})
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-1", "op-a"))
	consoletest.Do(t, ctx, "save", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))...)
	st := consoletest.Eval(ctx, `document.getElementById('status').textContent + ' | ' + document.getElementById('status').className`)
	if !strings.Contains(st, "どこにも送信されません") || !strings.Contains(st, "alert") || strings.Contains(st, "relay not queued") {
		t.Fatalf("the operator sees %q: want, in Japanese and marked, that nothing will be sent", st)
	}
}

// TestBrowserOpenEarlierCallAsANewCallPops: the operator opens an earlier
// call as a new one pops; the earlier call's answer, arriving after the
// pop, replaced the new call on screen: another client's greeting, manual
// and form while the new caller is on the line. The pop wins.
func TestBrowserOpenEarlierCallAsANewCallPops(t *testing.T) {
	e, g, ctx := gatedConsole(t)
	popNamed(t, e, ctx, "call-1", "一件目の会社")
	popNamed(t, e, ctx, "call-2", "二件目の会社")
	consoletest.Do(t, ctx, "the first among the earlier calls",
		consoletest.UntilJS(`!!document.querySelector('#recent-list button[data-call="call-1"]')`))
	arrived, release := g.set("GET", "/api/v1/console/calls/call-1")
	consoletest.Do(t, ctx, "open the first (slow answer)", chromedp.Click(`#recent-list button[data-call="call-1"]`))
	waitCh(t, arrived, "request for call-1")
	popNamed(t, e, ctx, "call-3", "三件目の会社")
	close(release)
	time.Sleep(700 * time.Millisecond) // the held answer arrives, and would be shown
	shown := consoletest.Eval(ctx, `document.getElementById('pop-client').textContent`)
	back := consoletest.Eval(ctx, `String(!!document.getElementById('btn-current'))`)
	if shown != "三件目の会社" {
		t.Fatalf("on the line: 三件目の会社; on screen: %q (title %q, back-to-current button: %s)",
			shown, consoletest.Eval(ctx, `document.title`), back)
	}
}

// TestBrowserBackToCurrentAsANewCallPops: the same through 現在の着信に戻る:
// the older "current" call replaced the newer one, and no button led back
// to it until a reload.
func TestBrowserBackToCurrentAsANewCallPops(t *testing.T) {
	e, g, ctx := gatedConsole(t)
	popNamed(t, e, ctx, "call-1", "一件目の会社")
	popNamed(t, e, ctx, "call-2", "二件目の会社")
	consoletest.Do(t, ctx, "open the first, then 現在の着信に戻る (slow)",
		consoletest.UntilJS(`!!document.querySelector('#recent-list button[data-call="call-1"]')`),
		chromedp.Click(`#recent-list button[data-call="call-1"]`),
		consoletest.UntilJS(`document.getElementById('pop-client').textContent === '一件目の会社'`),
		chromedp.WaitVisible("#btn-current"))
	arrived, release := g.set("GET", "/api/v1/console/calls/call-2")
	consoletest.Do(t, ctx, "press back", chromedp.Click("#btn-current"))
	waitCh(t, arrived, "request for call-2")
	popNamed(t, e, ctx, "call-3", "三件目の会社")
	close(release)
	time.Sleep(700 * time.Millisecond) // the held answer arrives, and would be shown
	shown := consoletest.Eval(ctx, `document.getElementById('pop-client').textContent`)
	reach := consoletest.Eval(ctx, `String(!!document.querySelector('#recent-list button[data-call="call-3"]'))`)
	if shown != "三件目の会社" {
		t.Fatalf("on the line: 三件目の会社; on screen: %q; a button to call-3: %s", shown, reach)
	}
}

// TestBrowserLateControlAnswerKeepsTheNewerState: the answer to 受付可
// arrives after the stream said the phone rings; it showed 受付可 while the
// phone rang (the stream does not say "ringing" again: it was its last).
func TestBrowserLateControlAnswerKeepsTheNewerState(t *testing.T) {
	e, g, ctx := gatedConsole(t)
	consoletest.Do(t, ctx, "offline", consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`))
	arrived, release := g.set("POST", "/api/v1/console/available")
	consoletest.Do(t, ctx, "press 受付可", chromedp.Click("#btn-available"))
	waitCh(t, arrived, "POST available")
	consoletest.Do(t, ctx, "stream says available", consoletest.UntilJS(`document.getElementById('state').dataset.state === 'available'`))
	e.control.set("op-a", console.StateRinging, "")
	e.c.StateChanged("op-a")
	consoletest.Do(t, ctx, "stream says ringing", consoletest.UntilJS(`document.getElementById('state').dataset.state === 'ringing'`))
	close(release)
	time.Sleep(700 * time.Millisecond)
	if got := consoletest.Eval(ctx, `document.getElementById('state').dataset.state + ' / ' + document.getElementById('no-call').textContent`); !strings.HasPrefix(got, "ringing") {
		t.Fatalf("phone rings; page shows %q", got)
	}
}

// halfOpen passes the event stream through until cut: from then on what
// the server writes to the streams already open goes nowhere, as on a
// connection left half-open by a network change (Wi-Fi roaming, VPN).
type halfOpen struct {
	mu  sync.Mutex
	cut bool
	h   http.Handler
}

type holeRW struct {
	http.ResponseWriter
	o      *halfOpen
	before bool
}

func (w *holeRW) dead() bool {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	return w.before && w.o.cut
}
func (w *holeRW) Write(p []byte) (int, error) {
	if w.dead() {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}
func (w *holeRW) FlushError() error {
	if w.dead() {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (o *halfOpen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/console/events" {
		o.h.ServeHTTP(w, r)
		return
	}
	o.mu.Lock()
	before := !o.cut
	o.mu.Unlock()
	o.h.ServeHTTP(&holeRW{ResponseWriter: w, o: o, before: before}, r)
}

// TestBrowserHalfOpenStreamLosesNoPop: the stream's connection is left
// half-open by a network change: the next call's pop never arrives, and
// the page showed the previous client's form, with no warning, until the
// stream's pings were missed (35 s): the operator greeted the caller with
// the wrong company's name and took the message into the old call's form,
// relayed to the old client. The current call is read every 5 s.
func TestBrowserHalfOpenStreamLosesNoPop(t *testing.T) {
	e, o, ctx := halfOpenConsole(t)
	popNamed(t, e, ctx, "call-1", "一件目の会社")
	o.cutNow()
	p2 := pop("call-2", "op-a")
	p2.ClientName = "二件目の会社"
	p2.ClientID = "acme"
	e.c.Pop(p2)
	// The operator answers, greets and starts typing: within 10 s (two
	// reads of the state 5 s apart: a pop may merely be a moment behind
	// the first), not the stream's 35 s, the page must show the call on
	// the line.
	deadline := time.Now().Add(20 * time.Second)
	for consoletest.Eval(ctx, `document.getElementById('pop-client').textContent`) != "二件目の会社" {
		if time.Now().After(deadline) {
			t.Fatalf("20 s into the second call the page shows %q (connection warning shown: %s)",
				consoletest.Eval(ctx, `document.getElementById('pop-client').textContent`),
				consoletest.Eval(ctx, `String(!document.getElementById('conn').hidden)`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserCorrectionKeptAcrossTheNextPop: a correction being typed was
// never kept: the next call's pop (or a reload, or a session expiry's trip
// through /login) dropped it silently. Pressing 訂正 on the message again
// brings it back.
func TestBrowserCorrectionKeptAcrossTheNextPop(t *testing.T) {
	e, ctx := withPop(t, "call-1")
	typeACorrection(t, ctx)
	popNamed(t, e, ctx, "call-2", "次のお客様")
	consoletest.Do(t, ctx, "back to the first",
		consoletest.UntilJS(`!!document.querySelector('#recent-list button[data-call="call-1"]')`),
		chromedp.Click(`#recent-list button[data-call="call-1"]`),
		consoletest.UntilJS(`document.getElementById('pop-client').textContent === 'アクメ株式会社'`))
	correctionIsBack(t, ctx)
}

// TestBrowserCorrectionKeptAcrossALogin: the same across a session
// expiry and a new login.
func TestBrowserCorrectionKeptAcrossALogin(t *testing.T) {
	e, ctx := withPop(t, "call-1")
	typeACorrection(t, ctx)
	e.clock.Advance(console.IdleTimeout + time.Minute)
	consoletest.Do(t, ctx, "any press: 401, to /login",
		chromedp.Click("#btn-available"),
		consoletest.UntilJS(`location.pathname === '/login'`))
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "back on the call", consoletest.UntilJS(`document.getElementById('pop-client').textContent === 'アクメ株式会社'`))
	correctionIsBack(t, ctx)
}

// typeACorrection saves the shown call's message, starts its correction
// and types into it.
func typeACorrection(t *testing.T, ctx context.Context) {
	t.Helper()
	consoletest.Do(t, ctx, "save, then start a correction", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`),
		chromedp.WaitVisible("#history li.intake button"),
		chromedp.Click("#history li.intake button"),
		consoletest.UntilJS(`document.getElementById('correcting').hidden === false`),
		chromedp.SendKeys("#f-detail", "（訂正：折り返しは携帯へ）"),
	)...)
}

// correctionIsBack presses 訂正 on the shown call's message and expects
// the correction typeACorrection typed, said to be back.
func correctionIsBack(t *testing.T, ctx context.Context) {
	t.Helper()
	consoletest.Do(t, ctx, "訂正 again: the correction is back",
		chromedp.WaitVisible("#history li.intake button"),
		chromedp.Click("#history li.intake button"),
		consoletest.UntilJS(`document.getElementById('f-detail').value.includes('訂正：折り返しは携帯へ')`),
		consoletest.UntilJS(`document.getElementById('status').textContent === '途中だった訂正を戻しました'`))
}

// TestBrowserFocusStaysWhileTheStateIsRead: the current call is read every
// 5 s; a version that rebuilt the call's history and the earlier calls on
// each read took the keyboard's focus from an operator on one of their
// buttons every 5 s. Nothing on screen is rebuilt by the read.
func TestBrowserFocusStaysWhileTheStateIsRead(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-1", "op-a"))
	p2 := pop("call-2", "op-a")
	p2.ClientName = "二件目の会社"
	e.c.Pop(p2)
	consoletest.Do(t, ctx, "an earlier call's button focused",
		consoletest.UntilJS(`document.getElementById('pop-client').textContent === '二件目の会社'`),
		consoletest.UntilJS(`!!document.querySelector('#recent-list button[data-call="call-1"]')`),
		chromedp.Focus(`#recent-list button[data-call="call-1"]`))
	time.Sleep(6 * time.Second) // a read of the state at least
	if got := consoletest.Eval(ctx, `document.activeElement ? (document.activeElement.dataset.call || document.activeElement.tagName) : ''`); got != "call-1" {
		t.Fatalf("after a read of the state the focus is on %q, want the button it was on", got)
	}
}

// gatedConsole is an operator's console in Chromium whose server can hold
// one answer back (gate).
func gatedConsole(t *testing.T) (*env, *gate, context.Context) {
	t.Helper()
	e := newEnv(t)
	g := &gate{}
	srv := httptest.NewServer(g.wrap(e.c.Handler()))
	t.Cleanup(srv.Close)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, srv.URL, "op-a", "secret-pw")
	return e, g, ctx
}

// popNamed pops call id, of a client named name, and waits until the page
// shows it.
func popNamed(t *testing.T, e *env, ctx context.Context, id, name string) {
	t.Helper()
	p := pop(id, "op-a")
	p.ClientName = name
	e.c.Pop(p)
	consoletest.Do(t, ctx, name+" pops", consoletest.UntilJS(`document.getElementById('pop-client').textContent === '`+name+`'`))
}

// TestBrowserNextCallAfterASaveTakesTheCursor: a save puts the cursor
// back into the emptied form; the next call's pop counted that as "the
// operator was typing" and put the cursor nowhere, and what the operator
// typed as the next caller gave their company was lost. Only text
// entered just now (unsaved) keeps a new call from taking the cursor:
// then it is left where it was typed, and the new form gets nothing.
func TestBrowserNextCallAfterASaveTakesTheCursor(t *testing.T) {
	e, ctx := withPop(t, "call-1")
	consoletest.Do(t, ctx, "save the first call's message", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))...)
	popNamed(t, e, ctx, "call-2", "次のお客様")
	consoletest.Do(t, ctx, "the next caller's company typed",
		consoletest.UntilJS(`document.activeElement && document.activeElement.id === 'f-company'`),
		chromedp.KeyEvent("ABC"),
		consoletest.UntilJS(`document.getElementById('f-company').value === 'ABC'`))

	// Typing the second caller's name when a third call pops: the keys
	// do not follow into the third call's form.
	consoletest.Do(t, ctx, "typing", chromedp.Focus("#f-name"), chromedp.KeyEvent("山"))
	popNamed(t, e, ctx, "call-3", "三件目")
	if got := consoletest.Eval(ctx, `document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : ''`); got != "BODY" {
		t.Fatalf("a call popped while the operator typed: the cursor is on %q, want it left", got)
	}
}

// TestBrowserLongPasteSaysWhichFieldAndLimit: 3,000 characters pasted
// into the multi-line 詳細 (9,000 bytes) were refused by a byte limit
// before the form's own, with the English "value too long" and no field
// marked: the field says its limit, in Japanese (pkg/intake's own
// validation of the same form), and keeps the text.
func TestBrowserLongPasteSaysWhichFieldAndLimit(t *testing.T) {
	script, err := intake.ParseScript("branching.yaml", []byte(`
id: branching
name: 分岐
scope: custom
greeting: お電話ありがとうございます。
read_back: "{name}様、ご用件は{purpose}"
fields:
  - {id: company, label: 会社名}
  - {id: name, label: お名前, required: true}
  - {id: callback, label: 折り返し先, type: phone, required: true}
  - id: purpose
    label: ご用件
    type: choice
    required: true
    choices: [{value: callback, label: 折り返し希望}, {value: sales, label: 営業}, {value: other, label: その他}]
  - {id: detail, label: 詳細, type: multiline, required: true, show_if: {field: purpose, equals: [other]}}
  - {id: urgent, label: 至急, type: yesno}
`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(d *console.Deps, _ *env) {
		d.Forms = fakeForms{formFor: func(string) console.FormSpec { return branchingForm },
			validate: func(_ string, v map[string]string) (map[string]string, map[string]string, string) {
				r := script.Validate(intake.Values(v))
				return r.Values, r.Errors, r.ReadBack
			}}
	})
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-long", "op-a"))
	consoletest.Do(t, ctx, "fill, paste a long text, check",
		chromedp.WaitVisible("#f-name"),
		chromedp.SendKeys("#f-name", "山田"),
		chromedp.SendKeys("#f-callback", "03-1234-5678"),
		chromedp.Click("#f-purpose-other"),
		chromedp.WaitVisible("#f-detail"),
		chromedp.Evaluate[chromedp.Void](`(() => { const d = document.getElementById('f-detail'); d.value = 'お世話になっております。'.repeat(250); d.dispatchEvent(new Event('input', {bubbles: true})); })()`),
		chromedp.Click("#btn-check"),
		consoletest.UntilJS(`document.getElementById('status').textContent !== ''`))
	if got := consoletest.Text(t, ctx, "#err-detail"); got != "2000文字以内で入力してください" {
		t.Fatalf("3,000 characters in 詳細: status %q, 詳細 says %q", consoletest.Text(t, ctx, "#status"), got)
	}
	if n := consoletest.Eval(ctx, `String(document.getElementById('f-detail').value.length)`); n != "3000" {
		t.Fatalf("詳細 holds %s characters after the refusal, want the 3000 pasted", n)
	}
}
