package console_test

// What an operator on a flaky network sees (a review of the console
// under network drops): the state read every 5 s is shown, a save the
// network lost is sent again.

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
)

// TestBrowserHalfOpenStreamShowsTheRinging: the stream is left half-open
// (a network change) with the last call's screen up; the phone rings for
// another client. The state read every 5 s was used only to find a call
// the stream had missed, not shown: no 着信中 banner, the last client's
// screen neither faded nor closed to typing, and what the operator typed
// for the new caller went into the last call's form. It is shown now.
func TestBrowserHalfOpenStreamShowsTheRinging(t *testing.T) {
	e := newEnv(t)
	o := &halfOpen{h: e.c.Handler()}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, srv.URL, "op-a", "secret-pw")
	popNamed(t, e, ctx, "call-last", "アクメ株式会社")
	o.mu.Lock()
	o.cut = true
	o.mu.Unlock()
	e.control.mu.Lock()
	e.control.states["op-a"] = console.OperatorStatus{ID: "op-a", Name: "op-a", State: console.StateRinging, CallID: "call-new",
		CallClient: "株式会社ベータ", Since: time.Now(), Reachable: true}
	e.control.mu.Unlock()
	e.c.StateChanged("op-a")
	consoletest.Do(t, ctx, "the ringing shown within two reads", consoletest.UntilJS(
		`!document.getElementById('ringing-for').hidden && document.getElementById('ringing-for').textContent.includes('株式会社ベータ')
		 && document.getElementById('pop').inert`))
}

// TestBrowserHalfOpenStreamFirstCallOfShift: no call for a day (the last
// one's screen gone), the stream half-open: the first call was not looked
// for by the state read (it compared with the last pop, none) and came
// only when the stream's silence was noticed, 35 s and more into the
// call. Shown within two reads now.
func TestBrowserHalfOpenStreamFirstCallOfShift(t *testing.T) {
	e := newEnv(t)
	o := &halfOpen{h: e.c.Handler()}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, srv.URL, "op-a", "secret-pw")
	consoletest.Do(t, ctx, "page up", consoletest.UntilJS(`document.getElementById('state').textContent !== '…'`))
	time.Sleep(time.Second)
	o.mu.Lock()
	o.cut = true
	o.mu.Unlock()
	e.control.mu.Lock()
	e.control.states["op-a"] = console.OperatorStatus{ID: "op-a", Name: "op-a", State: console.StateOnCall, CallID: "call-1",
		CallClient: "二件目の会社", Since: time.Now(), Reachable: true}
	e.control.mu.Unlock()
	e.c.StateChanged("op-a")
	p := pop("call-1", "op-a")
	p.ClientName = "二件目の会社"
	e.c.Pop(p)
	start := time.Now()
	consoletest.Do(t, ctx, "the first call's screen", consoletest.UntilJS(`document.getElementById('pop-client').textContent === '二件目の会社'`))
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the first call's screen came after %v, want within two 5-s reads", d)
	}
}

// dropSaves closes the connection of each POST /api/v1/console/intakes
// while on, without running it: the save is lost on the network.
type dropSaves struct {
	mu   sync.Mutex
	on   bool
	sent int
	h    http.Handler
}

func (d *dropSaves) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	save := r.Method == http.MethodPost && r.URL.Path == "/api/v1/console/intakes"
	d.mu.Lock()
	on := d.on
	if save {
		d.sent++
	}
	d.mu.Unlock()
	if on && save {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = c.Close()
		}
		return
	}
	d.h.ServeHTTP(w, r)
}

// TestBrowserLostSaveIsSentAgain: the save of a message is lost on the
// network; the page said to press Save again, once, and the next call's
// screen wiped that: the caller's message was never stored. It is kept
// and sent again once the server answers, once (one message), with a
// line saying so that outlives the next call's screen until it is sent.
func TestBrowserLostSaveIsSentAgain(t *testing.T) {
	e := newEnv(t)
	d := &dropSaves{h: e.c.Handler(), on: true}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	ctx := consoletest.Browser(t)
	consoletest.LogIn(t, ctx, srv.URL, "op-a", "secret-pw")
	popNamed(t, e, ctx, "call-1", "アクメ株式会社")
	consoletest.Do(t, ctx, "save, lost", fillCheckSave(consoletest.UntilJS(`!document.getElementById('pending').hidden`))...)
	p := pop("call-2", "op-a")
	p.ClientName = "次のお客様"
	e.c.Pop(p)
	consoletest.Do(t, ctx, "the next call, the unsent message still said", consoletest.UntilJS(
		`document.getElementById('pop-client').textContent === '次のお客様' && !document.getElementById('pending').hidden`))
	d.mu.Lock()
	d.on = false
	d.mu.Unlock()
	consoletest.Do(t, ctx, "sent once the network is back", consoletest.UntilJS(
		`document.getElementById('pending').hidden && document.getElementById('status').textContent.startsWith('通信が戻り')`))
	time.Sleep(6 * time.Second) // one more read: nothing more is sent
	e.mu.Lock()
	stored := len(e.submitted)
	e.mu.Unlock()
	if stored != 1 {
		t.Fatalf("%d messages relayed, want the lost one, once", stored)
	}
	if got := consoletest.Eval(ctx, `String(Object.keys(localStorage).filter((k) => k.includes('.pending.')).length)`); got != "0" {
		t.Fatalf("%s lost saves left in the browser after it was sent", got)
	}
}
