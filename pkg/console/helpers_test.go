package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/password"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// cheap keeps argon2 fast under -race; production uses password.Default.
var cheap = password.Params{MemoryKiB: 64, Time: 1, Threads: 1}

var (
	hashOnce sync.Once
	pwHash   string
)

// testHash is the hash of "secret-pw" with cheap parameters.
func testHash(t testing.TB) string {
	hashOnce.Do(func() {
		h, err := password.HashWith("secret-pw", cheap)
		if err != nil {
			panic(err)
		}
		pwHash = h
	})
	return pwHash
}

// env is a running console with fakes and a real store.
type env struct {
	t       testing.TB
	c       *console.Console
	srv     *httptest.Server
	clock   *fakeClock
	control *fakeControl
	st      *store.Store
	path    string
	ops     []console.Operator

	mu        sync.Mutex
	submitted []store.Intake
	submitErr error
	// submitHold, when set, is waited on by the relay before it takes an
	// intake: a save's answer is held back.
	submitHold chan struct{}
}

type envOption func(*console.Deps, *env)

// newEnv starts a console with operators op-a, op-b (both acme) and the
// supervisor sv.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	h := testHash(t)
	e := &env{t: t, clock: &fakeClock{t: time.Date(2026, 11, 10, 1, 0, 0, 0, time.UTC)},
		control: &fakeControl{states: map[string]console.OperatorStatus{}}}
	e.path = filepath.Join(t.TempDir(), "toritsugi.db")
	e.st = storetest.OpenPath(t, e.path)
	e.ops = []console.Operator{
		{ID: "op-a", Name: "青木", PasswordHash: h, Clients: []string{"acme"}},
		{ID: "op-b", Name: "Bob", PasswordHash: h, Clients: []string{"acme", "beta"}},
		{ID: "sv", Name: "Sup", PasswordHash: h, Supervisor: true},
	}
	d := console.Deps{
		Operators: e.operators,
		Forms:     fakeForms{formFor: func(string) console.FormSpec { return branchingForm }, validate: validateBranching},
		Control:   e.control,
		Relay: fakeRelay{
			submit: func(_ context.Context, in store.Intake) error {
				// Durable before relay: the intake must already be in the store.
				if _, err := e.st.Intake(in.ID); err != nil {
					t.Errorf("Relay.Submit before the intake was stored: %v", err)
				}
				e.mu.Lock()
				hold := e.submitHold
				e.mu.Unlock()
				if hold != nil {
					<-hold
				}
				e.mu.Lock()
				defer e.mu.Unlock()
				e.submitted = append(e.submitted, in)
				return e.submitErr
			},
			status: func(string) []console.RelayStatus {
				return []console.RelayStatus{{Destination: "email", State: "queued", Attempts: 0}}
			},
		},
		Store:     e.st,
		Logger:    slog.New(slog.DiscardHandler),
		Now:       e.clock.Now,
		StatePoll: time.Hour, // streams here are driven by nudges and pops
	}
	for _, o := range opts {
		o(&d, e)
	}
	e.c = console.New(d)
	e.srv = httptest.NewServer(e.c.Handler())
	t.Cleanup(func() { e.c.Close(); e.srv.Close() })
	return e
}

// operators is the console's view of the configured operators.
func (e *env) operators() []console.Operator {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.ops)
}

// reload changes the configured operators, as a configuration reload does.
func (e *env) reload(change func(ops []console.Operator) []console.Operator) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ops = change(slices.Clone(e.ops))
}

// user is a logged-in HTTP client.
type user struct {
	e    *env
	hc   *http.Client
	csrf string
}

// anon returns a client with a cookie jar that follows no redirects.
func (e *env) anon() *user {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &user{e: e, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// login logs in over the JSON API or fails the test.
func (e *env) login(id string) *user {
	e.t.Helper()
	u := e.anon()
	resp, body := u.do("POST", "/api/v1/login", map[string]string{"operator_id": id, "password": "secret-pw"})
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", id, resp.StatusCode, body)
	}
	var lr struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &lr); err != nil || lr.CSRF == "" {
		e.t.Fatalf("login %s: %s (%v)", id, body, err)
	}
	u.csrf = lr.CSRF
	return u
}

// do sends a JSON request (body nil: none) with the user's CSRF token.
func (u *user) do(method, path string, body any) (*http.Response, []byte) {
	u.e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			u.e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	return u.raw(method, path, rd, map[string]string{"Content-Type": "application/json", "X-CSRF-Token": u.csrf})
}

// raw sends a request with exactly the given headers.
func (u *user) raw(method, path string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	u.e.t.Helper()
	req, err := http.NewRequest(method, u.e.srv.URL+path, body)
	if err != nil {
		u.e.t.Fatal(err)
	}
	for k, v := range hdr {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		u.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		u.e.t.Fatal(err)
	}
	return resp, b
}

// postForm posts an HTML form.
func (u *user) postForm(path string, v url.Values) (*http.Response, []byte) {
	return u.raw("POST", path, strings.NewReader(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// sse is an open event stream.
type sse struct {
	resp *http.Response
	rd   *bufio.Reader
}

// stream opens the user's event stream and waits for "hello", so the
// stream is subscribed when it returns.
func (u *user) stream() *sse {
	u.e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	u.e.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", u.e.srv.URL+"/api/v1/console/events", nil)
	if err != nil {
		u.e.t.Fatal(err)
	}
	hc := *u.hc
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		u.e.t.Fatal(err)
	}
	u.e.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		u.e.t.Fatalf("events: %d", resp.StatusCode)
	}
	s := &sse{resp: resp, rd: bufio.NewReader(resp.Body)}
	if name, _ := s.next(u.e.t); name != "hello" {
		u.e.t.Fatalf("first event %q, want hello", name)
	}
	return s
}

// next reads one event (name, data); the test's deadline bounds it.
func (s *sse) next(t testing.TB) (string, string) {
	t.Helper()
	var name, data string
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// ends waits (5 s at most) for the server to end the stream, skipping
// its events, and reports whether it did.
func (s *sse) ends() bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := s.rd.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
		return true
	case <-time.After(5 * time.Second):
		return false // the reader stops at the test's cleanup (stream)
	}
}

// nextNamed skips events until one called name.
func (s *sse) nextNamed(t testing.TB, name string) string {
	t.Helper()
	for {
		n, d := s.next(t)
		if n == name {
			return d
		}
	}
}

// pop is a screen pop of call id for op.
func pop(id, op string) console.ScreenPop {
	return console.ScreenPop{CallID: id, OperatorID: op, ClientID: "acme", ClientName: "アクメ株式会社",
		GreetingText: "お電話ありがとうございます。アクメ株式会社でございます。", Manual: "担当: 佐藤",
		CallerNumber: "0312345678", CallerDisplay: "03-1234-5678", WaitedMS: 12000}
}

// goodValues fill the branching form validly along the "other" branch.
func goodValues() map[string]string {
	return map[string]string{"company": "山田商事", "name": "山田", "callback": "03-1234-5678", "purpose": "other", "detail": "見積もりの件"}
}

// mustURL parses a URL or fails the test.
func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
