// Package desk is the front desk between the telephony core and the people:
// it turns a bridged call into the operator's screen pop, serves the
// client's intake form, relays saved intakes (and, when a client asks,
// missed calls and voicemails) through the durable outbox, and gives the
// console the operator controls and the wallboard.
package desk

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/report"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Desk implements console.Forms, console.Relayer and console.OperatorControl.
type Desk struct {
	Config  func() *config.Config
	Store   *store.Store
	Outbox  *relay.Outbox
	Queue   *queue.Owner
	Console *console.Console // set after console.New (it needs the Desk)
	Logger  *slog.Logger
	Now     func() time.Time
	// BaseURL, when set, links relayed messages to the console.
	BaseURL string
	// LinkUp, when set, tells whether the ARI link is up: the wallboard
	// says when it is not (the queue's figures then stand still while new
	// calls take the dialplan's fallback).
	LinkUp func() bool

	// unqueued holds the messages the outbox could not take (RetryUnqueued).
	unqueued unqueued
	// retired holds the clients a reload removed while one of their
	// callers was put through to an operator.
	retired retiredClients
	// popped holds each recent call's client as the call knew it: the
	// form the operator fills in, and the message relayed, are that
	// client's, whatever a reload changed meanwhile.
	popped poppedClients
	// writeOutbox is Outbox.Enqueue (a test makes it fail).
	writeOutbox func(relay.Message, []string) ([]string, error)
	// forgetOutbox is Outbox.Forget (a test makes it fail).
	forgetOutbox func([]string) (int, error)
	// forgetNoticesIn is Outbox.ForgetIn of a record's notices (a test
	// makes it fail).
	forgetNoticesIn func(*bolt.Tx, []string) error
	// todayCache keeps today's figures for todayFresh.
	todayCache todayCache
	// presence holds console operators' states not yet stored
	// (presence.go).
	presence presenceWriter
}

// todayCache is the last computation of today's figures.
type todayCache struct {
	mu  sync.Mutex
	at  time.Time // when computed; zero: never
	v   console.Today
	err error // the computation failed: kept as long as a result
}

// todayFresh is how long today's figures are reused. Every open console
// asks for the operator's line every 2 s, and the wallboard with it:
// computing the figures reads and decodes every call record of the day,
// which 20 consoles would repeat 10 times a second.
const todayFresh = 5 * time.Second

// client is the configured client id, or, once a reload removed it, the
// client as its last call put through knew it (the operator takes and
// relays the message as the call came in).
func (d *Desk) client(id string) (*config.Client, bool) {
	if cl, ok := d.Config().Client(id); ok {
		return cl, true
	}
	return d.retired.get(id)
}

// clientFor is the client of call callID as the call knew it when it was
// put through, or, for a call not (or no longer) known, client id now.
func (d *Desk) clientFor(id, callID string) (*config.Client, bool) {
	if cl, ok := d.popped.get(callID); ok && cl.ID == id {
		return cl, true
	}
	return d.client(id)
}

// poppedClients keeps the clients of the last poppedKept calls put
// through, each until its screen pop is swept (SweepPops). Each is a copy
// of the one client: a pointer into its configuration's Clients kept
// every client, script and manual of every version a call was put
// through under.
type poppedClients struct {
	mu    sync.Mutex
	m     map[string]keptClient
	order []string // call ids, oldest first
}

// keptClient is a client as a call put through knew it, and when its
// screen pop was popped.
type keptClient struct {
	cl *config.Client
	at time.Time
}

// poppedKept bounds poppedClients: many more calls than an operator's
// recent calls (the console's) across every operator.
const poppedKept = 2048

func (p *poppedClients) add(callID string, cl *config.Client, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]keptClient{}
	}
	if _, ok := p.m[callID]; !ok {
		p.order = append(p.order, callID)
	}
	p.m[callID] = keptClient{cl, at}
	for len(p.order) > poppedKept {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *poppedClients) get(callID string) (*config.Client, bool) {
	if callID == "" {
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k, ok := p.m[callID]
	return k.cl, ok
}

// sweep drops the calls popped when gone says.
func (p *poppedClients) sweep(gone func(popped time.Time) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.order = slices.DeleteFunc(p.order, func(id string) bool {
		if gone(p.m[id].at) {
			delete(p.m, id)
			return true
		}
		return false
	})
}

// retiredClients: each client as its last call put through knew it, for
// when a reload removes it (one entry per client), until that call's
// screen pop is swept.
type retiredClients struct {
	mu sync.Mutex
	m  map[string]keptClient
}

func (r *retiredClients) add(cl *config.Client, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]keptClient{}
	}
	r.m[cl.ID] = keptClient{cl, at}
}

func (r *retiredClients) get(id string) (*config.Client, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.m[id]
	return k.cl, ok
}

// sweep drops the clients whose last call was popped when gone says.
func (r *retiredClients) sweep(gone func(popped time.Time) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	maps.DeleteFunc(r.m, func(_ string, k keptClient) bool { return gone(k.at) })
}

// SweepPops drops the clients kept for calls whose screen pops the
// console no longer keeps (console.KeepPopsFor): call it with
// Console.SweepPops. A message saved or corrected for such a call later
// is its client's now.
func (d *Desk) SweepPops() {
	now := d.now()
	gone := func(popped time.Time) bool { return now.Sub(popped) >= console.KeepPopsFor }
	d.popped.sweep(gone)
	d.retired.sweep(gone)
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Operators lists the configured operators for the console's login.
func (d *Desk) Operators() []console.Operator {
	cfg := d.Config()
	out := make([]console.Operator, 0, len(cfg.Operators))
	for _, op := range cfg.Operators {
		out = append(out, console.Operator{
			ID: op.ID, Name: op.Name, PasswordHash: op.PasswordHash, Clients: op.Clients, Supervisor: op.Supervisor,
		})
	}
	return out
}

// ClientName is a client's name by id ("" when there is no such client).
func (d *Desk) ClientName(id string) string {
	if cl, ok := d.Config().Client(id); ok {
		return cl.Name
	}
	return ""
}

// SetAvailable implements console.OperatorControl. The choice is stored at
// once too (presence.go): a pause or a logout asked for during a call
// takes effect after it, with no state change until then, and a restart
// meanwhile must not forget it.
func (d *Desk) SetAvailable(opID string) {
	d.Queue.SetAvailable(opID)
	d.OperatorChanged(acd.OperatorStateChanged{OpID: opID, To: acd.Available})
}

// Pause implements console.OperatorControl.
func (d *Desk) Pause(opID, reason string) {
	if reason == "" {
		reason = "paused" // as the queue names a pause without a reason
	}
	d.Queue.Pause(opID, reason)
	d.OperatorChanged(acd.OperatorStateChanged{OpID: opID, To: acd.Paused, Reason: reason})
}

// Logout implements console.OperatorControl.
func (d *Desk) Logout(opID string) {
	d.Queue.Logout(opID)
	d.OperatorChanged(acd.OperatorStateChanged{OpID: opID, To: acd.Offline, Reason: "logout"})
}

// EndWrapUp implements console.OperatorControl.
func (d *Desk) EndWrapUp(opID string) { d.Queue.EndWrapUp(opID) }

// ExtendWrapUp implements console.OperatorControl.
func (d *Desk) ExtendWrapUp(opID string, dur time.Duration) { d.Queue.ExtendWrapUp(opID, dur) }

// HoldWrapUp implements console.OperatorControl.
func (d *Desk) HoldWrapUp(opID, callID string) { d.Queue.HoldWrapUp(opID, callID) }

// ReleaseWrapUp implements console.OperatorControl.
func (d *Desk) ReleaseWrapUp(opID, callID string) { d.Queue.ReleaseWrapUp(opID, callID) }

// Snapshot implements console.OperatorControl: the wallboard.
func (d *Desk) Snapshot(ctx context.Context) (console.Wallboard, error) {
	s, err := d.Queue.Snapshot(ctx)
	if err != nil {
		return console.Wallboard{}, err
	}
	cfg := d.Config()
	var wb console.Wallboard
	for _, op := range s.Operators {
		name := op.ID
		if o, ok := cfg.Operator(op.ID); ok {
			name = o.Name
		}
		st := console.OperatorStatus{
			ID: op.ID, Name: name, State: stateName(op.State.String()), Since: op.Since, PauseReason: op.PauseReason,
			Reachable: op.Reachable, WrapUpUntil: op.WrapUpUntil, WrapUpHeld: op.WrapUpHeld, OtherCall: op.OtherCall,
			PendingPause: op.PendingPause,
		}
		if op.CallClientID != "" && (op.State == acd.Ringing || op.State == acd.OnCall) {
			st.CallID, st.CallClient = op.CallID, op.CallClientID
			// As the call knew its client when it was put through; a
			// client a reload removed keeps its name while its caller
			// rings an operator or talks, as on the screen pop.
			if cl, ok := d.popped.get(op.CallID); ok {
				st.CallClient = cl.Name
			} else if cl, ok := d.client(op.CallClientID); ok {
				st.CallClient = cl.Name
			}
		}
		wb.Operators = append(wb.Operators, st)
	}
	for _, c := range s.Clients {
		w := console.Waiting{ClientID: c.ClientID, Count: len(c.Waiting)}
		// A client a reload removed keeps its name while its callers wait.
		if cl, ok := d.client(c.ClientID); ok {
			w.ClientName = cl.Name
		}
		for _, call := range c.Waiting {
			w.OldestWaitMS = max(w.OldestWaitMS, call.Waited.Milliseconds())
		}
		wb.Waiting = append(wb.Waiting, w)
	}
	// Today's figures come from the call records; one the store cannot
	// read must not take every console's operator states with it (each
	// page would show its operator offline and its buttons fail).
	if wb.Today, err = d.today(); err != nil {
		wb.Today, wb.TodayUnavailable = console.Today{}, true
	}
	wb.ARIDown = d.LinkUp != nil && !d.LinkUp()
	return wb, nil
}

var jst = japan.Zone

// today counts today's (Japan time) answered and abandoned calls, at
// most todayFresh old. Callers who ask while it is computed wait for it
// and share it.
func (d *Desk) today() (console.Today, error) {
	c := &d.todayCache
	c.mu.Lock()
	defer c.mu.Unlock()
	now := d.now()
	if !c.at.IsZero() && !now.Before(c.at) && now.Sub(c.at) < todayFresh && sameDayJST(c.at, now) {
		return c.v, c.err
	}
	// A failure is kept as long as a result: a record that cannot be read
	// fails every try, and each reads the whole day.
	c.at, c.v, c.err = now, console.Today{}, nil
	v, err := d.countToday(now)
	if err != nil {
		d.Logger.Error("today's figures could not be read; the wallboard shows none", "error", err)
		c.err = err
		return console.Today{}, err
	}
	c.v = v
	return v, nil
}

// sameDayJST reports whether a and b are on one day in Japan.
func sameDayJST(a, b time.Time) bool {
	ya, ma, da := a.In(jst).Date()
	yb, mb, db := b.In(jst).Date()
	return ya == yb && ma == mb && da == db
}

// countToday reads today's call records.
func (d *Desk) countToday(at time.Time) (console.Today, error) {
	now := at.In(jst)
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, jst)
	calls, err := d.Store.ListCalls(store.CallFilter{From: start})
	if err != nil {
		return console.Today{}, err
	}
	// The monthly report's figures, for today and all clients: one
	// definition of the service level.
	var t console.Today
	inTime, offered := 0, 0
	clients, _ := report.Month(calls)
	for _, c := range clients {
		t.Answered += c.Answered + c.Transferred
		t.Abandoned += c.AbandonedInQueue // gave up in the queue, not during the greeting
		inTime += c.AnsweredInTime
		offered += c.Offered()
	}
	t.ServiceLevel, t.Offered = report.ServiceLevel(inTime, offered), offered
	return t, nil
}

// stateName maps the routing core's state names to the console's.
func stateName(s string) string {
	switch s {
	case "on-call":
		return console.StateOnCall
	case "wrap-up":
		return console.StateWrapUp
	}
	return s
}
