package console_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeForms implements console.Forms with function fields.
type fakeForms struct {
	formFor  func(clientID string) console.FormSpec
	validate func(clientID string, values map[string]string) (map[string]string, map[string]string, string)
	// validateFor, when set, is called instead of validate, with the
	// caller class.
	validateFor func(clientID, callerClass string, values map[string]string) (map[string]string, map[string]string, string)
}

func (f fakeForms) FormFor(id, _ string) console.FormSpec { return f.formFor(id) }
func (f fakeForms) Validate(id, _, class string, v map[string]string) (map[string]string, map[string]string, string) {
	if f.validateFor != nil {
		return f.validateFor(id, class, v)
	}
	return f.validate(id, v)
}

// branchingForm is the test form: "detail" only appears for purpose=other.
var branchingForm = console.FormSpec{Fields: []console.FieldSpec{
	{ID: "company", Label: "会社名", Type: console.FieldText},
	{ID: "name", Label: "お名前", Type: console.FieldText, Required: true},
	{ID: "callback", Label: "折り返し先", Type: console.FieldPhone, Required: true},
	{ID: "purpose", Label: "ご用件", Type: console.FieldChoice, Required: true, Choices: []console.Choice{
		{Value: "callback", Label: "折り返し希望"}, {Value: "sales", Label: "営業"}, {Value: "other", Label: "その他"},
	}, Help: "営業は「担当者不在のため」とお断りします<b>"},
	{ID: "detail", Label: "詳細", Type: console.FieldMultiline, Required: true,
		ShowIf: &console.ShowIf{Field: "purpose", Equals: []string{"other"}}},
	{ID: "urgent", Label: "至急", Type: console.FieldYesNo},
}, Closing: "お電話ありがとうございました<i>"}

var nonDigit = regexp.MustCompile(`[^0-9]`)

// validateBranching is a small stand-in for pkg/intake's validation.
func validateBranching(_ string, v map[string]string) (map[string]string, map[string]string, string) {
	norm, errs := map[string]string{}, map[string]string{}
	for _, f := range branchingForm.Fields {
		if f.ShowIf != nil && v[f.ShowIf.Field] != f.ShowIf.Equals[0] {
			continue
		}
		val := strings.TrimSpace(v[f.ID])
		if f.Type == console.FieldPhone {
			val = nonDigit.ReplaceAllString(val, "")
			if val != "" && (len(val) < 10 || len(val) > 11) {
				errs[f.ID] = "電話番号の桁数が違います"
			}
		}
		if f.Required && val == "" {
			errs[f.ID] = "必須です"
		}
		norm[f.ID] = val
	}
	rb := norm["company"] + " " + norm["name"] + "様、折り返し先 " + norm["callback"] + "、ご用件 " + norm["purpose"]
	if norm["detail"] != "" {
		rb += "（" + norm["detail"] + "）"
	}
	return norm, errs, rb
}

// fakeControl implements console.OperatorControl over a map of states.
type fakeControl struct {
	mu       sync.Mutex
	states   map[string]console.OperatorStatus
	calls    []string                                             // "op:action" in order
	snapshot func(ctx context.Context) (console.Wallboard, error) // overrides the map when set
}

func (f *fakeControl) set(op, state, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+":"+state+":"+reason)
	f.states[op] = console.OperatorStatus{ID: op, Name: op, State: state, PauseReason: reason, Since: time.Unix(0, 0)}
}
func (f *fakeControl) SetAvailable(op string)  { f.set(op, console.StateAvailable, "") }
func (f *fakeControl) Pause(op, reason string) { f.set(op, console.StatePaused, reason) }
func (f *fakeControl) EndWrapUp(op string)     { f.set(op, console.StateAvailable, "end") }
func (f *fakeControl) Logout(op string)        { f.set(op, "offline", "logout") }
func (f *fakeControl) ExtendWrapUp(op string, d time.Duration) {
	f.set(op, console.StateWrapUp, d.String())
}

// HoldWrapUp and ReleaseWrapUp are recorded ("op:hold:call"), the state
// left as it is.
func (f *fakeControl) HoldWrapUp(op, call string)    { f.record(op + ":hold:" + call) }
func (f *fakeControl) ReleaseWrapUp(op, call string) { f.record(op + ":release:" + call) }
func (f *fakeControl) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}
func (f *fakeControl) Snapshot(ctx context.Context) (console.Wallboard, error) {
	f.mu.Lock()
	snap := f.snapshot
	f.mu.Unlock()
	if snap != nil {
		return snap(ctx)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	wb := console.Wallboard{Waiting: []console.Waiting{{ClientID: "acme", ClientName: "アクメ株式会社", Count: 2, OldestWaitMS: 30000}},
		Today: console.Today{Answered: 10, Abandoned: 1, ServiceLevel: 0.9, Offered: 11}}
	for _, s := range f.states {
		wb.Operators = append(wb.Operators, s)
	}
	return wb, nil
}

func (f *fakeControl) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fakeRelay implements console.Relayer with function fields.
type fakeRelay struct {
	submit func(ctx context.Context, in store.Intake) error
	status func(id string) []console.RelayStatus
}

func (f fakeRelay) Submit(ctx context.Context, in store.Intake) error { return f.submit(ctx, in) }
func (f fakeRelay) Status(id string) []console.RelayStatus            { return f.status(id) }
