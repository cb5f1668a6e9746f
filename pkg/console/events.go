package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Pop pushes a screen pop to p.OperatorID's open consoles (and only
// theirs) and remembers it so a reloaded page shows it again.
func (c *Console) Pop(p ScreenPop) {
	if p.At.IsZero() {
		p.At = c.now()
	}
	op, ok := c.operator(p.OperatorID)
	if !ok {
		c.log.Warn("screen pop for unknown operator", "call", p.CallID, "operator", p.OperatorID)
		return
	}
	shown, err := c.hub.pop(p, c.callFor(op, p), c.now())
	if err != nil {
		c.log.Error("screen pop", "call", p.CallID, "operator", p.OperatorID, "err", err)
		return
	}
	if shown && c.d.Control != nil {
		// Someone has the call's form in front of them: the next call
		// waits for its message (up to the client's wrapup_hold).
		c.d.Control.HoldWrapUp(p.OperatorID, p.CallID)
	}
	// Pop runs on the call's goroutine, right after the bridge: the
	// store's commit must not hold it up.
	c.savePopsLater(p.OperatorID)
}

// savePopsLater keeps opID's pops in the store, off the caller's goroutine.
func (c *Console) savePopsLater(opID string) {
	c.savesMu.Lock()
	defer c.savesMu.Unlock()
	if c.closed {
		return
	}
	c.saves.Add(1)
	go func() {
		defer c.saves.Done()
		c.savePops(opID)
	}()
}

// savePops keeps opID's recent pops in the store, so that after a restart
// the operator can still save the intake of a call that popped before it.
// Writes of one operator's pops may start in any order: each writes the
// list as it is when it runs, so the last one written is the latest.
func (c *Console) savePops(opID string) {
	if c.d.Store == nil {
		return
	}
	c.popMu.Lock()
	defer c.popMu.Unlock()
	data, err := json.Marshal(freshPops(c.hub.popsOf(opID), c.now()))
	if err == nil {
		err = c.d.Store.PutScreenPops(opID, data)
	}
	if err != nil {
		c.log.Warn("keeping screen pops for a restart failed", "operator", opID, "err", err)
	}
}

// loadPops restores the pops kept before a restart.
func (c *Console) loadPops() {
	if c.d.Store == nil {
		return
	}
	kept, err := c.d.Store.ScreenPops()
	if err != nil {
		c.log.Warn("reading the screen pops kept before the restart failed", "err", err)
		return
	}
	restored := map[string][]ScreenPop{}
	var aged []string
	for opID, data := range kept {
		var ps []ScreenPop
		if err := json.Unmarshal(data, &ps); err != nil {
			c.log.Warn("screen pops kept before the restart do not decode", "operator", opID, "err", err)
			continue
		}
		if fresh := freshPops(ps, c.now()); len(fresh) < len(ps) {
			ps = fresh
			aged = append(aged, opID)
		}
		restored[opID] = ps
	}
	c.markSavedFromStore(restored)
	for opID, ps := range restored {
		c.hub.restore(opID, ps, c.now())
	}
	for _, opID := range aged {
		c.savePops(opID) // the aged ones gone from the store too
	}
}

// ForgetCaller drops every screen pop of the caller whose number is e164
// (erased on their request) from the operators' recent calls, and from
// what is kept for a restart.
func (c *Console) ForgetCaller(e164 string) {
	c.dropPops(func(p ScreenPop) bool {
		n := phone.ParseCallerID(p.CallerNumber)
		return n.Kind == phone.Number && n.E164 == e164
	})
}

// SweepPops drops the screen pops older than keepPopsFor, from memory and
// from what is kept for a restart: call it every hour (an operator who
// takes no more calls kept theirs for as long as the process ran).
func (c *Console) SweepPops() {
	now := c.now()
	c.dropPops(func(p ScreenPop) bool { return now.Sub(p.At) >= keepPopsFor })
}

// dropPops drops the pops gone says go, and keeps the operators' pops
// left for a restart.
func (c *Console) dropPops(gone func(ScreenPop) bool) {
	for _, opID := range c.hub.forget(gone) {
		c.savePops(opID)
	}
}

// keepPopsFor is how long a screen pop is kept: the console lists a
// call's for recentFor, one with no message saved as long as this (its
// message can still be written, the call marked); one older only keeps
// a caller's number and name (an operator who left kept their last
// twenty for ever).
const keepPopsFor = 2 * recentFor

// KeepPopsFor is keepPopsFor, for what is kept with a call's pop
// elsewhere (the desk's client of the call).
const KeepPopsFor = keepPopsFor

// freshPops are the pops of ps popped less than keepPopsFor before now.
func freshPops(ps []ScreenPop, now time.Time) []ScreenPop {
	return slices.DeleteFunc(ps, func(p ScreenPop) bool { return now.Sub(p.At) >= keepPopsFor })
}

// markSavedFromStore marks, in pops restored at start, the messages
// stored for their calls: marks written by a version before they existed,
// or lost when the process stopped between storing a message and keeping
// its pops. Only the pops the console still shows are looked at (each
// operator's last, and those of the last keepPopsFor: one with no
// message is listed that long), through the caller
// index; callers without a number are not in it, and for them only the
// messages are read once (the start-up relay check reads them too).
func (c *Console) markSavedFromStore(restored map[string][]ScreenPop) {
	now := c.now()
	var numberless []*ScreenPop
	var since time.Time
	mark := func(p *ScreenPop, ins []store.Intake) {
		for _, in := range ins {
			if in.CallID == p.CallID && in.OperatorID == p.OperatorID && !slices.Contains(p.Saved, in.ID) {
				p.Saved = append(p.Saved, in.ID)
			}
		}
	}
	for _, ps := range restored {
		for i := range ps {
			p := &ps[i]
			if i != len(ps)-1 && now.Sub(p.At) >= keepPopsFor {
				continue
			}
			if phone.ParseCallerID(p.CallerNumber).Kind != phone.Number {
				numberless = append(numberless, p)
				if since.IsZero() || p.At.Before(since) {
					since = p.At
				}
				continue
			}
			ins, err := c.d.Store.IntakesForCaller(p.CallerNumber, restoreScan)
			if err != nil {
				c.log.Warn("marking the saved calls of the restored screen pops", "err", err)
				return
			}
			mark(p, ins)
		}
	}
	if len(numberless) == 0 {
		return
	}
	ins, err := c.d.Store.IntakesUpdatedSince(since)
	if err != nil {
		c.log.Warn("marking the saved calls of the restored screen pops", "err", err)
		return
	}
	for _, p := range numberless {
		mark(p, ins)
	}
}

// restoreScan is how many of a number's newest messages are searched for
// a restored pop's own.
const restoreScan = 50

// StateChanged tells opID's open consoles (every console when opID is
// empty) to re-read the operator state now instead of at the next poll.
func (c *Console) StateChanged(opID string) { c.hub.nudge(opID) }

// operatorState returns opID's line of the wallboard (offline if absent).
func (c *Console) operatorState(ctx context.Context, op Operator) (OperatorStatus, error) {
	wb, err := c.d.Control.Snapshot(ctx)
	if err != nil {
		return OperatorStatus{}, fmt.Errorf("console: snapshot: %w", err)
	}
	for _, s := range wb.Operators {
		if s.ID == op.ID {
			s.Now = c.now()
			return s, nil
		}
	}
	return OperatorStatus{ID: op.ID, Name: op.Name, State: StateOffline, Now: c.now()}, nil
}

// events streams the operator's state changes and screen pops
// (GET /api/v1/console/events). The first event is "hello" once the
// stream is subscribed, then "state"; "pop" follows each Pop, and
// "saved" ({"call_id", "intake"}) each new message saved for one of the
// operator's calls, from any of their pages.
func (c *Console) events(w http.ResponseWriter, r *http.Request, a authed) {
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		c.log.Debug("event stream keeps the server write deadline", "err", err)
	}
	sub, err := c.hub.trySubscribe(a.op.ID, a.sid)
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	defer c.hub.unsubscribe(sub)
	defer cutStuckWrite(rc, sub.gone)()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(name string, data []byte) bool {
		_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
		return err == nil && rc.Flush() == nil
	}
	var last []byte
	sendState := func() bool {
		st, err := c.operatorState(r.Context(), a.op)
		if err != nil {
			c.log.Warn("event stream state", "operator", a.op.ID, "err", err)
			return true
		}
		data, err := json.Marshal(st)
		if err != nil || bytes.Equal(data, last) {
			return true
		}
		last = data
		return send("state", data)
	}
	if !send("hello", []byte(`{}`)) || !sendState() {
		return
	}
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	// A "ping" while nothing else is sent lets the page tell a live stream
	// from a dead one (a home connection that changed address keeps a
	// half-open stream for many minutes): it reconnects when pings stop.
	alive := time.NewTicker(c.keepAlive)
	defer alive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sub.gone:
			return
		case <-alive.C:
			if !send("ping", []byte(`{}`)) {
				return
			}
		case <-tick.C:
			if !c.stillAuthed(a) || !sendState() {
				return
			}
		case e := <-sub.ch:
			ok := c.stillAuthed(a)
			if !ok {
				return
			}
			if e.name == "" {
				ok = sendState()
			} else {
				ok = send(e.name, e.data)
			}
			if !ok {
				return
			}
		}
	}
}

// cutStuckWrite ends, once the stream is ended (gone), a write it is
// stuck in: a browser that stopped reading (its TCP buffer full) holds a
// write until TCP gives up, many minutes, and the stream sees its end
// only between writes; at a stop, http.Server.Shutdown waited its whole
// grace for it. A stream still in its handler streamEndGrace after its
// end has its write deadline set to now: the write fails, and the
// connection is closed. A stream that ends in time finishes its response
// as before. The returned func, deferred by the handler, stops the watch
// and waits for it: the deadline is never set once the handler returned
// (the connection may serve another request).
func cutStuckWrite(rc *http.ResponseController, gone <-chan struct{}) (stop func()) {
	returned := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-gone:
		case <-returned:
			return
		}
		t := time.NewTimer(streamEndGrace)
		defer t.Stop()
		select {
		case <-t.C:
			_ = rc.SetWriteDeadline(time.Now())
		case <-returned:
		}
	}()
	return func() {
		close(returned)
		<-watched
	}
}

// streamEndGrace is how long an ended event stream has to return before
// a write it is stuck in is cut.
const streamEndGrace = 100 * time.Millisecond

// streamKeepAlive is how often an event stream sends a ping; the page
// reconnects when it has heard nothing for a little over twice that.
const streamKeepAlive = 15 * time.Second
