package desk

import (
	"context"
	"sync"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Presence: a console operator's routing state (available, or paused with
// its reason, an auto-pause for unanswered rings included) is stored as
// they choose it and as the queue changes it, until they go offline
// (logout), and a restart restores it for the operators whose console
// session is still valid.
// Before, a restart left every console operator offline until each
// noticed and pressed 受付可 again, while the callers re-adopted in line
// waited and overflowed. Ringing and on a call leave the stored state as
// it was (the operator was available); a wrap-up is stored with its end
// and hold, and given back unless it has ended (else the next caller rang
// while the operator was still writing the last one's message).

// presenceRetry is how long after a failed write the states are written
// again.
const presenceRetry = time.Second

// presenceWriter stores the states the queue reports, in their order, off
// the queue's goroutine: a state change must not wait for a disk.
// restoringSince is a restored state's time, kept until the change the
// restore makes, for at most restoreWindow.
type restoringSince struct {
	since, set time.Time
	paused     bool // the state restored: paused, or available
}

const restoreWindow = 10 * time.Second

type presenceWriter struct {
	// fail, when set, makes writes fail (a test's full disk).
	fail func() error

	mu      sync.Mutex
	pending map[string]*store.Presence // operator id → newest state; nil: offline (delete)
	// restoring: operator id → the time the state RestorePresence gives
	// back was entered before the restart; the change it makes is stored
	// with it (else each restart started the time in state again).
	restoring map[string]restoringSince
	kick      chan struct{} // capacity 1
	once      sync.Once
}

func (w *presenceWriter) init() {
	w.once.Do(func() { w.kick = make(chan struct{}, 1) })
}

// OperatorChanged is the queue's report of an operator's new state (the
// controller's OnOperatorChange). It returns at once; RunPresence stores
// it. Operators who do not use the console are left out: their phone's
// registration says whether they take calls.
func (d *Desk) OperatorChanged(c acd.OperatorStateChanged) {
	op, ok := d.Config().Operator(c.OpID)
	if !ok || op.PasswordHash == "" {
		return
	}
	w := &d.presence
	w.init()
	now := d.now()
	since := now
	w.mu.Lock()
	if r, ok := w.restoring[c.OpID]; ok {
		delete(w.restoring, c.OpID)
		// The restore's own change only: into the state it gave back,
		// soon after it.
		if now.Sub(r.set) < restoreWindow && r.paused == (c.To == acd.Paused) && (c.To == acd.Paused || c.To == acd.Available) {
			since = r.since
		}
	}
	w.mu.Unlock()
	var p *store.Presence
	switch c.To {
	case acd.Available:
		p = &store.Presence{Since: since}
	case acd.Paused:
		p = &store.Presence{Paused: true, Reason: c.Reason, Since: since}
	case acd.WrapUp:
		if c.Wrap == nil {
			return
		}
		p = &store.Presence{Wrap: storedWrap(*c.Wrap)}
		if c.From != acd.WrapUp {
			p.Since = since
		}
	case acd.Offline:
	default:
		return
	}
	w.mu.Lock()
	if w.pending == nil {
		w.pending = map[string]*store.Presence{}
	}
	w.pending[c.OpID] = p
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// RunPresence stores the reported states until ctx ends, then what is
// left. A write that fails is tried again a second later, unless a newer
// state came meanwhile.
func (d *Desk) RunPresence(ctx context.Context) {
	w := &d.presence
	w.init()
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			d.flushPresence()
			return
		case <-w.kick:
			if retry == nil && !d.flushPresence() {
				retry = time.After(presenceRetry)
			}
		case <-retry:
			retry = nil
			if !d.flushPresence() {
				retry = time.After(presenceRetry)
			}
		}
	}
}

// flushPresence writes the pending states; it reports whether all were
// written (the failed ones are pending again).
func (d *Desk) flushPresence() bool {
	w := &d.presence
	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	w.mu.Unlock()
	ok := true
	for id, p := range batch {
		var err error
		if w.fail != nil {
			err = w.fail()
		}
		switch {
		case err != nil:
		case p == nil:
			err = d.Store.DeletePresence(id)
		default:
			err = d.Store.PutPresence(id, *p)
		}
		if err == nil {
			continue
		}
		ok = false
		d.Logger.Error("storing an operator's state failed: tried again in a second (a restart now would restore the state before)", "operator", id, "error", err)
		w.mu.Lock()
		if w.pending == nil {
			w.pending = map[string]*store.Presence{}
		}
		if _, newer := w.pending[id]; !newer {
			w.pending[id] = p
		}
		w.mu.Unlock()
	}
	return ok
}

// RestorePresence gives the queue back the states stored before the
// restart, in one step, for the operators still configured as console
// operators and loggedIn (a console session still valid: not expired, and
// made with the password they have now); the others' states are
// forgotten. Call it after the queue has its operators and before calls
// are re-adopted (an operator on a re-adopted call who is offline is
// logged out after it). It returns how many it restored.
func (d *Desk) RestorePresence(loggedIn func(opID string) bool) (int, error) {
	saved, err := d.Store.Presences()
	if err != nil && len(saved) == 0 {
		return 0, err
	}
	var states []queue.OperatorPresence
	for id, p := range saved {
		op, ok := d.Config().Operator(id)
		if !ok || op.PasswordHash == "" || !loggedIn(id) {
			if derr := d.Store.DeletePresence(id); derr != nil {
				d.Logger.Warn("forgetting the state of an operator no longer logged in failed", "operator", id, "error", derr)
			}
			continue
		}
		st := queue.OperatorPresence{OpID: id, Paused: p.Paused, Reason: p.Reason, Since: p.Since}
		if p.Wrap != nil && !p.Paused {
			switch w := restoredWrap(*p.Wrap); {
			case w.End().After(d.now()):
				st.Wrap = w
			case w.Pause != "":
				// A break asked for on the call began as the wrap-up
				// ended, during the restart.
				st.Paused, st.Reason, st.Since = true, w.Pause, w.End()
			default:
				st.Since = time.Time{} // available from its end: from now
			}
		}
		states = append(states, st)
		if !st.Since.IsZero() && st.Wrap == nil {
			w := &d.presence
			w.init()
			w.mu.Lock()
			if w.restoring == nil {
				w.restoring = map[string]restoringSince{}
			}
			w.restoring[id] = restoringSince{since: st.Since, set: d.now(), paused: st.Paused}
			w.mu.Unlock()
		}
		if st.Wrap != nil {
			d.Logger.Info("operator's state restored: in wrap-up", "operator", id, "call", st.Wrap.CallID, "until", st.Wrap.End(), "since", p.Since)
		} else {
			d.Logger.Info("operator's state restored", "operator", id, "paused", st.Paused, "reason", st.Reason, "since", st.Since)
		}
	}
	if len(states) > 0 {
		d.Queue.Restore(states)
	}
	return len(states), err
}

func storedWrap(w acd.WrapUpState) *store.WrapUp {
	return &store.WrapUp{
		CallID: w.CallID, ClientID: w.ClientID, Until: w.Until,
		Hold: w.Hold, Held: w.Held, HoldUntil: w.HoldUntil, Unheld: w.Unheld, Pause: w.Pause,
	}
}

func restoredWrap(w store.WrapUp) *acd.WrapUpState {
	return &acd.WrapUpState{
		CallID: w.CallID, ClientID: w.ClientID, Until: w.Until,
		Hold: w.Hold, Held: w.Held, HoldUntil: w.HoldUntil, Unheld: w.Unheld, Pause: w.Pause,
	}
}
