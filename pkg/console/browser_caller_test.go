package console_test

import (
	"maps"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
)

// TestBrowserFieldShownByCallerClass: a field with show_if caller is shown
// for a pop whose caller class it lists, and not for another; the check
// sends only the fields shown, and the server checks them with the pop's
// class.
func TestBrowserFieldShownByCallerClass(t *testing.T) {
	form := console.FormSpec{Fields: []console.FieldSpec{
		{ID: "company", Label: "会社名", Type: console.FieldText, ShowIf: &console.ShowIf{Caller: []string{"withheld", "new"}}},
		{ID: "callback", Label: "折返し番号", Type: console.FieldPhone, Required: true, ShowIf: &console.ShowIf{Caller: []string{"withheld"}}},
		{ID: "purpose", Label: "ご用件", Type: console.FieldText, Required: true},
	}}
	type check struct {
		class  string
		values map[string]string
	}
	checks := make(chan check, 8)
	e := newEnv(t, func(d *console.Deps, _ *env) {
		d.Forms = fakeForms{formFor: func(string) console.FormSpec { return form },
			validateFor: func(_, class string, v map[string]string) (map[string]string, map[string]string, string) {
				checks <- check{class, maps.Clone(v)}
				return v, map[string]string{}, "ご用件は" + v["purpose"]
			}}
	})
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	// shown says, once the pop of the caller displayed as caller is on
	// the page, which of company and callback are shown.
	shown := func(caller string, company, callback bool) chromedp.Action[chromedp.Void] {
		is := func(id string, on bool) string {
			return `(document.querySelector('.field[data-field="` + id + `"]') || {}).hidden === ` + map[bool]string{true: "false", false: "true"}[on]
		}
		return consoletest.UntilJS(`document.getElementById('pop-caller').textContent.startsWith('` + caller + `') && ` + is("company", company) + ` && ` + is("callback", callback))
	}
	checked := func(want string) map[string]string {
		t.Helper()
		select {
		case c := <-checks:
			if c.class != want {
				t.Fatalf("the server checked the form for class %q, want the pop's %q", c.class, want)
			}
			return c.values
		default:
			t.Fatal("the read-back came without a check")
			return nil
		}
	}

	known := pop("call-known", "op-a")
	known.CallerNumber, known.CallerDisplay, known.KnownName, known.CallerClass = "09011112222", "090-1111-2222", "取引先A", "known"
	e.c.Pop(known)
	consoletest.Do(t, ctx, "a known contact is not asked for their company and number",
		shown("090-1111-2222", false, false),
		chromedp.SendKeys("#f-purpose", "見積もり"),
		chromedp.Click("#btn-check"),
		chromedp.WaitVisible("#readback"))
	if got := checked("known"); !maps.Equal(got, map[string]string{"purpose": "見積もり"}) {
		t.Fatalf("the page sent %v for the known contact, want the purpose alone", got)
	}

	withheld := pop("call-withheld", "op-a")
	withheld.CallerNumber, withheld.CallerDisplay, withheld.CallerClass = "anonymous", "非通知", "withheld"
	e.c.Pop(withheld)
	consoletest.Do(t, ctx, "a withheld caller is asked for a number",
		shown("非通知", true, true),
		chromedp.SendKeys("#f-callback", "090-1234-5678"),
		chromedp.SendKeys("#f-purpose", "見積もり"),
		chromedp.Click("#btn-check"),
		chromedp.WaitVisible("#readback"))
	if got := checked("withheld"); got["callback"] != "090-1234-5678" {
		t.Fatalf("the page sent %v for the withheld caller, want the number typed", got)
	}
	if n := consoletest.Count(t, ctx, `#l-callback .req`); n != 1 {
		t.Errorf("the withheld caller's number is not marked required (%d marks)", n)
	}

	fresh := pop("call-new", "op-a")
	fresh.CallerNumber, fresh.CallerDisplay, fresh.CallerClass = "0398765432", "03-9876-5432", "new"
	e.c.Pop(fresh)
	consoletest.Do(t, ctx, "a new caller is asked for their company, not for a number", shown("03-9876-5432", true, false))
}
