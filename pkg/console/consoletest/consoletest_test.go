package consoletest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
)

// page has a status line, a hostile-looking selector target and an
// element that appears later, so UntilJS has something to wait for.
const page = `<!doctype html><meta charset="utf-8">
<p id="status">準備中</p>
<ul><li class="x">一</li><li class="x" data-k="it's">二</li></ul>
<script>setTimeout(() => { document.getElementById('status').textContent = 'ready' }, 50)</script>`

func TestHelpersDrivePage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	ctx := consoletest.Browser(t)
	consoletest.Do(t, ctx, "open page and wait",
		chromedp.Navigate(srv.URL),
		consoletest.UntilJS(`document.getElementById('status').textContent === 'ready'`),
	)
	tests := []struct{ sel, want string }{
		{"#status", "ready"},
		{"li.x", "一"},
		{`li[data-k="it's"]`, "二"},
	}
	for _, tt := range tests {
		if got := consoletest.Text(t, ctx, tt.sel); got != tt.want {
			t.Errorf("Text(%s) = %q, want %q", tt.sel, got, tt.want)
		}
	}
	if n := consoletest.Count(t, ctx, "li.x"); n != 2 {
		t.Errorf("Count(li.x) = %d, want 2", n)
	}
	if n := consoletest.Count(t, ctx, "script b"); n != 0 {
		t.Errorf("Count(script b) = %d, want 0", n)
	}
	if got := consoletest.Eval(ctx, `document.title + 'x'`); got != "x" {
		t.Errorf("Eval = %q, want x", got)
	}
	if got := consoletest.Eval(ctx, `no_such_name`); got == "" || got[0] != '<' {
		t.Errorf("Eval of an error = %q, want the error in angle brackets", got)
	}
}
