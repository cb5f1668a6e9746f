package desk_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/desk"
	"github.com/toritsugi/toritsugi/pkg/password"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// callersScript asks a known contact only their purpose, and a withheld
// caller for a number to call back.
const callersScript = `id: callers
name: 発信者で分岐
greeting: はい、{client}でございます。
fields:
  - {id: company, label: 会社名, show_if: {caller: [withheld, repeat, new]}}
  - {id: name, label: お名前, required: true, show_if: {caller: [withheld, repeat, new]}}
  - {id: callback, label: 折返し番号, type: phone, required: true, show_if: {caller: withheld}}
  - {id: purpose, label: ご用件, required: true}
`

// consoleUser is an operator logged in to a console over its JSON API.
type consoleUser struct {
	t    *testing.T
	url  string
	hc   *http.Client
	csrf string
}

// do sends a JSON request and decodes the answer into out (when not nil).
func (u *consoleUser) do(method, path string, body, out any) int {
	u.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		u.t.Fatal(err)
	}
	req, err := http.NewRequest(method, u.url+path, bytes.NewReader(b))
	if err != nil {
		u.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", u.csrf)
	resp, err := u.hc.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			u.t.Fatalf("%s %s: %d, %v", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode
}

// openConsole starts d's console on its store, as serve does, and logs
// op1001 in; stop stops it (the pops it holds kept in the store).
func openConsole(t *testing.T, d *desk.Desk) (u *consoleUser, stop func()) {
	t.Helper()
	hash, err := password.HashWith("pw", password.Params{MemoryKiB: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := console.New(console.Deps{
		Operators: func() []console.Operator {
			return []console.Operator{{ID: "op1001", Name: "佐藤", PasswordHash: hash, Clients: []string{"*"}}}
		},
		Forms: d, Control: d, Relay: d, Store: d.Store, Logger: d.Logger,
	})
	d.Console = c
	srv := httptest.NewServer(c.Handler())
	var once sync.Once
	stop = func() { once.Do(func() { srv.Close(); c.Close() }) }
	t.Cleanup(stop)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u = &consoleUser{t: t, url: srv.URL, hc: &http.Client{Jar: jar}}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	if code := u.do("POST", "/api/v1/login", map[string]string{"operator_id": "op1001", "password": "pw"}, &login); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	u.csrf = login.CSRF
	return u, stop
}

// saved is the answer to a save: the intake, or the refused fields.
type saved struct {
	Intake store.Intake      `json:"intake"`
	Fields map[string]string `json:"fields"`
}

// TestMessageCheckedForTheCallersClass: the fields a script shows by
// caller are those of the class the desk gave the call as it was put
// through, kept with its screen pop: the console's save checks the
// message with that class (what the page sends does not change it) and
// keeps it with the message, whose corrections and relayed text use it;
// after a restart (a new desk and console on the same store), the message
// of a call that popped before it is checked with the call's class still.
func TestMessageCheckedForTheCallersClass(t *testing.T) {
	script := filepath.Join(t.TempDir(), "callers.yaml")
	if err := os.WriteFile(script, []byte(callersScript), 0o600); err != nil {
		t.Fatal(err)
	}
	d, ob := newDeskWith(t, strings.Replace(cfgYAML, "    script: standard\n", "    script: "+script+"\n", 1))
	acme, _ := d.Config().Client("acme")
	u, stop := openConsole(t, d)
	connect := func(d *desk.Desk, id, number string, known bool) {
		d.Connected(call.Connected{CallID: id, OperatorID: "op1001", ClientID: "acme", CallerNumber: number, Known: known, Client: acme})
	}
	classOf := func(u *consoleUser, id string) string {
		var cv struct {
			Pop console.ScreenPop `json:"pop"`
		}
		if code := u.do("GET", "/api/v1/console/calls/"+id, nil, &cv); code != http.StatusOK {
			t.Fatalf("call %s: %d", id, code)
		}
		return cv.Pop.CallerClass
	}

	// A known contact is asked their purpose only: a number typed anyway
	// is dropped, as a hidden field's answer.
	connect(d, "k1", "09011112222", true)
	var known saved
	if code := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "k1", "values": map[string]string{"purpose": "見積もり", "callback": "090-0000-0000"}}, &known); code != http.StatusCreated {
		t.Fatalf("known contact's message: %d %v", code, known.Fields)
	}
	if known.Intake.CallerClass != "known" || known.Intake.Values["callback"] != "" {
		t.Fatalf("known contact's message %+v, want class known and no callback", known.Intake)
	}

	// A withheld caller must give a number; the page cannot say the
	// caller is another class.
	connect(d, "w1", "anonymous", false)
	var refused saved
	if code := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "w1", "caller_class": "known", "values": map[string]string{"name": "山田", "purpose": "見積もり"}}, &refused); code != http.StatusUnprocessableEntity || refused.Fields["callback"] == "" {
		t.Fatalf("withheld caller's message without a number: %d %v, want 422 asking for callback", code, refused.Fields)
	}
	var withheld saved
	if code := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "w1", "values": map[string]string{"name": "山田", "callback": "090-1234-5678", "purpose": "見積もり"}}, &withheld); code != http.StatusCreated {
		t.Fatalf("withheld caller's message: %d %v", code, withheld.Fields)
	}
	if withheld.Intake.CallerClass != "withheld" || withheld.Intake.Values["callback"] != "+819012345678" {
		t.Fatalf("withheld caller's message %+v", withheld.Intake)
	}
	entries, err := ob.List(relay.Filter{MessageID: withheld.Intake.ID + "-v1"})
	if err != nil || len(entries) == 0 || !strings.Contains(entries[0].Message.Text, "090-1234-5678") {
		t.Fatalf("relayed %+v (%v), want the callback number in the text", entries, err)
	}

	// A new number, then the same number again: a repeat caller. The
	// first call stays new, its message saved since.
	connect(d, "n1", "0312345678", false)
	var first saved
	if code := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "n1", "values": map[string]string{"name": "田中", "purpose": "納期"}}, &first); code != http.StatusCreated {
		t.Fatalf("new caller's message: %d %v", code, first.Fields)
	}
	connect(d, "n2", "03-1234-5678", false)
	if n1, n2 := classOf(u, "n1"), classOf(u, "n2"); n1 != "new" || n2 != "repeat" {
		t.Fatalf("classes %q then %q, want new then repeat", n1, n2)
	}

	// Corrections take the message's class, whatever call is on screen.
	if code := u.do("PUT", "/api/v1/console/intakes/"+known.Intake.ID, map[string]any{"version": 1, "values": map[string]string{"purpose": "納期"}}, nil); code != http.StatusOK {
		t.Fatalf("correction of the known contact's message without a name: %d", code)
	}
	var fix saved
	if code := u.do("PUT", "/api/v1/console/intakes/"+withheld.Intake.ID, map[string]any{"version": 1, "values": map[string]string{"name": "山田", "purpose": "納期"}}, &fix); code != http.StatusUnprocessableEntity || fix.Fields["callback"] == "" {
		t.Fatalf("correction of the withheld caller's message dropping the number: %d %v, want 422", code, fix.Fields)
	}

	// A withheld call pops, and toritsugi restarts before its message is
	// saved: a new desk (knowing no call) and console on the same store.
	connect(d, "w2", "非通知", false)
	stop()
	d2 := &desk.Desk{Config: d.Config, Store: d.Store, Outbox: d.Outbox, Queue: d.Queue, Logger: d.Logger}
	u2, _ := openConsole(t, d2)
	if got := classOf(u2, "w2"); got != "withheld" {
		t.Fatalf("after the restart the call's class is %q, want withheld", got)
	}
	var after saved
	if code := u2.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "w2", "values": map[string]string{"name": "鈴木", "purpose": "見積もり"}}, &after); code != http.StatusUnprocessableEntity || after.Fields["callback"] == "" {
		t.Fatalf("after the restart, the withheld caller's message without a number: %d %v, want 422", code, after.Fields)
	}
	if code := u2.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "w2", "values": map[string]string{"name": "鈴木", "callback": "03-9876-5432", "purpose": "見積もり"}}, &after); code != http.StatusCreated || after.Intake.CallerClass != "withheld" {
		t.Fatalf("after the restart, the withheld caller's message: %d %+v", code, after.Intake)
	}
}

// TestKnownCallersNameRelayed: a known contact's message, whose script
// does not ask their name, tells the client whom it is from: the name
// the client's caller rule gives them, kept with the message (also in
// its corrections) and relayed as its first line and in its subject.
func TestKnownCallersNameRelayed(t *testing.T) {
	script := filepath.Join(t.TempDir(), "callers.yaml")
	if err := os.WriteFile(script, []byte(callersScript), 0o600); err != nil {
		t.Fatal(err)
	}
	d, ob := newDeskWith(t, strings.Replace(cfgYAML, "    script: standard\n", "    script: "+script+"\n", 1))
	acme, _ := d.Config().Client("acme")
	u, _ := openConsole(t, d)
	d.Connected(call.Connected{CallID: "k1", OperatorID: "op1001", ClientID: "acme", CallerNumber: "09011112222", Known: true, KnownName: "山田社長", Client: acme})
	var known saved
	if code := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "k1", "values": map[string]string{"purpose": "見積もり"}}, &known); code != http.StatusCreated {
		t.Fatalf("known contact's message: %d %v", code, known.Fields)
	}
	if known.Intake.KnownName != "山田社長" {
		t.Fatalf("message kept with known name %q, want 山田社長", known.Intake.KnownName)
	}
	if code := u.do("PUT", "/api/v1/console/intakes/"+known.Intake.ID, map[string]any{"version": 1, "values": map[string]string{"purpose": "納期"}}, nil); code != http.StatusOK {
		t.Fatalf("correction: %d", code)
	}
	for v := 1; v <= 2; v++ {
		entries, err := ob.List(relay.Filter{MessageID: relay.IntakeMessageID(known.Intake.ID, v)})
		if err != nil || len(entries) == 0 {
			t.Fatalf("version %d relayed %v (%v)", v, entries, err)
		}
		m := entries[0].Message
		if !strings.Contains(m.Subject, "山田社長 様より") || !strings.Contains(m.Text, "登録名") || !strings.Contains(m.Text, "山田社長") || m.Fields["known_name"] != "山田社長" {
			t.Errorf("version %d relayed subject %q, fields %v, text:\n%s\nwant the known name in each", v, m.Subject, m.Fields, m.Text)
		}
	}
}
