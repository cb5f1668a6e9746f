package consoletest

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where the Debian package installs Chromium; the install
// step of .ci/run puts it there before the tests.
const ChromiumPath = "/usr/bin/chromium"

// Browser starts headless Chromium with a fresh profile in t.TempDir and
// returns a context for chromedp actions; the browser stops when the test
// ends. A missing binary fails the test: browser tests are never skipped.
func Browser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("headless Chromium is required at %s (%v): run the install step of .ci/run "+
			"(apt-get install -y chromium) before the tests", ChromiumPath, err)
	}
	// A start that fails is tried once more, with a new profile: on a
	// busy machine Chromium has been seen to exit before it announced its
	// DevTools address (right after another test's browsers were killed).
	// A second failure fails the test.
	var err error
	for try := 1; try <= 2; try++ {
		var ctx context.Context
		if ctx, err = start(t); err == nil {
			return ctx
		}
		t.Logf("start Chromium (try %d): %v", try, err)
	}
	t.Fatalf("start Chromium: %v", err)
	return nil
}

// start starts one browser, stopped when the test ends.
func start(t testing.TB) (context.Context, error) {
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(ChromiumPath),
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
	// The first action starts the browser; it must not carry a timeout,
	// or the timeout would end the browser with it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelAlloc()
		return nil, err
	}
	return ctx, nil
}

// Tab opens another tab (in a window of its own, so that it is visible)
// of the browser of ctx, sharing its cookies and storage, and returns a
// context for it; it closes when the test ends.
func Tab(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	// The first action opens the tab; as for the browser, it must not
	// carry a timeout, or the timeout would close the tab with it.
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tab
}
