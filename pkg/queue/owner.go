// Package queue owns the routing core (pkg/acd) in one goroutine: calls and
// operators report to it through methods that only enqueue, it feeds the
// core with the current time and turns the core's actions into messages for
// the call actors' inboxes.
package queue

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/acd"
)

// Inbox is where the owner delivers messages for a call.
type Inbox interface{ Push(ari.Event) }

// Operator is a configured operator as the queue sees it.
type Operator struct {
	ID, Endpoint string
	// Clients maps client id (or "*") to skill tier (1 = primary).
	Clients map[string]int
	// Manual operators log in through the console and choose when they
	// are available; the others are available whenever their softphone is
	// registered.
	Manual bool
}

// Clock is the owner's time source.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) *time.Timer
}

type realClock struct{}

func (realClock) Now() time.Time                       { return time.Now() }
func (realClock) NewTimer(d time.Duration) *time.Timer { return time.NewTimer(d) }

// ErrStopped is returned by Snapshot once Run has returned.
var ErrStopped = errors.New("queue: stopped")

// Owner runs the ACD core.
type Owner struct {
	in chan func()
	// stopped is closed when Run returns: what is sent after that is
	// dropped, so that a call actor still running at a stop (its report
	// of an operator lost, a requeue) does not wait for ever on a full
	// input no one reads, holding the stop up.
	stopped  chan struct{}
	log      *slog.Logger
	clock    Clock
	core     *acd.Core
	onChange func(acd.OperatorStateChanged)
	onAction func(acd.Action)

	// owned by the Run goroutine
	calls     map[string]Inbox
	endpoints map[string]string // op id → endpoint
	manual    map[string]bool   // op id → logs in through the console
	byEP      map[string]string // endpoint → op id
	reachable map[string]bool   // endpoint → reachable
	otherCall map[string]bool   // endpoint → has a call not the queue's
	// inUse: endpoint → the connected call on it, from its Connect (or
	// Occupy) until it ends; phoneOf is the other way. A phone that a
	// reload gives to another operator while its call goes on is busy:
	// its new operator counts as unreachable until that call ends.
	inUse   map[string]phoneCall
	phoneOf map[string]string // call id → endpoint
	// rungOn: op id → the phone its latest ring went to (a reload may
	// give the operator another before the answer).
	rungOn map[string]string
	// restored: op id → the state Restore gave back, entered at since
	// (before the restart) though the core entered it at at: shown so
	// while the operator stays in it.
	restored map[string]restoredSince
}

type restoredSince struct{ at, since time.Time }

// phoneCall is a connected call on a phone, and the operator it was
// connected to.
type phoneCall struct{ callID, opID string }

// Options configure an Owner.
type Options struct {
	// Settings returns a client's queue settings; it must be fast and pure.
	Settings func(clientID string) acd.ClientSettings
	Logger   *slog.Logger
	// OnOperatorChange is told every operator state change (wallboards).
	OnOperatorChange func(acd.OperatorStateChanged)
	// OnAction sees every action of the core, in order, on the owner's
	// goroutine (tracing and tests); it must not block.
	OnAction func(acd.Action)
	Clock    Clock
}

// New returns an owner; call Run.
func New(o Options) *Owner {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	return &Owner{
		in: make(chan func(), 1024), stopped: make(chan struct{}), log: o.Logger, clock: o.Clock, core: acd.New(o.Settings),
		onChange: o.OnOperatorChange, onAction: o.OnAction,
		calls: map[string]Inbox{}, endpoints: map[string]string{}, manual: map[string]bool{}, byEP: map[string]string{}, reachable: map[string]bool{}, otherCall: map[string]bool{},
		inUse: map[string]phoneCall{}, phoneOf: map[string]string{}, rungOn: map[string]string{},
		restored: map[string]restoredSince{},
	}
}

// Run owns the core until ctx ends.
func (o *Owner) Run(ctx context.Context) {
	defer close(o.stopped)
	timer := o.clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		o.arm(timer)
		select {
		case <-ctx.Done():
			return
		case f := <-o.in:
			f()
		case <-timer.C:
			// What waits in the inbox came first: an operator's answer
			// reported as their ring timed out is an answer, not a ring
			// to cancel (select picks at random among ready cases).
			o.drain()
			o.apply(o.core.Tick(o.clock.Now()))
		}
	}
}

// drain runs the messages waiting in the inbox now (not those that come
// meanwhile: a stream of reports must not hold a timer off for ever).
func (o *Owner) drain() {
	for range len(o.in) {
		select {
		case f := <-o.in:
			f()
		default:
			return
		}
	}
}

func (o *Owner) arm(t *time.Timer) {
	t.Stop()
	select {
	case <-t.C:
	default:
	}
	if at, ok := o.core.NextDeadline(); ok {
		t.Reset(max(at.Sub(o.clock.Now()), 0))
		return
	}
	t.Reset(time.Hour)
}

// do runs f on the owner goroutine. It blocks only while the input
// buffer is full (back-pressure from 1024 pending reports), and never
// once Run has returned: f is then dropped (the stop's live states, not
// the queue, carry the calls over).
func (o *Owner) do(f func()) {
	select {
	case o.in <- f:
	case <-o.stopped:
	}
}

// SettingsChanged applies the clients' current settings to the callers
// already waiting, those of the clients configured reports (acd.Core.
// SettingsChanged): call it after a reload.
func (o *Owner) SettingsChanged(configured func(clientID string) bool) {
	o.do(func() { o.apply(o.core.SettingsChanged(o.clock.Now(), configured)) })
}

// Hold stops all ringing until Release (acd.Core.Hold).
func (o *Owner) Hold() { o.do(o.core.Hold) }

// Release ends one Hold (acd.Core.Release).
func (o *Owner) Release() {
	o.do(func() { o.apply(o.core.Release(o.clock.Now())) })
}

// Enqueue puts a call in the queue; messages for it go to inbox.
func (o *Owner) Enqueue(c acd.Call, inbox Inbox) {
	o.do(func() {
		o.calls[c.ID] = inbox
		o.apply(o.core.Enqueue(c, o.clock.Now()))
	})
}

// Abandon reports that a caller left while waiting or ringing.
func (o *Owner) Abandon(callID string) {
	o.do(func() {
		o.apply(o.core.Abandon(callID, o.clock.Now()))
		delete(o.calls, callID)
		o.phoneFree(callID)
	})
}

// Leave forgets a call that ended without the core's involvement after it
// was connected or overflowed.
func (o *Owner) Leave(callID string) {
	o.do(func() {
		delete(o.calls, callID)
		o.phoneFree(callID)
	})
}

// RingAnswered reports that the operator's leg of ring seq
// (RingOperator.Ring) answered.
func (o *Owner) RingAnswered(callID, opID string, seq uint64) {
	o.do(func() { o.apply(o.core.RingAnswered(callID, opID, seq, o.clock.Now())) })
}

// RingFailed reports that ring seq of an operator failed.
func (o *Owner) RingFailed(callID, opID string, seq uint64, why acd.RingFailure) {
	o.do(func() { o.apply(o.core.RingFailed(callID, opID, seq, why, o.clock.Now())) })
}

// RingLegGone reports that the leg of ring seq of an operator, which the
// queue gave up (CancelRing), has left Asterisk: the operator may be rung
// again (acd.Core.RingLegGone).
func (o *Owner) RingLegGone(callID, opID string, seq uint64) {
	o.do(func() { o.apply(o.core.RingLegGone(callID, opID, seq, o.clock.Now())) })
}

// AwaitLeg reports that leg seq (acd.ForeignLeg set) of an operator's
// phone, which this queue did not ring (found after a restart, or of a
// call re-adopted connected), is being hung up: the operator is not rung
// until RingLegGone reports it gone, or acd.LegGoneWait has passed
// (acd.Core.AwaitLeg).
func (o *Owner) AwaitLeg(opID string, seq uint64) {
	o.do(func() { o.apply(o.core.AwaitLeg(opID, seq, o.clock.Now())) })
}

// CallEnded reports that a connected call finished: its operator wraps
// up, and is rung again only once the leg they answered is reported gone
// (RingLegGone) or acd.LegGoneWait has passed.
func (o *Owner) CallEnded(callID string) {
	o.do(func() {
		o.apply(o.core.CallEnded(callID, o.clock.Now()))
		delete(o.calls, callID)
		o.phoneFree(callID)
	})
}

// CallEndedBeforeTalk reports that a connected call finished before the
// caller was put through to its operator: the operator is free at once
// (acd.Core.CallEndedBeforeTalk).
func (o *Owner) CallEndedBeforeTalk(callID string) {
	o.do(func() {
		o.apply(o.core.CallEndedBeforeTalk(callID, o.clock.Now()))
		delete(o.calls, callID)
		o.phoneFree(callID)
	})
}

// Occupy reports a call re-adopted after a restart while already connected
// to an operator on phone endpoint ("": the operator's configured one):
// the operator is on that call (not rung) until CallEnded, and so is the
// phone, whoever it belongs to since.
// A console (Manual) operator who was offline in this queue is logged out
// again after the call, as a restart logs them out.
func (o *Owner) Occupy(callID, clientID, opID, endpoint string) {
	o.do(func() {
		now := o.clock.Now()
		v, known := o.core.LookupOperator(opID)
		acts := o.core.Occupy(callID, clientID, opID, now)
		o.phoneBusy(callID, opID, endpoint)
		if known && v.State == acd.Offline && o.manual[opID] {
			acts = append(acts, o.core.Logout(opID, now)...)
		}
		o.apply(acts)
	})
}

// SetOperators installs the configured operators (start-up and reload).
func (o *Owner) SetOperators(ops []Operator) {
	o.do(func() {
		now := o.clock.Now()
		keep := map[string]bool{}
		for _, op := range ops {
			keep[op.ID] = true
			o.endpoints[op.ID] = op.Endpoint
			o.manual[op.ID] = op.Manual
		}
		for _, op := range ops {
			// Before new skills can ring them: an operator whose new
			// phone carries (or rings) another operator's call is not
			// reachable on it, or the upsert would ring that phone
			// mid-call (two operators swapping phones, one on a call).
			if o.phoneTakenFrom(op.ID) && !o.onAPhone(op.ID) {
				o.apply(o.core.SetReachable(op.ID, false, now))
			}
			// So is one whose new phone has a call of its own.
			o.apply(o.core.SetOtherCall(op.ID, o.otherCall[op.Endpoint], now))
			o.apply(o.core.UpsertOperator(acd.Operator{ID: op.ID, Skills: op.Clients}, now))
			o.apply(o.core.SetOtherCall(op.ID, o.otherCall[op.Endpoint], now))
		}
		for id := range o.endpoints {
			if !keep[id] {
				o.apply(o.core.RemoveOperator(id, now))
				delete(o.endpoints, id)
				delete(o.manual, id)
			}
		}
		// Built afresh: a phone may have passed from one operator to
		// another (or two may have swapped), and deleting the old
		// operator's entry would then delete the new one's.
		clear(o.byEP)
		for id, ep := range o.endpoints {
			o.byEP[ep] = id
		}
		// A phone no operator has any more, nor any call on it, is
		// forgotten: each one ever configured stayed for ever. Should
		// it come back, the registry tracks it afresh and tells its
		// state (as it read it, or at its next event).
		gone := func(ep string, _ bool) bool {
			_, mine := o.byEP[ep]
			_, busy := o.inUse[ep]
			return !mine && !busy
		}
		maps.DeleteFunc(o.reachable, gone)
		maps.DeleteFunc(o.otherCall, gone)
		// Last: an operator removed above no longer rings (or holds) the
		// phone it passed on.
		for _, op := range ops {
			o.apply(o.setReachable(op.ID, o.reachable[op.Endpoint], false, now))
		}
	})
}

// OperatorPresence is a console operator's state to restore: available,
// or paused with a reason, since when (zero: unknown).
type OperatorPresence struct {
	OpID   string
	Paused bool
	Reason string
	Since  time.Time
	// Wrap, when set, is the wrap-up an available operator was in: it
	// goes on unless it has ended by now (acd.Core.RestoreWrapUp).
	Wrap *acd.WrapUpState
}

// Restore gives operators back the states they had before a restart, in
// one step (one message to the owner, however many operators).
func (o *Owner) Restore(states []OperatorPresence) {
	o.do(func() {
		now := o.clock.Now()
		for _, p := range states {
			var acts []acd.Action
			switch {
			case p.Paused:
				acts = o.core.Pause(p.OpID, p.Reason, now)
			case p.Wrap != nil:
				acts = o.core.RestoreWrapUp(p.OpID, *p.Wrap, now)
				switch {
				case len(acts) > 0:
				case p.Wrap.Pause != "": // over by now: the break asked for on the call
					acts = o.core.Pause(p.OpID, p.Wrap.Pause, now)
				default:
					acts = o.core.SetAvailable(p.OpID, now)
				}
			default:
				acts = o.core.SetAvailable(p.OpID, now)
			}
			o.apply(acts)
			// The wallboard's time in state counts from before the
			// restart (a 40-minute break is not 0:00 after it); routing
			// keeps the core's own times.
			if !p.Since.IsZero() && p.Since.Before(now) {
				o.restored[p.OpID] = restoredSince{at: now, since: p.Since}
			}
		}
	})
}

// SetAvailable makes an operator available (console: ready for calls).
func (o *Owner) SetAvailable(opID string) {
	o.do(func() { o.apply(o.core.SetAvailable(opID, o.clock.Now())) })
}

// Pause pauses an operator with a reason (console: break, meeting...).
func (o *Owner) Pause(opID, reason string) {
	o.do(func() { o.apply(o.core.Pause(opID, reason, o.clock.Now())) })
}

// Logout takes an operator out of routing (console logout), after their
// call and wrap-up if they are on one.
func (o *Owner) Logout(opID string) {
	o.do(func() { o.apply(o.core.Logout(opID, o.clock.Now())) })
}

// EndWrapUp ends an operator's wrap-up early.
func (o *Owner) EndWrapUp(opID string) {
	o.do(func() { o.apply(o.core.EndWrapUp(opID, o.clock.Now())) })
}

// HoldWrapUp: callID's message is open, unsaved, in the operator's
// console (acd.Core.HoldWrapUp).
func (o *Owner) HoldWrapUp(opID, callID string) {
	o.do(func() { o.apply(o.core.HoldWrapUp(opID, callID, o.clock.Now())) })
}

// ReleaseWrapUp: callID's message is saved (acd.Core.ReleaseWrapUp).
func (o *Owner) ReleaseWrapUp(opID, callID string) {
	o.do(func() { o.apply(o.core.ReleaseWrapUp(opID, callID, o.clock.Now())) })
}

// ExtendWrapUp gives an operator more wrap-up time.
func (o *Owner) ExtendWrapUp(opID string, d time.Duration) {
	o.do(func() { o.apply(o.core.ExtendWrapUp(opID, d, o.clock.Now())) })
}

// SetReachable reports whether a softphone can be rung (registered, and
// answering Asterisk's qualify). An operator who does not use the console
// (Manual false) is available whenever the softphone is reachable; after
// an auto-pause for unanswered rings only once it registers again
// (Registered): a phone back after a network blip (a qualify that failed,
// then answered) is no operator back at the desk. Console users choose in
// the console.
func (o *Owner) SetReachable(endpoint string, reachable bool) {
	o.do(func() {
		o.reachable[endpoint] = reachable
		if id, ok := o.byEP[endpoint]; ok {
			o.apply(o.setReachable(id, reachable, false, o.clock.Now()))
		}
	})
}

// Registered reports that a softphone registered (a contact Asterisk did
// not have): how an operator without the console, auto-paused for
// unanswered rings, says they are back.
func (o *Owner) Registered(endpoint string) {
	o.do(func() {
		if id, ok := o.byEP[endpoint]; ok && o.reachable[endpoint] {
			o.apply(o.setReachable(id, true, true, o.clock.Now()))
		}
	})
}

// SetOtherCall reports whether a softphone has a call that is not the
// queue's (the operator placed it: a customer called back). Its operator
// is not rung until it ends.
func (o *Owner) SetOtherCall(endpoint string, busy bool) {
	o.do(func() {
		if busy {
			o.otherCall[endpoint] = true
		} else {
			delete(o.otherCall, endpoint)
		}
		if id, ok := o.byEP[endpoint]; ok {
			o.apply(o.core.SetOtherCall(id, busy, o.clock.Now()))
		}
	})
}

// setReachable tells the core; an operator without the console is made
// available when reachable and offline, or, when their phone has just
// registered (registered), auto-paused for unanswered rings.
func (o *Owner) setReachable(id string, reachable, registered bool, now time.Time) []acd.Action {
	if o.phoneTakenFrom(id) && !o.onAPhone(id) {
		// Another operator's call is on this phone, or rings it. (An
		// operator ringing or talking on their previous phone keeps that:
		// telling the core they are unreachable would cancel their ring;
		// their reachability is looked at again when it ends.)
		reachable = false
	}
	acts := o.core.SetReachable(id, reachable, now)
	if v, ok := o.core.LookupOperator(id); ok && reachable && !o.manual[id] &&
		(v.State == acd.Offline || registered && v.State == acd.Paused && v.PauseReason == acd.ReasonNoAnswer) {
		acts = append(acts, o.core.SetAvailable(id, now)...)
	}
	return acts
}

// Snapshot returns the core's view for wallboards and tests.
func (o *Owner) Snapshot(ctx context.Context) (acd.Snapshot, error) {
	res := make(chan acd.Snapshot, 1)
	select {
	case o.in <- func() { res <- o.withRestoredSince(o.core.Snapshot(o.clock.Now())) }:
	case <-ctx.Done():
		return acd.Snapshot{}, ctx.Err()
	case <-o.stopped:
		return acd.Snapshot{}, ErrStopped
	}
	select {
	case s := <-res:
		return s, nil
	case <-ctx.Done():
		return acd.Snapshot{}, ctx.Err()
	case <-o.stopped:
		// Run may have taken f and answered as it stopped.
		select {
		case s := <-res:
			return s, nil
		default:
			return acd.Snapshot{}, ErrStopped
		}
	}
}

// withRestoredSince shows the operators still in a state Restore gave back
// since the time they entered it before the restart.
func (o *Owner) withRestoredSince(s acd.Snapshot) acd.Snapshot {
	for i, op := range s.Operators {
		r, ok := o.restored[op.ID]
		if !ok {
			continue
		}
		if op.Since.Equal(r.at) {
			s.Operators[i].Since = r.since
		} else {
			delete(o.restored, op.ID) // in another state since
		}
	}
	return s
}

// apply turns the core's actions into messages for call inboxes.
func (o *Owner) apply(acts []acd.Action) {
	for _, a := range acts {
		if o.onAction != nil {
			o.onAction(a)
		}
		switch v := a.(type) {
		case acd.Ring:
			o.rungOn[v.OpID] = o.endpoints[v.OpID]
			o.send(v.CallID, &RingOperator{message: msg("ToritsugiRing"), OpID: v.OpID, Ring: v.Seq, Endpoint: o.endpoints[v.OpID], Timeout: v.Timeout})
		case acd.CancelRing:
			o.send(v.CallID, &CancelRing{message: msg("ToritsugiCancelRing"), OpID: v.OpID, Ring: v.Seq, Reason: v.Reason})
		case acd.Connect:
			o.phoneBusy(v.CallID, v.OpID, o.rungOn[v.OpID])
			delete(o.rungOn, v.OpID)
			o.send(v.CallID, &Connect{message: msg("ToritsugiConnect"), OpID: v.OpID, Ring: v.Seq})
		case acd.Overflow:
			o.send(v.CallID, &Overflow{message: msg("ToritsugiOverflow"), Reason: v.Reason})
		case acd.Announce:
			o.send(v.CallID, &Announce{message: msg("ToritsugiAnnounce"), Position: v.Position, ExpectedWait: v.ExpectedWait})
		case acd.OperatorStateChanged:
			o.log.Info("operator state", "operator", v.OpID, "from", v.From, "to", v.To, "reason", v.Reason)
			if v.From == acd.Ringing && v.To != acd.OnCall && v.To != acd.Ringing {
				o.ringEnded(v.OpID)
			}
			if o.onChange != nil {
				o.onChange(v)
			}
		}
	}
}

// phoneTakenFrom reports whether operator id's phone carries another
// operator's call, or rings for another operator (a reload gave it to id
// during that ring).
func (o *Owner) phoneTakenFrom(id string) bool {
	ep := o.endpoints[id]
	if pc, ok := o.inUse[ep]; ok && pc.opID != id {
		return true
	}
	for other, rung := range o.rungOn {
		if other == id || rung != ep {
			continue
		}
		if v, ok := o.core.LookupOperator(other); ok && v.State == acd.Ringing {
			return true
		}
	}
	return false
}

// onAPhone reports whether operator id is ringing or on a call.
func (o *Owner) onAPhone(id string) bool {
	v, ok := o.core.LookupOperator(id)
	return ok && (v.State == acd.Ringing || v.State == acd.OnCall)
}

// ringEnded: operator opID's ring ended other than by a connect. If the
// phone it rang is another operator's now, they are reachable as the
// phone is; and opID's own phone (another, after a reload) may be taken.
func (o *Owner) ringEnded(opID string) {
	ep, ok := o.rungOn[opID]
	if !ok {
		return
	}
	delete(o.rungOn, opID)
	o.phoneChanged(ep, opID)
}

// phoneChanged looks again at who may use phone ep, whose ring or call
// for operator was has ended: its owner now, and was's own phone.
func (o *Owner) phoneChanged(ep, was string) {
	now := o.clock.Now()
	if owner, ok := o.byEP[ep]; ok && owner != was {
		o.apply(o.setReachable(owner, o.reachable[ep], false, now))
	}
	if mine, ok := o.endpoints[was]; ok && mine != ep {
		o.apply(o.setReachable(was, o.reachable[mine], false, now))
	}
}

// phoneBusy notes that call callID is connected to operator opID on phone
// ep ("": the operator's). If the phone is another operator's now, they
// count as unreachable until the call ends.
func (o *Owner) phoneBusy(callID, opID, ep string) {
	if ep == "" {
		ep = o.endpoints[opID]
	}
	if ep == "" {
		return
	}
	o.inUse[ep] = phoneCall{callID: callID, opID: opID}
	o.phoneOf[callID] = ep
	if owner, ok := o.byEP[ep]; ok && owner != opID {
		o.apply(o.setReachable(owner, o.reachable[ep], false, o.clock.Now()))
	}
}

// phoneFree notes that call callID has ended. If its phone has passed to
// another operator meanwhile, that operator is reachable as the phone is.
func (o *Owner) phoneFree(callID string) {
	ep, ok := o.phoneOf[callID]
	if !ok {
		return
	}
	delete(o.phoneOf, callID)
	pc := o.inUse[ep]
	if pc.callID != callID {
		return // the phone carries a later call
	}
	delete(o.inUse, ep)
	o.phoneChanged(ep, pc.opID)
}

func (o *Owner) send(callID string, m ari.Event) {
	if in, ok := o.calls[callID]; ok {
		in.Push(m)
		return
	}
	o.log.Debug("queue action for a call that has gone", "call", callID, "action", m.GetType())
}
