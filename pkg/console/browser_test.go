package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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

// TestBrowserDraftsOfAnotherOperatorGo: on a shared computer, the next
// operator's console drops the drafts the last one left (their callers'
// names and numbers), and keeps its own (an operator whose session
// expired logs in again to their unsaved message).
func TestBrowserDraftsOfAnotherOperatorGo(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "drafts of two operators, then a reload",
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`),
		// op-a.x's draft begins with op-a's prefix: the draft's op tells them apart.
		consoletest.UntilJS(`(localStorage.setItem('toritsugi.draft.op-b.call-x', JSON.stringify({at: Date.now(), values: {name: '前の人の客'}})),
			localStorage.setItem('toritsugi.draft.op-a.x.call-z', JSON.stringify({at: Date.now(), op: 'op-a.x', values: {name: '隣の人の客'}})),
			localStorage.setItem('toritsugi.draft.op-a.call-y', JSON.stringify({at: Date.now(), op: 'op-a', values: {name: '自分の客'}})), true)`),
		chromedp.Reload(),
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`),
		consoletest.UntilJS(`localStorage.getItem('toritsugi.draft.op-b.call-x') === null`),
		consoletest.UntilJS(`localStorage.getItem('toritsugi.draft.op-a.x.call-z') === null`),
		consoletest.UntilJS(`localStorage.getItem('toritsugi.draft.op-a.call-y') !== null`),
	)
}

// TestBrowserWaitingSaveOfAnotherOperatorKept: operator B opened the
// console in A's browser while a save of A's was still waiting to be sent
// (its answer lost on the network): the drafts went, and so did A's
// caller's message, silently. A's waiting saves are kept now, through B's
// console and B's logout, neither sent nor counted by B's page, and sent
// when A logs in there again; one a day old goes.
func TestBrowserWaitingSaveOfAnotherOperatorKept(t *testing.T) {
	e := newEnv(t)
	e.c.Pop(pop("call-b", "op-b"))
	const rid = "0123456789abcdef0123456789abcdef"
	waiting := func(op, call string, age time.Duration) string {
		v, err := json.Marshal(map[string]any{"at": time.Now().Add(-age).UnixMilli(), "op": op, "method": "POST", "path": "/api/v1/console/intakes",
			"body": map[string]any{"call_id": call, "values": goodValues(), "request_id": rid}, "target": call,
			"draft": "toritsugi.draft." + op + "." + call, "fix": "", "form": "{}"})
		if err != nil {
			t.Fatal(err)
		}
		return strconv.Quote(string(v))
	}
	const (
		bWaits = `toritsugi.draft.op-b.pending.` + rid
		bOld   = `toritsugi.draft.op-b.pending.ffffffffffffffffffffffffffffffff`
		// An operator "op-a.pending"'s: its key begins as op-a's waiting saves do.
		dotted = `toritsugi.draft.op-a.pending.pending.` + rid
	)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "op-b's waiting saves and draft in op-a's browser, then a reload",
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`),
		consoletest.UntilJS(`(localStorage.setItem('`+bWaits+`', `+waiting("op-b", "call-b", time.Hour)+`),
			localStorage.setItem('`+bOld+`', `+waiting("op-b", "call-old", 25*time.Hour)+`),
			localStorage.setItem('`+dotted+`', `+waiting("op-a.pending", "call-x", time.Hour)+`),
			localStorage.setItem('toritsugi.draft.op-b.call-b', JSON.stringify({at: Date.now(), op: 'op-b', values: {name: '前の人の客'}})), true)`),
		chromedp.Reload(),
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`),
		consoletest.UntilJS(`localStorage.getItem('toritsugi.draft.op-b.call-b') === null`),
		consoletest.UntilJS(`localStorage.getItem('`+bOld+`') === null`),
	)
	time.Sleep(time.Second) // the page's first sends of its own waiting saves
	if got := consoletest.Eval(ctx, `String(localStorage.getItem('`+bWaits+`') !== null && localStorage.getItem('`+dotted+`') !== null && document.getElementById('pending').hidden)`); got != "true" {
		t.Fatalf("other operators' waiting saves kept, not counted here: %s", got)
	}
	consoletest.Do(t, ctx, "op-a logs out",
		chromedp.Click("#logout"),
		consoletest.UntilJS(`location.pathname === '/login'`))
	if got := consoletest.Eval(ctx, `String(localStorage.getItem('`+bWaits+`') !== null)`); got != "true" {
		t.Fatal("op-b's waiting save gone at op-a's logout")
	}
	if _, err := e.st.Intake(rid); err == nil {
		t.Fatal("op-b's waiting save sent from op-a's console")
	}
	consoletest.LogIn(t, ctx, e.srv.URL, "op-b", "secret-pw")
	consoletest.Do(t, ctx, "op-b logs in: sent", consoletest.UntilJS(`localStorage.getItem('`+bWaits+`') === null`))
	if in, err := e.st.Intake(rid); err != nil || in.OperatorID != "op-b" || in.CallID != "call-b" {
		t.Fatalf("op-b's message %+v (%v), want stored as op-b's for call-b", in, err)
	}
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

// TestBrowserUnsavedCallStaysReachable: the next call's pop replaces the
// form; the call before, its message half written, is listed unsaved and
// opens again with its draft.
func TestBrowserUnsavedCallStaysReachable(t *testing.T) {
	e, ctx := withPop(t, "call-1")
	consoletest.Do(t, ctx, "first call's form",
		chromedp.WaitVisible("#f-name"),
		chromedp.SendKeys("#f-name", "書きかけ"),
		consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.op-a.call-1') || '').includes('書きかけ')`))
	p2 := pop("call-2", "op-a")
	p2.ClientName = "次のお客様"
	e.c.Pop(p2)
	consoletest.Do(t, ctx, "next call, the first listed unsaved",
		consoletest.UntilJS(`document.getElementById('pop-client').textContent === '次のお客様'`),
		consoletest.UntilJS(`document.getElementById('f-name').value === ''`),
		consoletest.UntilJS(`!(localStorage.getItem('toritsugi.draft.op-a.call-2') || '').includes('書きかけ')`),
		consoletest.UntilJS(`!!document.querySelector('#recent-list button[data-call="call-1"]') && document.getElementById('recent').hidden === false`),
		consoletest.UntilJS(`document.querySelector('#recent-list .unsaved') !== null`),
		chromedp.Click(`#recent-list button[data-call="call-1"]`),
		consoletest.UntilJS(`document.getElementById('f-name').value === '書きかけ'`),
	)
}

// TestBrowserSaveAnsweredAfterTheNextPop: the answer to a save comes after
// the next call popped; it must not clear the new call's form or draft,
// and the saved call's draft is gone.
func TestBrowserSaveAnsweredAfterTheNextPop(t *testing.T) {
	e := newEnv(t)
	hold := make(chan struct{})
	e.mu.Lock()
	e.submitHold = hold
	e.mu.Unlock()
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-1", "op-a"))
	consoletest.Do(t, ctx, "first call's message, saved", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent === '保存中…'`))...)
	p2 := pop("call-2", "op-a")
	p2.ClientName = "次のお客様"
	e.c.Pop(p2)
	consoletest.Do(t, ctx, "next call, typed in while the save is on the way",
		consoletest.UntilJS(`document.getElementById('pop-client').textContent === '次のお客様'`),
		chromedp.SendKeys("#f-name", "次の方"),
		consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.op-a.call-2') || '').includes('次の方')`))
	close(hold)
	consoletest.Do(t, ctx, "the save's answer",
		consoletest.UntilJS(`document.getElementById('status').textContent === '前の着信の用件を保存しました'`),
		consoletest.UntilJS(`document.getElementById('f-name').value === '次の方'`),
		consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.op-a.call-2') || '').includes('次の方')`),
		consoletest.UntilJS(`localStorage.getItem('toritsugi.draft.op-a.call-1') === null`),
		consoletest.UntilJS(`!(localStorage.getItem('toritsugi.draft.op-a.call-2') || '').includes('山田商事')`),
	)
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

// TestBrowserClassifyCall: the operator says a call was a sales call; the
// page says it is recorded, the store has it, and a reload shows it.
func TestBrowserClassifyCall(t *testing.T) {
	e, ctx := withPop(t, "call-sales")
	consoletest.Do(t, ctx, "mark the call a sales call",
		chromedp.WaitVisible("#call-class"),
		consoletest.UntilJS(`document.getElementById('call-class').value === ''`),
		chromedp.SetValue("#call-class", "sales"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('call-class').dispatchEvent(new Event('change'))`))
	if class, err := e.st.CallClass("call-sales"); err != nil || class != "" {
		t.Fatalf("a choice in the list, not yet recorded, stored %q (%v)", class, err)
	}
	consoletest.Do(t, ctx, "record it",
		chromedp.Click("#btn-class"),
		consoletest.UntilJS(`document.getElementById('class-status').textContent === '記録しました'`))
	if class, err := e.st.CallClass("call-sales"); err != nil || class != "sales" {
		t.Fatalf("stored class %q (%v)", class, err)
	}
	consoletest.Do(t, ctx, "the class shown after a reload", chromedp.Reload(),
		consoletest.UntilJS(`document.getElementById('call-class').value === 'sales'`))
	if got := consoletest.Eval(ctx, `document.querySelector('#call-class option:checked').textContent`); got != "営業電話（お断り済み・請求対象外）" {
		t.Errorf("option shown %q", got)
	}
	// The next call: the sales call is listed among the earlier ones by
	// its class, not as a message saved (there is none); the next
	// client has no manual: no empty box is shown.
	next := pop("call-next", "op-a")
	next.Manual = ""
	e.c.Pop(next)
	consoletest.Do(t, ctx, "the next call",
		consoletest.UntilJS(`!!document.querySelector('#recent-list button[data-call="call-sales"]')`))
	if got := consoletest.Eval(ctx, `document.querySelector('#recent-list button[data-call="call-sales"]').parentElement.textContent`); !strings.Contains(got, "営業電話") || strings.Contains(got, "保存済み") {
		t.Errorf("the sales call listed as %q: want its class, not 保存済み", got)
	}
	if got := consoletest.Eval(ctx, `String(document.getElementById('pop-manual').closest('details').hidden)`); got != "true" {
		t.Errorf("a client with no manual: its box hidden %s, want it hidden", got)
	}
}

// TestBrowserNoClassForACallWithAMessage: a call marked 営業電話 whose
// message is then saved: the class is taken back (the list shows an
// ordinary call); marking it again is refused, and the page says why.
func TestBrowserNoClassForACallWithAMessage(t *testing.T) {
	e, ctx := withPop(t, "call-msg")
	record := func(class string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.SetValue("#call-class", class),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('call-class').dispatchEvent(new Event('change'))`),
			chromedp.Click("#btn-class")}
	}
	consoletest.Do(t, ctx, "marked a sales call", append(append([]chromedp.Action[chromedp.Void]{chromedp.WaitVisible("#call-class")}, record("sales")...),
		consoletest.UntilJS(`document.getElementById('class-status').textContent === '記録しました'`))...)
	consoletest.Do(t, ctx, "then its message saved", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`),
		consoletest.UntilJS(`document.getElementById('call-class').value === ''`))...)
	consoletest.Do(t, ctx, "marked again", append(record("wrong-number"),
		consoletest.UntilJS(`document.getElementById('class-status').textContent.startsWith('この着信の伝言は保存済み')`),
		consoletest.UntilJS(`document.getElementById('call-class').value === ''`))...)
	if class, err := e.st.CallClass("call-msg"); err != nil || class != "" {
		t.Fatalf("stored class %q (%v) of a call with a message, want none", class, err)
	}
}

// TestBrowserSavedAlreadyBecomesACorrection: the page's save request was
// stored but its answer lost; the operator changed the form and pressed
// Save: 409. The form then corrects the stored message, so pressing Save
// again stores a second version of it, not a second message.
func TestBrowserSavedAlreadyBecomesACorrection(t *testing.T) {
	e, ctx := withPop(t, "call-409")
	const rid = "00112233445566778899aabbccddeeff"
	if resp, body := e.login("op-a").do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-409", "values": goodValues(), "request_id": rid}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the save whose answer was lost: %d %s", resp.StatusCode, body)
	}
	changed := goodValues()
	changed["detail"] = "変更後"
	draft, _ := json.Marshal(map[string]any{"at": time.Now().UnixMilli(), "values": changed, "rid": rid})
	consoletest.Do(t, ctx, "the page with that request's draft, changed",
		chromedp.WaitVisible("#f-name"),
		consoletest.UntilJS(`(localStorage.setItem('toritsugi.draft.op-a.call-409', `+strconv.Quote(string(draft))+`), true)`),
		chromedp.Reload(),
		consoletest.UntilJS(`!!document.getElementById('f-detail') && document.getElementById('f-detail').value === '変更後'`),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"),
		chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('この用件は変更前の内容で保存済みです')`),
		consoletest.UntilJS(`document.getElementById('correcting').hidden === false`),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"),
		chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`),
	)
	ins, err := e.st.IntakesForCaller("0312345678", 0)
	if err != nil || len(ins) != 1 || ins[0].Version != 2 || ins[0].Values["detail"] != "変更後" {
		t.Fatalf("intakes %+v (%v): want one message, corrected to the change", ins, err)
	}
}

// TestBrowserMessageSavedOnAnotherScreen: the operator's console is open
// on two PCs; the other saves the call's message while this page's form
// is being filled. The page says so at once and lists the message; its
// own save is refused and the form, what was typed kept, becomes that
// message's correction, saved as its second version: one message.
func TestBrowserMessageSavedOnAnotherScreen(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.HoldIntervals(t, ctx, 5000) // told by the stream, not by the state read
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-2pc", "op-a"))
	messageSavedOnAnotherScreen(t, e, ctx)
}

// TestBrowserMessageSavedOnAnotherScreenStreamSilent: as above, the
// page's stream left half-open by a network change: the state read every
// 5 s tells it.
func TestBrowserMessageSavedOnAnotherScreenStreamSilent(t *testing.T) {
	e := newEnv(t)
	o := &halfOpen{h: e.c.Handler()}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	ctx := consoletest.Browser(t)
	consoletest.HoldIntervals(t, ctx, 5000)
	consoletest.LogIn(t, ctx, srv.URL, "op-a", "secret-pw")
	popNamed(t, e, ctx, "call-2pc", "アクメ株式会社")
	o.cutNow()
	messageSavedOnAnotherScreen(t, e, ctx, consoletest.FireIntervals(5000))
}

// messageSavedOnAnotherScreen fills the form of call-2pc on the page, has
// another PC of op-a's save the call's message, then, after read, sees
// the page say so and make its form that message's correction.
func messageSavedOnAnotherScreen(t *testing.T, e *env, ctx context.Context, read ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	consoletest.Do(t, ctx, "this page's form filled", append([]chromedp.Action[chromedp.Void]{chromedp.WaitVisible("#f-name")}, fillGood()...)...)
	first := goodValues()
	first["detail"] = "別の画面の内容"
	const rid = "0123456789abcdef0123456789abcdef"
	if resp, body := e.login("op-a").do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-2pc", "values": first, "request_id": rid}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the other PC's save: %d %s", resp.StatusCode, body)
	}
	consoletest.Do(t, ctx, "told at once", append(read,
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('この着信の伝言が別の画面で保存されました')`),
		consoletest.UntilJS(`document.querySelectorAll('#history li.intake').length === 1`),
		consoletest.UntilJS(`document.getElementById('f-detail').value === '見積もり'`))...)
	consoletest.Do(t, ctx, "its own save becomes a correction",
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('この着信の伝言は別の画面で保存済みです')`),
		consoletest.UntilJS(`document.getElementById('correcting').hidden === false`),
		consoletest.UntilJS(`document.getElementById('f-detail').value === '見積もり'`),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))
	ins, err := e.st.IntakesForCaller("0312345678", 0)
	if err != nil || len(ins) != 1 || ins[0].ID != rid || ins[0].Version != 2 || ins[0].Values["detail"] != "見積もり" {
		t.Fatalf("intakes %+v (%v): want the other PC's message, corrected to this page's text", ins, err)
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

// TestBrowserSupervisorLogoutClearsDrafts: drafts are gone at logout
// (README), also for a supervisor who takes calls and logs out from the
// wallboard page.
func TestBrowserSupervisorLogoutClearsDrafts(t *testing.T) {
	e := newEnv(t)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "sv", "secret-pw")
	e.c.Pop(pop("call-sv", "sv"))
	consoletest.Do(t, ctx, "type a draft, then log out from /supervisor",
		chromedp.WaitVisible("#f-name"),
		chromedp.SendKeys("#f-name", "山田"),
		consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.sv.call-sv') || '').includes('山田')`),
		chromedp.Navigate(e.srv.URL+"/supervisor"),
		chromedp.WaitVisible("form[action='/logout'] button"),
		chromedp.Click("form[action='/logout'] button"),
		chromedp.WaitVisible("#login-form"),
	)
	if got := consoletest.Eval(ctx, `String(localStorage.getItem('toritsugi.draft.sv.call-sv'))`); got != "null" {
		t.Errorf("after logout the draft is still stored: %s", got)
	}
}

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
