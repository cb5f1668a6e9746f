package consoletest

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// LogIn signs operatorID in to the console at baseURL with password
// through the Japanese login page and waits for the operator's controls.
func LogIn(t testing.TB, ctx context.Context, baseURL, operatorID, password string) {
	t.Helper()
	Do(t, ctx, "log in as "+operatorID,
		chromedp.Navigate(baseURL+"/login?lang=ja"),
		chromedp.SendKeys("#operator_id", operatorID),
		chromedp.SendKeys("#password", password),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#controls"),
	)
}
