package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
)

// TestReadBackAnsweredAfterTheNextPop: a read-back whose answer arrives
// after the next call popped is not offered, nor saved, as the new call's
// message (for another client, with another caller's number).
func TestReadBackAnsweredAfterTheNextPop(t *testing.T) {
	hold := make(chan struct{})
	e := newEnv(t, func(d *console.Deps, _ *env) {
		d.Forms = fakeForms{formFor: func(string) console.FormSpec { return branchingForm },
			validate: func(id string, v map[string]string) (map[string]string, map[string]string, string) {
				if v["name"] == "山田" {
					<-hold // the first call's check is slow on the way back
				}
				return validateBranching(id, v)
			}}
	})
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-b", "secret-pw") // serves acme and beta
	e.c.Pop(pop("call-1", "op-b"))
	consoletest.Do(t, ctx, "call-1 filled, checked", append(append([]chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible("#f-name")}, fillGood()...), chromedp.Click("#btn-check"))...)
	p2 := pop("call-2", "op-b")
	p2.ClientID, p2.ClientName, p2.CallerNumber, p2.CallerDisplay = "beta", "ベータ社", "0611112222", "06-1111-2222"
	e.c.Pop(p2)
	consoletest.Do(t, ctx, "call-2 pops", consoletest.UntilJS(`document.getElementById('pop-client').textContent === 'ベータ社'`))
	close(hold)
	consoletest.Do(t, ctx, "the late read-back answered",
		consoletest.UntilJS(`performance.getEntriesByType('resource').some((e) => e.name.includes('/console/validate') && e.responseEnd > 0)`))
	if shown := consoletest.Eval(ctx, `String(!document.getElementById('readback-box').hidden)`); shown != "false" {
		t.Fatal("call-1's read-back is offered on call-2's screen")
	}
	consoletest.Do(t, ctx, "Save pressed anyway", chromedp.Evaluate[chromedp.Void](`document.getElementById('btn-save').click()`))
	time.Sleep(200 * time.Millisecond)
	for _, number := range []string{"0611112222", "0312345678"} {
		ins, _ := e.st.IntakesForCaller(number, 0)
		for _, in := range ins {
			t.Errorf("call-1's message stored as %s's (client %s, caller %s): %v", in.CallID, in.ClientID, in.CallerNumber, in.Values)
		}
	}
}

// TestCurrentCallReachableAfterAnEarlierOne: after finishing an earlier
// call's message, the current call (its message unsaved, the wrap-up held
// for it) is one press away; it used to be listed nowhere until a reload.
func TestCurrentCallReachableAfterAnEarlierOne(t *testing.T) {
	e, ctx := withPop(t, "call-1")
	consoletest.Do(t, ctx, "call-1 shown", chromedp.WaitVisible("#f-name"))
	p2 := pop("call-2", "op-a")
	p2.ClientName = "次のお客様"
	e.c.Pop(p2)
	consoletest.Do(t, ctx, "call-2 pops, open call-1 from the list",
		consoletest.UntilJS(`document.getElementById('pop-client').textContent === '次のお客様'`),
		consoletest.UntilJS(`!!document.querySelector('#recent-list button[data-call="call-1"]')`),
		chromedp.Click(`#recent-list button[data-call="call-1"]`),
		consoletest.UntilJS(`document.getElementById('pop-client').textContent === 'アクメ株式会社'`))
	consoletest.Do(t, ctx, "call-1's message saved", append(fillGood(),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))...)
	consoletest.Do(t, ctx, "back to call-2",
		consoletest.UntilJS(`!!document.querySelector('#recent-list button[data-call="call-2"]')`),
		chromedp.Click(`#recent-list button[data-call="call-2"]`),
		consoletest.UntilJS(`document.getElementById('pop-client').textContent === '次のお客様'`),
		consoletest.UntilJS(`!document.getElementById('btn-current')`))
}

var dtForm = console.FormSpec{Fields: []console.FieldSpec{
	{ID: "name", Label: "お名前", Type: console.FieldText, Required: true},
	{ID: "callback_at", Label: "折返し希望日時", Type: console.FieldDateTime},
}}

// TestCorrectionKeepsItsDateTime: correcting a message with a date and
// time keeps that date and time (stored RFC 3339, which a datetime-local
// input refuses: the correction used to drop it).
func TestCorrectionKeepsItsDateTime(t *testing.T) {
	e := newEnv(t, func(d *console.Deps, _ *env) {
		d.Forms = fakeForms{formFor: func(string) console.FormSpec { return dtForm },
			validate: func(_ string, v map[string]string) (map[string]string, map[string]string, string) {
				out := map[string]string{"name": v["name"]}
				if v["callback_at"] != "" { // pkg/intake stores RFC 3339 in Japan time
					out["callback_at"] = v["callback_at"] + ":00+09:00"
					if len(v["callback_at"]) > 16 {
						out["callback_at"] = v["callback_at"]
					}
				}
				return out, map[string]string{}, v["name"] + " " + out["callback_at"]
			}}
	})
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-dt", "op-a"))
	consoletest.Do(t, ctx, "message with a callback time, saved",
		chromedp.WaitVisible("#f-name"),
		chromedp.SendKeys("#f-name", "山田"),
		chromedp.SetValue("#f-callback_at", "2026-11-11T15:00"),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`),
		chromedp.Click("#history li.intake button"),
		consoletest.UntilJS(`document.getElementById('f-name').value === '山田'`))
	if got := consoletest.Eval(ctx, `document.getElementById('f-callback_at').value`); got == "" {
		t.Errorf("correction form: callback_at is empty (the stored %q does not fit a datetime-local input)", "2026-11-11T15:00:00+09:00")
	}
	consoletest.Do(t, ctx, "correct the name only", chromedp.SendKeys("#f-name", "太郎"),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))
	ins, _ := e.st.IntakesForCaller("0312345678", 0)
	if len(ins) == 1 && ins[0].Values["callback_at"] == "" {
		t.Errorf("v%d relayed as 訂正 with values %v: the callback time is gone", ins[0].Version, ins[0].Values)
	}
}

// TestCorrectionKeepsTheMessageInProgress: a second message being typed
// survives correcting the first one, and giving the correction up.
func TestCorrectionKeepsTheMessageInProgress(t *testing.T) {
	_, ctx := withPop(t, "call-c")
	consoletest.Do(t, ctx, "first message saved", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))...)
	consoletest.Do(t, ctx, "second message typed, then 訂正 on the first, saved",
		chromedp.SendKeys("#f-name", "二件目の方"),
		consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.op-a.call-c') || '').includes('二件目の方')`),
		chromedp.Click("#history li.intake button"),
		consoletest.UntilJS(`document.getElementById('f-name').value === '山田'`),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))
	if got := consoletest.Eval(ctx, `document.getElementById('f-name').value`); got != "二件目の方" {
		t.Errorf("after the correction the form shows name %q; the message in progress is gone from the screen", got)
	}
	consoletest.Do(t, ctx, "one key typed", chromedp.SendKeys("#f-company", "x"),
		consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.op-a.call-c') || '').includes('"company":"x"')`))
	if got := consoletest.Eval(ctx, `localStorage.getItem('toritsugi.draft.op-a.call-c')`); !strings.Contains(got, "二件目の方") {
		t.Errorf("draft now %s: the message in progress is lost", got)
	}
	// 訂正 pressed, then given up: the message in progress comes back.
	consoletest.Do(t, ctx, "訂正, then 訂正をやめる",
		chromedp.Click("#history li.intake button"),
		consoletest.UntilJS(`document.getElementById('f-name').value === '山田'`),
		chromedp.Click("#btn-cancel-correct"),
		consoletest.UntilJS(`document.getElementById('f-name').value === '二件目の方' && document.getElementById('correcting').hidden`))
}

// TestCorrectionAfterSomeoneElses: the page shows version 1 of a message;
// a supervisor corrects the callback number meanwhile. The operator's
// correction from version 1 (an addition to 詳細) is refused: the page
// says so and shows the supervisor's version with the operator's change
// on it, to check and save again (it showed the supervisor's version
// alone, and what the operator typed was lost: a review of people acting
// at once).
func TestCorrectionAfterSomeoneElses(t *testing.T) {
	e, ctx := withPop(t, "call-s")
	consoletest.Do(t, ctx, "message saved", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))...)
	ins, _ := e.st.IntakesForCaller("0312345678", 0)
	if len(ins) != 1 {
		t.Fatalf("%d messages stored", len(ins))
	}
	fixed := ins[0].Values
	fixed["callback"] = "09011112222"
	if resp, body := e.login("sv").do("PUT", "/api/v1/console/intakes/"+ins[0].ID, map[string]any{"values": fixed, "version": 1}); resp.StatusCode != 200 {
		t.Fatalf("the supervisor's correction: %d %s", resp.StatusCode, body)
	}
	consoletest.Do(t, ctx, "the operator corrects version 1",
		chromedp.Click("#history li.intake button"),
		consoletest.UntilJS(`document.getElementById('f-name').value === '山田'`),
		chromedp.SendKeys("#f-detail", "追記"),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('この用件は他の人が訂正しました')`),
		consoletest.UntilJS(`document.getElementById('f-callback').value === '09011112222'`))
	if got := consoletest.Eval(ctx, `document.getElementById('f-detail').value`); !strings.HasSuffix(got, "追記") {
		t.Errorf("after the refusal 詳細 reads %q: the operator's addition is lost", got)
	}
	if in, _ := e.st.Intake(ins[0].ID); in.Version != 2 {
		t.Fatalf("stored v%d, want the supervisor's v2 kept", in.Version)
	}
	consoletest.Do(t, ctx, "saved again, on the supervisor's version",
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))
	if in, _ := e.st.Intake(ins[0].ID); in.Version != 3 || in.Values["callback"] != "09011112222" || !strings.HasSuffix(in.Values["detail"], "追記") {
		t.Fatalf("stored v%d %v: want v3 with both changes", in.Version, in.Values)
	}
}

// TestCorrectionMergeComparesAsStored: the merge of a refused correction
// compares the operator's answers as the server normalised them: a
// date-time the operator left alone (2026-11-11T15:00 in the form, stored
// with its zone) is not taken for a change, and the supervisor's new time
// is shown, not the old one put back (a review found it).
func TestCorrectionMergeComparesAsStored(t *testing.T) {
	e := newEnv(t, func(d *console.Deps, _ *env) {
		d.Forms = fakeForms{formFor: func(string) console.FormSpec { return dtForm },
			validate: func(_ string, v map[string]string) (map[string]string, map[string]string, string) {
				out := map[string]string{"name": v["name"]}
				if at := v["callback_at"]; at != "" {
					if len(at) == len("2026-11-11T15:00") {
						at += ":00+09:00"
					}
					out["callback_at"] = at
				}
				return out, map[string]string{}, v["name"] + " " + out["callback_at"]
			}}
	})
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, e.srv.URL, "op-a", "secret-pw")
	e.c.Pop(pop("call-dt", "op-a"))
	consoletest.Do(t, ctx, "a message with a callback time, saved",
		chromedp.WaitVisible("#f-name"),
		chromedp.SendKeys("#f-name", "山田"),
		chromedp.SetValue("#f-callback_at", "2026-11-11T15:00"),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))
	ins, _ := e.st.IntakesForCaller("0312345678", 0)
	if len(ins) != 1 {
		t.Fatalf("%d messages stored", len(ins))
	}
	fixed := map[string]string{"name": "山田", "callback_at": "2026-11-12T10:00:00+09:00"}
	if resp, body := e.login("sv").do("PUT", "/api/v1/console/intakes/"+ins[0].ID, map[string]any{"values": fixed, "version": 1}); resp.StatusCode != 200 {
		t.Fatalf("the supervisor's correction: %d %s", resp.StatusCode, body)
	}
	consoletest.Do(t, ctx, "the operator corrects the name of version 1",
		chromedp.Click("#history li.intake button"),
		consoletest.UntilJS(`document.getElementById('f-name').value === '山田'`),
		chromedp.SendKeys("#f-name", "太郎"),
		chromedp.Click("#btn-check"), chromedp.WaitVisible("#readback"), chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('この用件は他の人が訂正しました')`))
	status := consoletest.Eval(ctx, `document.getElementById('status').textContent`)
	if got := consoletest.Eval(ctx, `document.getElementById('f-callback_at').value`); got != "2026-11-12T10:00" || strings.Contains(status, "両方") {
		t.Errorf("merged form: callback_at %q, status %q; want the supervisor's 2026-11-12T10:00, nothing changed by both", got, status)
	}
	if got := consoletest.Eval(ctx, `document.getElementById('f-name').value`); !strings.Contains(got, "太郎") || !strings.Contains(got, "山田") {
		t.Errorf("merged form: name %q, want the operator's, with 太郎 typed", got)
	}
}

// TestCorrectionShowsTheNumberAsTyped: a message's number is stored in
// E.164 with its extension (+81355551234;ext=12); a correction opened
// the form with that, not as operators type and say it: it shows
// 0355551234 内線12 (a review of the demo found it).
func TestCorrectionShowsTheNumberAsTyped(t *testing.T) {
	e, ctx := withPop(t, "call-p")
	consoletest.Do(t, ctx, "message saved", fillCheckSave(
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`))...)
	ins, _ := e.st.IntakesForCaller("0312345678", 0)
	if len(ins) != 1 {
		t.Fatalf("%d messages stored", len(ins))
	}
	in := ins[0]
	in.Values["callback"] = "+81355551234;ext=12"
	in.RequestID = "stored-as-e164"
	if _, _, err := e.st.SaveCorrection(in, 1); err != nil {
		t.Fatal(err)
	}
	consoletest.Do(t, ctx, "reload, 訂正",
		chromedp.Reload(),
		chromedp.WaitVisible("#history li.intake button"),
		chromedp.Click("#history li.intake button"),
		consoletest.UntilJS(`document.getElementById('f-callback').value !== ''`))
	if got := consoletest.Eval(ctx, `document.getElementById('f-callback').value`); got != "0355551234 内線12" {
		t.Fatalf("the correction shows the number as %q, want 0355551234 内線12", got)
	}
}
