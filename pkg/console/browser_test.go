package console_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
	"github.com/toritsugi/toritsugi/pkg/store"
)

func TestBrowserScreenPopIntakeFlow(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)

	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "offline after login",
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`),
	)

	p := pop("call-browser", "op-a")
	p.CallerDisplay = hostile
	e.c.Pop(p)
	consoletest.Do(t, ctx, "screen pop", chromedp.WaitVisible("#pop-greeting"),
		consoletest.UntilJS(`document.getElementById('pop-greeting').textContent !== ''`))
	if got := consoletest.Text(t, ctx, "#pop-greeting"); got != p.GreetingText {
		t.Fatalf("greeting %q, want %q", got, p.GreetingText)
	}
	if got := consoletest.Text(t, ctx, "#pop-caller"); got != hostile+" (0312345678)" {
		t.Fatalf("caller shown as %q: hostile display must appear as text", got)
	}
	// The script's hint for a question and its closing line are shown,
	// as text.
	consoletest.Do(t, ctx, "the script's hint and closing", chromedp.WaitVisible("#help-purpose"), chromedp.WaitVisible("#closing"))
	if got := consoletest.Text(t, ctx, "#help-purpose"); got != "営業は「担当者不在のため」とお断りします<b>" {
		t.Fatalf("hint for ご用件 %q", got)
	}
	if got := consoletest.Text(t, ctx, "#closing"); got != "お電話ありがとうございました<i>" {
		t.Fatalf("closing line %q", got)
	}

	consoletest.Do(t, ctx, "fill the branching form",
		consoletest.UntilJS(`document.querySelector('.field[data-field="detail"]').hidden === true`),
		chromedp.SendKeys("#f-company", "山田商事"),
		chromedp.SendKeys("#f-name", "山田"),
		chromedp.SendKeys("#f-callback", "03-1234-5678"),
		chromedp.Click("#f-purpose-other"),
		chromedp.WaitVisible("#f-detail"),
		chromedp.SendKeys("#f-detail", "見積もり<b>急ぎ</b>"),
		consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.op-a.call-browser') || '').includes('急ぎ')`),
	)
	consoletest.Do(t, ctx, "draft survives reload",
		chromedp.Reload(),
		consoletest.UntilJS(`!!document.getElementById('f-name') && document.getElementById('f-name').value === '山田'`),
		consoletest.UntilJS(`document.querySelector('.field[data-field="detail"]').hidden === false`),
		consoletest.UntilJS(`document.getElementById('f-detail').value === '見積もり<b>急ぎ</b>'`),
	)

	// An optional question answered by mistake can be left unanswered
	// again (the read-back below has no 至急).
	consoletest.Do(t, ctx, "answer an optional question, then take it back",
		chromedp.Click("#f-urgent-yes"),
		consoletest.UntilJS(`document.querySelector('input[name="f-urgent"]:checked').value === 'yes'`),
		chromedp.Click(`#f-urgent-`),
		consoletest.UntilJS(`document.querySelector('input[name="f-urgent"]:checked').value === ''`),
		consoletest.UntilJS(`!document.getElementById('f-purpose-')`), // a required question has no such choice
	)
	consoletest.Do(t, ctx, "read-back", chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"))
	wantRB := "山田商事 山田様、折り返し先 0312345678、ご用件 other（見積もり<b>急ぎ</b>）"
	if got := consoletest.Text(t, ctx, "#readback"); got != wantRB {
		t.Fatalf("read-back %q, want %q", got, wantRB)
	}
	consoletest.Do(t, ctx, "click save", chromedp.Click("#btn-save"))
	consoletest.Do(t, ctx, "saved", consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))

	ins, err := e.st.IntakesForCaller("0312345678", 0)
	if err != nil || len(ins) != 1 || ins[0].Values["detail"] != "見積もり<b>急ぎ</b>" || ins[0].OperatorID != "op-a" {
		t.Fatalf("stored intakes %+v, %v", ins, err)
	}

	consoletest.Do(t, ctx, "reload after save",
		chromedp.Reload(),
		consoletest.UntilJS(`document.querySelectorAll('#history li.intake').length === 1`),
		consoletest.UntilJS(`localStorage.getItem('toritsugi.draft.op-a.call-browser') === null`),
		consoletest.UntilJS(`document.getElementById('f-name').value === ''`),
	)
	if got := consoletest.Text(t, ctx, "#history li.intake .summary"); got != wantRB {
		t.Fatalf("history shows %q, want %q", got, wantRB)
	}
	if n := consoletest.Count(t, ctx, "#pop script, #pop b, #history b"); n != 0 {
		t.Fatalf("hostile text became markup: %d elements", n)
	}

	// A draft left on a shared computer is gone after logging out.
	consoletest.Do(t, ctx, "draft, then log out",
		chromedp.SendKeys("#f-name", "下書き"),
		consoletest.UntilJS(`Object.keys(localStorage).some(k => k.startsWith('toritsugi.draft.'))`),
		chromedp.Click("#logout"),
		consoletest.UntilJS(`location.pathname === '/login'`),
		consoletest.UntilJS(`!Object.keys(localStorage).some(k => k.startsWith('toritsugi.draft.'))`),
	)
}

func TestBrowserWallboardShowsHostileNamesAsText(t *testing.T) {
	e := newEnv(t)
	e.control.set("op-a", "paused", "lunch")
	e.control.mu.Lock()
	st := e.control.states["op-a"]
	st.Name = hostile
	e.control.states["op-a"] = st
	e.control.mu.Unlock()
	cb := store.Callback{ID: "cb-1", ClientID: hostile, Number: "+81312345678", RequestedAt: time.Date(2026, 11, 10, 0, 30, 0, 0, time.UTC)}
	if err := e.st.PutCallback(cb); err != nil {
		t.Fatal(err)
	}
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "sv", "secret-pw")
	consoletest.Do(t, ctx, "supervisor opens the wallboard",
		chromedp.Navigate(e.srv.URL+"/supervisor?lang=ja"),
		consoletest.UntilJS(`document.querySelectorAll('#ops tr').length === 1`),
	)
	if got := consoletest.Text(t, ctx, "#ops tr td:nth-child(2)"); got != hostile {
		t.Fatalf("name cell %q, want the literal text %q", got, hostile)
	}
	// Not registered (the fake's zero Reachable): the supervisor sees it.
	if got := consoletest.Text(t, ctx, "#ops tr td:nth-child(3)"); got != "離席中 (昼食) — ソフトフォン未登録" {
		t.Fatalf("state cell %q", got)
	}
	e.control.mu.Lock()
	e.control.states["op-b"] = console.OperatorStatus{ID: "op-b", Name: "op-b", State: console.StateWrapUp, Since: time.Now(), Reachable: true,
		WrapUpUntil: time.Now().Add(time.Minute), WrapUpHeld: true}
	e.control.mu.Unlock()
	consoletest.Do(t, ctx, "a wrap-up held for an unsaved message is named",
		consoletest.UntilJS(`[...document.querySelectorAll('#ops tr td:nth-child(3)')].some((td) => td.textContent === '後処理中 — メッセージ未保存')`))
	// The client of the call ringing or on the line, as text.
	e.control.mu.Lock()
	e.control.states["op-c"] = console.OperatorStatus{ID: "op-c", Name: "op-c", State: console.StateOnCall, Since: time.Now(), Reachable: true, CallID: "call-c", CallClient: hostile}
	e.control.mu.Unlock()
	consoletest.Do(t, ctx, "the client of the call on the line is named",
		consoletest.UntilJS(`[...document.querySelectorAll('#ops tr td:nth-child(3)')].some((td) => td.textContent === '通話中: ' + `+strconv.Quote(hostile)+`)`))
	if got := consoletest.Text(t, ctx, "#waiting tr td:nth-child(1)"); got != "アクメ株式会社" {
		t.Fatalf("waiting shown for %q, want the client's name", got)
	}
	if got := consoletest.Text(t, ctx, "#sl"); got != "90.0%" {
		t.Fatalf("service level %q", got)
	}
	// A day in which no call reached the queue yet has no level, not 0 %.
	e.control.mu.Lock()
	e.control.snapshot = func(context.Context) (console.Wallboard, error) { return console.Wallboard{}, nil }
	e.control.mu.Unlock()
	consoletest.Do(t, ctx, "no call offered: no level", consoletest.UntilJS(`document.getElementById('sl').textContent === '–'`))
	// The link to Asterisk down: said, not figures that merely stand still.
	if consoletest.Eval(ctx, `String(document.getElementById('ari-down').hidden)`) != "true" {
		t.Fatal("the link-down alert shows while the link is up")
	}
	e.control.mu.Lock()
	e.control.snapshot = func(context.Context) (console.Wallboard, error) { return console.Wallboard{ARIDown: true}, nil }
	e.control.mu.Unlock()
	consoletest.Do(t, ctx, "the link to Asterisk down is said", consoletest.UntilJS(`!document.getElementById('ari-down').hidden`))
	if n := consoletest.Count(t, ctx, "#ops script"); n != 0 {
		t.Fatalf("hostile name became markup: %d elements", n)
	}

	consoletest.Do(t, ctx, "callback requests listed",
		consoletest.UntilJS(`document.querySelectorAll('#callbacks tr').length === 1`))
	for sel, want := range map[string]string{
		"#callbacks tr td:nth-child(1)": hostile,
		"#callbacks tr td:nth-child(2)": "03-1234-5678",
		"#callbacks tr td:nth-child(3)": "11/10 09:30",
	} {
		if got := consoletest.Text(t, ctx, sel); got != want {
			t.Fatalf("%s = %q, want %q", sel, got, want)
		}
	}
	if n := consoletest.Count(t, ctx, "#callbacks script"); n != 0 {
		t.Fatalf("hostile client id became markup: %d elements", n)
	}
	consoletest.Do(t, ctx, "complete the callback",
		chromedp.Click("#callbacks button.cb-done"),
		consoletest.UntilJS(`document.querySelectorAll('#callbacks tr').length === 0`))
	done, err := e.st.Callbacks(store.CallbackDone)
	if err != nil || len(done) != 1 || done[0].OperatorID != "sv" {
		t.Fatalf("done callbacks %+v, %v", done, err)
	}
}

// TestBrowserPhoneAndPauseAlerts: an available operator whose softphone
// is not registered is told so (no call would ring), as is one whose
// softphone is on a call they placed, and an operator the
// queue paused for unanswered rings is told why and what to do; wrap-up
// counts down to its end, and says when it goes on for an unsaved message.
func TestBrowserPhoneAndPauseAlerts(t *testing.T) {
	e := newEnv(t)
	setState := func(s console.OperatorStatus) {
		e.control.mu.Lock()
		e.control.states["op-a"] = s
		e.control.mu.Unlock()
	}
	setState(console.OperatorStatus{ID: "op-a", State: console.StateAvailable, Since: time.Now(), Reachable: false})
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "softphone alert",
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'available'`),
		consoletest.UntilJS(`document.getElementById('phone-down').hidden === false && document.getElementById('auto-paused').hidden === true`),
		consoletest.UntilJS(`document.getElementById('no-call').textContent === '着信待ちです'`))

	// Calling a customer back from the softphone: not rung meanwhile.
	setState(console.OperatorStatus{ID: "op-a", State: console.StateAvailable, Since: time.Now(), Reachable: true, OtherCall: true})
	consoletest.Do(t, ctx, "other call notice", chromedp.Reload(),
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'available'`),
		consoletest.UntilJS(`document.getElementById('other-call').hidden === false && document.getElementById('phone-down').hidden === true`))

	setState(console.OperatorStatus{ID: "op-a", State: console.StatePaused, PauseReason: "no-answer", Since: time.Now(), Reachable: true})
	consoletest.Do(t, ctx, "auto-pause alert", chromedp.Reload(),
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'paused'`),
		consoletest.UntilJS(`document.getElementById('phone-down').hidden === true && document.getElementById('auto-paused').hidden === false`),
		consoletest.UntilJS(`document.getElementById('other-call').hidden === true`),
		consoletest.UntilJS(`document.getElementById('no-call').textContent.startsWith('着信はありません')`))
	if got := consoletest.Text(t, ctx, "#state"); got != "離席中 (呼出に応答なし)" {
		t.Errorf("state shown as %q", got)
	}

	// The server's clock (the env's, 20 days behind this PC's) is the one
	// wrap-up ends by: counted down by it, not by the PC's.
	setState(console.OperatorStatus{ID: "op-a", State: console.StateWrapUp, Since: e.clock.Now(), Reachable: true, WrapUpUntil: e.clock.Now().Add(90 * time.Second)})
	consoletest.Do(t, ctx, "wrap-up countdown", chromedp.Reload(),
		consoletest.UntilJS(`/^残り 1:(2|3)\d$/.test(document.getElementById('state-since').textContent)`),
		consoletest.UntilJS(`document.getElementById('wrap-held').hidden === true`))

	setState(console.OperatorStatus{ID: "op-a", State: console.StateWrapUp, Since: time.Now(), Reachable: true,
		WrapUpUntil: e.clock.Now().Add(100 * time.Second), WrapUpHeld: true})
	consoletest.Do(t, ctx, "wrap-up held for the unsaved message", chromedp.Reload(),
		consoletest.UntilJS(`document.getElementById('wrap-held').hidden === false`),
		consoletest.UntilJS(`/^残り 1:(3|4)\d$/.test(document.getElementById('state-since').textContent)`))
}

// TestBrowserKeyboardFlow: a new pop puts the cursor in the form and
// says so in the tab's title; after the read-back the save button has
// the focus, and Ctrl+Enter saves.
func TestBrowserKeyboardFlow(t *testing.T) {
	_, ctx := withPop(t, "call-kb")
	consoletest.Do(t, ctx, "focus on the form", append(append([]chromedp.Action[chromedp.Void]{
		consoletest.UntilJS(`document.activeElement && document.activeElement.id === 'f-company'`),
		consoletest.UntilJS(`document.title.startsWith('● アクメ株式会社')`)}, fillGood()...),
		chromedp.Click("#btn-check"),
		consoletest.UntilJS(`document.activeElement && document.activeElement.id === 'btn-save'`),
		// From a field too (where a plain Enter would check again).
		chromedp.Focus("#f-name"),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))...)
}

// TestBrowserFormIsNamedForScreenReaders: a choice is a radio group named
// by its label, each field points at its error, and a new call is
// announced.
func TestBrowserFormIsNamedForScreenReaders(t *testing.T) {
	_, ctx := withPop(t, "call-a11y")
	consoletest.Do(t, ctx, "named form",
		chromedp.WaitVisible("#f-name"),
		consoletest.UntilJS(`(() => { const g = document.querySelector('.field[data-field="purpose"] [role="radiogroup"]');
			return !!g && document.getElementById(g.getAttribute('aria-labelledby')).textContent.startsWith('ご用件'); })()`),
		consoletest.UntilJS(`document.getElementById('f-name').getAttribute('aria-describedby') === 'err-name'`),
		consoletest.UntilJS(`document.getElementById('announce').textContent === '新しい着信: アクメ株式会社 03-1234-5678'`),
		// The save button, focused after 内容確認, is read with the
		// read-back the operator reads to the caller.
		consoletest.UntilJS(`document.getElementById('btn-save').getAttribute('aria-describedby') === 'readback'`),
	)
}

// TestBrowserOperatorSeesCallbacks: the operator's console lists the
// callback requests of the clients they serve, by client name, and one
// press marks one done.
func TestBrowserOperatorSeesCallbacks(t *testing.T) {
	e := newEnv(t, func(d *console.Deps, _ *env) {
		d.ClientName = func(id string) string { return map[string]string{"acme": "アクメ株式会社"}[id] }
	})
	for _, cb := range []store.Callback{
		{ID: "cb-acme", ClientID: "acme", Number: "+81312345678", RequestedAt: time.Date(2026, 11, 10, 0, 30, 0, 0, time.UTC)},
		{ID: "cb-beta", ClientID: "beta", Number: "+81322223333", RequestedAt: time.Date(2026, 11, 10, 0, 31, 0, 0, time.UTC)}, // op-a does not serve beta
	} {
		if err := e.st.PutCallback(cb); err != nil {
			t.Fatal(err)
		}
	}
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "the callback listed",
		consoletest.UntilJS(`document.querySelectorAll('#callbacks tr').length === 1 && document.getElementById('cb-box').hidden === false`))
	if got := consoletest.Text(t, ctx, "#callbacks tr td:nth-child(1)"); got != "アクメ株式会社" {
		t.Errorf("client shown as %q", got)
	}
	// Taking it tells the others who calls back.
	consoletest.Do(t, ctx, "take", chromedp.Click("#callbacks .cb-claim"),
		consoletest.UntilJS(`document.querySelector('#callbacks tr td:nth-child(4)').textContent === 'あなたが対応中'`))
	consoletest.Do(t, ctx, "done", chromedp.Click("#callbacks .cb-done"),
		consoletest.UntilJS(`document.querySelectorAll('#callbacks tr').length === 0 && document.getElementById('cb-box').hidden === true`))
	done, err := e.st.Callbacks(store.CallbackDone)
	if err != nil || len(done) != 1 || done[0].ID != "cb-acme" {
		t.Fatalf("done callbacks %+v (%v)", done, err)
	}
}

// TestBrowserCallbackRefreshKeepsFocus: the callback list refreshes every
// 15 s. A keyboard user on a Done button keeps the focus when the list
// refreshes (their row is not rebuilt, though another row went), and when
// their own row goes the focus moves to the row that takes its place.
func TestBrowserCallbackRefreshKeepsFocus(t *testing.T) {
	e := newEnv(t)
	for i, id := range []string{"cb-a", "cb-b", "cb-c"} {
		cb := store.Callback{ID: id, ClientID: "acme", Number: "+8131234567" + strconv.Itoa(i), RequestedAt: time.Date(2026, 11, 10, 0, 30+i, 0, 0, time.UTC)}
		if err := e.st.PutCallback(cb); err != nil {
			t.Fatal(err)
		}
	}
	ctx := consoletest.Browser(t)
	consoletest.CaptureIntervals(t, ctx)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "three callbacks listed, the second's Done focused",
		consoletest.UntilJS(`document.querySelectorAll('#callbacks tr').length === 3`),
		chromedp.Evaluate[chromedp.Void](`(() => { const rows = document.getElementById('callbacks').rows;
  rows[1].seen = true; rows[1].querySelector('button.cb-done').focus(); })()`))
	if resp, body := e.login("sv").do("POST", "/api/v1/console/callbacks/cb-a/done", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("another operator's done: %d %s", resp.StatusCode, body)
	}
	const focusedRow = `(document.activeElement.closest('tr') || {}).dataset`
	consoletest.Do(t, ctx, "refresh: the first gone, the focus kept",
		consoletest.FireIntervals(15000),
		consoletest.UntilJS(`document.querySelectorAll('#callbacks tr').length === 2`))
	if got := consoletest.Eval(ctx, focusedRow+`.id`); got != "cb-b" {
		t.Fatalf("focus on %q after a refresh, want cb-b's Done", got)
	}
	if got := consoletest.Eval(ctx, `String(document.getElementById('callbacks').rows[0].seen === true)`); got != "true" {
		t.Fatal("the unchanged row was rebuilt")
	}
	consoletest.Do(t, ctx, "Enter on Done: the row goes, the focus moves to the next",
		chromedp.KeyEvent("\r"),
		consoletest.UntilJS(`document.querySelectorAll('#callbacks tr').length === 1`))
	if got := consoletest.Eval(ctx, focusedRow+`.id`); got != "cb-c" {
		t.Fatalf("focus on %q after done, want cb-c's Done", got)
	}
	consoletest.Do(t, ctx, "the last one done: the box goes, the focus to the page's next part",
		chromedp.KeyEvent("\r"),
		consoletest.UntilJS(`document.querySelectorAll('#callbacks tr').length === 0 && document.getElementById('cb-box').hidden`),
		consoletest.UntilJS(`document.activeElement === document.getElementById('no-call')`))
	done, err := e.st.Callbacks(store.CallbackDone)
	if err != nil || len(done) != 3 {
		t.Fatalf("done callbacks %+v (%v)", done, err)
	}
}

// withPop logs op-a in in a browser and pops call id to them.
func withPop(t *testing.T, id string) (*env, context.Context) {
	t.Helper()
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop(id, "op-a"))
	return e, ctx
}

// fillGood fills the branching form validly along its "other" branch.
// fillCheckSave fills the form with fillGood, checks it, saves it, then
// does then (waits for the answer it expects).
func fillCheckSave(then ...chromedp.Action[chromedp.Void]) []chromedp.Action[chromedp.Void] {
	return append(append(append([]chromedp.Action[chromedp.Void]{chromedp.WaitVisible("#f-name")}, fillGood()...),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save")), then...)
}

func fillGood() []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys("#f-company", "山田商事"),
		chromedp.SendKeys("#f-name", "山田"),
		chromedp.SendKeys("#f-callback", "03-1234-5678"),
		chromedp.Click("#f-purpose-other"),
		chromedp.WaitVisible("#f-detail"),
		chromedp.SendKeys("#f-detail", "見積もり"),
	}
}
