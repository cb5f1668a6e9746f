package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
)

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
	draft, _ := json.Marshal(map[string]any{"at": time.Now().UnixMilli(), "values": changed})
	consoletest.Do(t, ctx, "the page with that request's draft, changed, and its save id (kept by the tab)",
		chromedp.WaitVisible("#f-name"),
		consoletest.UntilJS(`(localStorage.setItem('toritsugi.draft.op-a.call-409', `+strconv.Quote(string(draft))+`),
			sessionStorage.setItem('toritsugi.rid.op-a.call-409', '`+rid+`'), true)`),
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

// TestBrowserWallboardLogoutAsksWhileSavesWait: a supervisor who takes
// calls has a save still waiting to be sent (its answer lost on the
// network) and logs out from the wallboard: that deleted it without a
// word (only the console asked). Both pages ask now; declining keeps it
// and the session, accepting logs out.
func TestBrowserWallboardLogoutAsksWhileSavesWait(t *testing.T) {
	e := newEnv(t)
	const key = "toritsugi.draft.sv.pending.0123456789abcdef0123456789abcdef"
	v, err := json.Marshal(map[string]any{"at": time.Now().UnixMilli(), "op": "sv", "method": "POST", "path": "/api/v1/console/intakes",
		"body": map[string]any{"call_id": "call-sv", "values": goodValues(), "request_id": "0123456789abcdef0123456789abcdef"}, "target": "call-sv",
		"draft": "toritsugi.draft.sv.call-sv", "fix": "", "form": "{}"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "sv", "secret-pw")
	consoletest.Do(t, ctx, "the wallboard, a save of sv's waiting",
		chromedp.Navigate(e.srv.URL+"/supervisor?lang=ja"), chromedp.WaitVisible("form[action='/logout'] button"),
		consoletest.UntilJS(`(localStorage.setItem('`+key+`', `+strconv.Quote(string(v))+`), true)`))
	consoletest.Eval(ctx, `(() => { window.__asked = ''; window.confirm = (m) => { window.__asked = m; return false; }; return ''; })()`)
	consoletest.Do(t, ctx, "log out, declined", chromedp.Click("form[action='/logout'] button"), consoletest.UntilJS(`window.__asked !== ''`))
	if asked := consoletest.Eval(ctx, `window.__asked`); !strings.Contains(asked, "送れていない用件が 1 件") {
		t.Fatalf("asked %q", asked)
	}
	if got := consoletest.Eval(ctx, `location.pathname + ' ' + (localStorage.getItem('`+key+`') !== null)`); got != "/supervisor true" {
		t.Fatalf("after declining: %s, want still on /supervisor with the save kept", got)
	}
	if acts := e.control.actions(); slices.Contains(acts, "sv:offline:logout") {
		t.Fatalf("declined, yet logged out: %q", acts)
	}
	consoletest.Eval(ctx, `(() => { window.confirm = () => true; return ''; })()`)
	consoletest.Do(t, ctx, "log out, accepted", chromedp.Click("form[action='/logout'] button"),
		consoletest.UntilJS(`location.pathname === '/login'`), consoletest.UntilJS(`localStorage.getItem('`+key+`') === null`))
}

// TestBrowserTwoTabsOnOneCall: the console is open in two tabs of one
// browser on the same call. They shared its draft and, with it, its save
// id: tab A's save (its answer lost on the network) looked like tab B's
// own, so B said nothing of it, and B's own save went out under A's id,
// refused as a repeat with other values (the generic 変更前の内容 line)
// instead of being told the call's message was saved on another screen.
// Each tab keeps its own save id now (the draft is still shared).
func TestBrowserTwoTabsOnOneCall(t *testing.T) {
	f := &flakySaves{mode: "ok"}
	e, tabA := consoleBehind(t, func(h http.Handler) http.Handler { f.h = h; return f })
	e.c.Pop(pop("call-2tab", "op-a"))
	consoletest.Do(t, tabA, "tab A shows the call", chromedp.WaitVisible("#f-name"))
	tabB := consoletest.Tab(t, tabA) // a second tab of the same browser
	consoletest.Do(t, tabB, "tab B shows it too",
		chromedp.Navigate(consoletest.Eval(tabA, `location.origin`)+"/console?lang=ja"), chromedp.WaitVisible("#f-name"))
	f.set("storeDrop") // stored, the answer lost
	consoletest.Do(t, tabA, "tab A saves, its answer lost", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('通信できず')`))...)
	consoletest.Do(t, tabB, "tab B is told it was saved on another screen",
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('この着信の伝言が別の画面で保存されました')`),
		consoletest.UntilJS(`document.querySelectorAll('#history li.intake').length === 1`))
	f.set("ok")
	consoletest.Do(t, tabB, "tab B's own message: refused, and made that message's correction", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('この着信の伝言は別の画面で保存済みです')`),
		consoletest.UntilJS(`document.getElementById('correcting').hidden === false`))...)
	ins, err := e.st.IntakesForCaller("0312345678", 0)
	if err != nil || len(ins) != 1 || ins[0].Version != 1 {
		t.Fatalf("intakes %+v (%v): want tab A's message, once", ins, err)
	}
}
