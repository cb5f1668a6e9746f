package consoletest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Deadlines for one step, one condition and one read. A condition's
// polling ends before its step's deadline so that the failure names it.
const (
	stepTimeout = 20 * time.Second
	pollTimeout = 15 * time.Second
	readTimeout = 10 * time.Second
	evalTimeout = 2 * time.Second

	pollInterval = 20 * time.Millisecond
)

// statusExpr reads the console's status line, or "" on pages without one.
const statusExpr = `(document.getElementById('status') || {}).textContent || ''`

// Do runs actions under a deadline. On failure it fails the test with
// what it was doing, the error and the console's status line (#status).
func Do(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v (page status %q)", what, err, Eval(ctx, statusExpr))
	}
}

// UntilJS is an action that polls the JavaScript condition cond until it
// is true. An error while evaluating it (a page that is still replacing
// its execution context after a navigation, or cond throwing while the
// page is half-built) is retried until the polling deadline; the failure
// names cond and the last error.
func UntilJS(cond string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(pollTimeout)
		for {
			left := time.Until(deadline)
			_, err := chromedp.Poll[bool](cond, chromedp.WithPollingInterval(pollInterval),
				chromedp.WithPollingTimeout(left))(ctx, tg)
			switch {
			case err == nil:
				return chromedp.Void{}, nil
			case errors.Is(err, chromedp.ErrPollingTimeout), ctx.Err() != nil, left <= pollInterval:
				return chromedp.Void{}, fmt.Errorf("until %s: %w", cond, err)
			}
			t := time.NewTimer(pollInterval)
			select {
			case <-ctx.Done():
				t.Stop()
				return chromedp.Void{}, fmt.Errorf("until %s: %w (after %w)", cond, ctx.Err(), err)
			case <-t.C:
			}
		}
	}
}

// Text returns the textContent of the first element matching the CSS
// selector sel (for example "#readback"); it fails the test when there is
// none.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	return evaluate[string](t, ctx, "text of "+sel, `document.querySelector(`+jsString(sel)+`).textContent`)
}

// Count returns how many elements match the CSS selector sel.
func Count(t testing.TB, ctx context.Context, sel string) int {
	t.Helper()
	return evaluate[int](t, ctx, "count of "+sel, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

// Eval evaluates the string expression expr for a failure message; an
// error becomes the text, in angle brackets.
func Eval(ctx context.Context, expr string) string {
	sctx, cancel := context.WithTimeout(ctx, evalTimeout)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Evaluate[string](expr))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return s
}

// evaluate evaluates expr under the read deadline and fails the test with
// what on error.
func evaluate[T any](t testing.TB, ctx context.Context, what, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// jsString quotes s as a JavaScript string literal (JSON strings are
// valid JavaScript).
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a Go string always marshals
	}
	return string(b)
}
