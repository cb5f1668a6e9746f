package console_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where the Debian package installs Chromium; .ci/run
// installs it before the tests.
const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium with a fresh profile. A missing binary
// fails the test: the browser test must never be skipped silently.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("headless Chromium is required at %s (%v): run the install step of .ci/run "+
			"(apt-get install -y chromium) before the tests", chromiumPath, err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// step runs actions with a deadline and fails the test with what it was doing.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// stepOr is step that reports the text of sel when it fails.
func stepOr(t *testing.T, ctx context.Context, what, sel string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v (%s shows %q)", what, err, sel, text(t, ctx, sel))
	}
}

// waitJS polls a JavaScript condition until it is true.
func waitJS(cond string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](cond, chromedp.WithPollingInterval(20*time.Millisecond),
			chromedp.WithPollingTimeout(15*time.Second))(ctx, tg)
		return chromedp.Void{}, err
	}
}

// text reads an element's textContent.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`).textContent`))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// jsString quotes s as a JavaScript string literal (test data only).
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func TestBrowserScreenPopIntakeFlow(t *testing.T) {
	e := newEnv(t)
	ctx := browser(t)

	step(t, ctx, "log in",
		chromedp.Navigate(e.srv.URL+"/login?lang=ja"),
		chromedp.SendKeys("#operator_id", "op-a"),
		chromedp.SendKeys("#password", "secret-pw"),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#controls"),
		waitJS(`document.getElementById('state').dataset.state === 'offline'`),
	)

	p := pop("call-browser", "op-a")
	p.CallerDisplay = hostile
	e.c.Pop(p)
	step(t, ctx, "screen pop", chromedp.WaitVisible("#pop-greeting"),
		waitJS(`document.getElementById('pop-greeting').textContent !== ''`))
	if got := text(t, ctx, "#pop-greeting"); got != p.GreetingText {
		t.Fatalf("greeting %q, want %q", got, p.GreetingText)
	}
	if got := text(t, ctx, "#pop-caller"); got != hostile+" (0312345678)" {
		t.Fatalf("caller shown as %q: hostile display must appear as text", got)
	}

	step(t, ctx, "fill the branching form",
		waitJS(`document.querySelector('.field[data-field="detail"]').hidden === true`),
		chromedp.SendKeys("#f-company", "山田商事"),
		chromedp.SendKeys("#f-name", "山田"),
		chromedp.SendKeys("#f-callback", "03-1234-5678"),
		chromedp.Click("#f-purpose-other"),
		chromedp.WaitVisible("#f-detail"),
		chromedp.SendKeys("#f-detail", "見積もり<b>急ぎ</b>"),
		waitJS(`(localStorage.getItem('toritsugi.draft.op-a.call-browser') || '').includes('急ぎ')`),
	)
	step(t, ctx, "draft survives reload",
		chromedp.Reload(),
		waitJS(`!!document.getElementById('f-name') && document.getElementById('f-name').value === '山田'`),
		waitJS(`document.querySelector('.field[data-field="detail"]').hidden === false`),
		waitJS(`document.getElementById('f-detail').value === '見積もり<b>急ぎ</b>'`),
	)

	step(t, ctx, "read-back", chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"))
	wantRB := "山田商事 山田様、折り返し先 0312345678、ご用件 other（見積もり<b>急ぎ</b>）"
	if got := text(t, ctx, "#readback"); got != wantRB {
		t.Fatalf("read-back %q, want %q", got, wantRB)
	}
	step(t, ctx, "click save", chromedp.Click("#btn-save"))
	stepOr(t, ctx, "saved", "#status", waitJS(`document.getElementById('status').textContent.startsWith('保存しました')`))

	ins, err := e.st.IntakesForCaller("0312345678", 0)
	if err != nil || len(ins) != 1 || ins[0].Values["detail"] != "見積もり<b>急ぎ</b>" || ins[0].OperatorID != "op-a" {
		t.Fatalf("stored intakes %+v, %v", ins, err)
	}

	step(t, ctx, "reload after save",
		chromedp.Reload(),
		waitJS(`document.querySelectorAll('#history li.intake').length === 1`),
		waitJS(`localStorage.getItem('toritsugi.draft.op-a.call-browser') === null`),
		waitJS(`document.getElementById('f-name').value === ''`),
	)
	if got := text(t, ctx, "#history li.intake .summary"); got != wantRB {
		t.Fatalf("history shows %q, want %q", got, wantRB)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := chromedp.Run(sctx, chromedp.Evaluate[int](`document.querySelectorAll('#pop script, #pop b, #history b').length`))
	if err != nil || n != 0 {
		t.Fatalf("hostile text became markup: %d elements (%v)", n, err)
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
	ctx := browser(t)
	step(t, ctx, "supervisor logs in and opens the wallboard",
		chromedp.Navigate(e.srv.URL+"/login?lang=ja"),
		chromedp.SendKeys("#operator_id", "sv"),
		chromedp.SendKeys("#password", "secret-pw"),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#controls"),
		chromedp.Navigate(e.srv.URL+"/supervisor?lang=ja"),
		waitJS(`document.querySelectorAll('#ops tr').length === 1`),
	)
	if got := text(t, ctx, "#ops tr td:nth-child(2)"); got != hostile {
		t.Fatalf("name cell %q, want the literal text %q", got, hostile)
	}
	if got := text(t, ctx, "#ops tr td:nth-child(3)"); got != "離席中 (昼食)" {
		t.Fatalf("state cell %q", got)
	}
	if got := text(t, ctx, "#sl"); got != "90.0%" {
		t.Fatalf("service level %q", got)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := chromedp.Run(sctx, chromedp.Evaluate[int](`document.querySelectorAll('#ops script').length`))
	if err != nil || n != 0 {
		t.Fatalf("hostile name became markup: %d (%v)", n, err)
	}
}
