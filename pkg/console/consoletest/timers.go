package consoletest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// CaptureIntervals makes every page the browser loads from now on record
// the functions it passes to setInterval (they still run on their
// timers), so that FireIntervals can run a page's periodic work at once
// instead of a test waiting for its period. Call it before navigating.
func CaptureIntervals(t testing.TB, ctx context.Context) {
	t.Helper()
	const script = `(() => {
  if (window.__intervals) return;
  window.__intervals = [];
  const set = window.setInterval;
  window.setInterval = function (fn, ms, ...args) {
    window.__intervals.push({ fn, ms, args });
    if ((window.__held || []).includes(ms)) return 0;
    return set.call(this, fn, ms, ...args);
  };
})();`
	addScript(t, ctx, "capture intervals", script)
}

// HoldIntervals is CaptureIntervals, except that the functions a page
// passes to setInterval with period ms do not run on their timers: only
// FireIntervals runs them (a test that must see what the page does
// without its periodic reads). Call it before navigating.
func HoldIntervals(t testing.TB, ctx context.Context, ms int) {
	t.Helper()
	addScript(t, ctx, "hold intervals", `window.__held = (window.__held || []).concat([`+strconv.Itoa(ms)+`]);`)
	CaptureIntervals(t, ctx)
}

// addScript makes every page the browser loads from now on run script
// first.
func addScript(t testing.TB, ctx context.Context, what, script string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	if _, err := chromedp.Call(sctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// FireIntervals is an action that runs, once, every function the page
// passed to setInterval with period ms (the page must have been loaded
// after CaptureIntervals). It fails when there is none.
func FireIntervals(ms int) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		n, err := chromedp.Evaluate[int](`(() => {
  const due = (window.__intervals || []).filter((x) => x.ms === `+strconv.Itoa(ms)+`);
  for (const x of due) x.fn(...x.args);
  return due.length;
})()`)(ctx, tg)
		if err != nil {
			return chromedp.Void{}, fmt.Errorf("fire %d ms intervals: %w", ms, err)
		}
		if n == 0 {
			return chromedp.Void{}, fmt.Errorf("fire %d ms intervals: the page set none (CaptureIntervals before loading it?)", ms)
		}
		return chromedp.Void{}, nil
	}
}
