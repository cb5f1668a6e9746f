// Package call runs toritsugi's calls: a Manager creates one actor per
// inbound call when its StasisStart is dispatched (or when a restarted
// controller finds the channel in its application) and the actor turns the
// call's flow into ARI commands, ending every call with a stored record.
package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Recorder stores finished calls and, until a call's record is stored,
// the call's state (store.Store).
type Recorder interface {
	// PutCall stores a call's record and forgets its live state.
	PutCall(store.CallRecord) error
	// PutCallIfAbsent stores a record only if none has its id, and
	// reports whether it did: a call pieced together after a restart must
	// not replace the whole record its own controller may have stored.
	// The call's live state goes either way.
	PutCallIfAbsent(store.CallRecord) (bool, error)
	// SaveLive keeps a call's state (LiveState) until its record is
	// stored, without blocking the call.
	SaveLive(id, state string)
	// SaveLiveSeen records that the calls were watched until at.
	SaveLiveSeen(at time.Time)
	// LiveCalls returns the live states kept (calls in progress, and
	// calls that ended while no controller ran) and the last time saved
	// by SaveLiveSeen.
	LiveCalls() (calls map[string]string, seen time.Time, err error)
	// DropLive forgets a live state that cannot be recorded.
	DropLive(id string) error
	// Call returns the stored record of a call (store.ErrNotFound if
	// none).
	Call(id string) (store.CallRecord, error)
	// PutCallIfUnknown stores a record only if neither a record nor a
	// live state of the call exists, and reports whether it did.
	PutCallIfUnknown(store.CallRecord) (bool, error)
}

// Deps are what the manager needs.
type Deps struct {
	ARI        ari.Client
	Dispatcher *pbx.Dispatcher
	Config     func() *config.Config
	Recorder   Recorder
	Clock      Clock
	Logger     *slog.Logger
	// Queue routes calls to operators; nil means greeting-only (answer,
	// greet, hang up), as used by tests of the greeting path.
	Queue *queue.Owner
	// App is the Stasis application operator legs are originated into.
	App string
	// OnFinished is told every call record after it was stored (relaying
	// missed calls and voicemails). It runs on the call's goroutine.
	OnFinished func(store.CallRecord)
	// Callbacks stores callback requests (overflow: callback).
	Callbacks CallbackStore
	// OnConnected is told when a caller is bridged with an operator (the
	// console's screen pop). It runs on the call's goroutine: keep it quick.
	OnConnected func(Connected)
	// GreetingTimeout bounds a greeting whose playback never reports its end
	// (Asterisk never finishes a playback of an unknown media scheme).
	GreetingTimeout time.Duration
	// CallbackConfirmWait is how long a callback offer waits for the
	// caller's 1 or 2 once it has played; 0: 10 s.
	CallbackConfirmWait time.Duration
	// AddToBridge, when set, adds caller and operator to their bridge in
	// one request (pbx.Link.AddToBridge); otherwise one request each.
	AddToBridge func(bridgeID string, channelIDs ...string) error
	// NoChannel, when set, is told the endpoint of an operator whose phone
	// Asterisk could not ring (originate answered 500, "Allocation
	// failed": no contact). The queue takes that operator out of routing;
	// whoever tracks reachability must bring them back (the controller
	// reads the endpoint's state again).
	NoChannel func(endpoint string)
	// Observer, when set, is told when a call starts handling each event
	// (latency measurement).
	Observer pbx.Observer
	// Deployment is the deployment id (store.DeploymentID), in the names
	// of the calls' recordings ("": none).
	Deployment string
	// RecordRetry is the first wait before call records the store failed
	// to take are stored again; 0: 1 s.
	RecordRetry time.Duration
}

// Connected describes a caller just bridged with an operator.
type Connected struct {
	CallID, OperatorID, ClientID string
	// CallerNumber is the caller id as received; KnownName the contact
	// name from the client's caller rules ("" if none).
	CallerNumber, KnownName string
	// VIP and Known: the caller matched one of the client's caller rules
	// with action vip (the client has no transfer_to, or did not take the
	// transfer) or known.
	VIP, Known bool
	Waited     time.Duration
	At         time.Time
	// Client is the client as the call knew it (the configuration it came
	// in under): a reload may have removed it since.
	Client *config.Client
}

// Manager owns the set of live call actors.
type Manager struct {
	ctx             context.Context
	ari             ari.Client
	disp            *pbx.Dispatcher
	cfg             func() *config.Config
	rec             Recorder
	queue           *queue.Owner
	onConnected     func(Connected)
	callbacks       CallbackStore
	onFinished      func(store.CallRecord)
	observer        pbx.Observer
	app             string
	clock           Clock
	log             *slog.Logger
	greetingTimeout time.Duration
	confirmWait     time.Duration
	addToBridge     func(bridgeID string, channelIDs ...string) error
	noChannel       func(endpoint string)

	// instance distinguishes ids this manager chooses from a predecessor's.
	instance string
	// recordingTag ends the names of the calls' recordings: the
	// deployment id, when there is one, and instance (RecordingName).
	recordingTag string
	// liveRead: the live states a predecessor left were read (only the
	// link goroutine, in adopt and LinkState, touches it).
	liveRead bool
	// watching: the ARI link is up, so the calls are watched (LinkState).
	watching atomic.Bool
	// seenEvery is liveSeenEvery (shorter in tests).
	seenEvery time.Duration

	// failed are the records waiting to be stored again, first after
	// recordRetry.
	failed      failedRecords
	recordRetry time.Duration

	wg    sync.WaitGroup
	mu    sync.Mutex
	calls map[string]*actor
	// looseLegs: operator legs of rings whose call ended before them (the
	// caller hung up while they rang), by channel id; their end, which no
	// actor owns, tells the queue that the operator's phone is free.
	looseLegs map[string]looseLeg
	// legTags counts the legs the queue did not ring that it is told of
	// (foreignLeg).
	legTags atomic.Uint64
}

// looseLeg is a ring's leg left behind by its call (watchLooseLeg).
type looseLeg struct {
	callID, opID string
	ring         uint64
	at           time.Time
}

// looseLegKeep bounds how long a loose leg is watched: its end may never
// be seen (the link dropped meanwhile), and the queue has long stopped
// waiting for it (acd.LegGoneWait).
const looseLegKeep = time.Minute

// NewManager returns a manager whose actors live until ctx ends. Install its
// Hooks in the dispatcher before the link runs.
func NewManager(ctx context.Context, d Deps) *Manager {
	if d.Clock == nil {
		d.Clock = RealClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.App == "" {
		d.App = "toritsugi"
	}
	if d.GreetingTimeout <= 0 {
		d.GreetingTimeout = 2 * time.Minute
	}
	if d.CallbackConfirmWait <= 0 {
		d.CallbackConfirmWait = callbackConfirmWait
	}
	if d.RecordRetry <= 0 {
		d.RecordRetry = recordRetryFirst
	}
	instance := newInstanceToken()
	return &Manager{
		ctx: ctx, ari: d.ARI, disp: d.Dispatcher, cfg: d.Config, rec: d.Recorder, queue: d.Queue, app: d.App, onConnected: d.OnConnected, callbacks: d.Callbacks, onFinished: d.OnFinished,
		clock: d.Clock, log: d.Logger, greetingTimeout: d.GreetingTimeout, confirmWait: d.CallbackConfirmWait, addToBridge: d.AddToBridge, noChannel: d.NoChannel,
		observer: d.Observer, recordRetry: d.RecordRetry,
		calls: map[string]*actor{}, instance: instance, recordingTag: recordingTag(d.Deployment, instance), seenEvery: liveSeenEvery,
	}
}

// Hooks returns the dispatcher hooks that create actors.
func (m *Manager) Hooks() pbx.Hooks {
	return pbx.Hooks{NewChannel: m.newChannel, Adopt: m.adopt, Other: m.unowned}
}

// unowned sees the events no actor owns: the end of a loose leg (see
// looseLegs) is told to the queue. The StasisEnd of an inbound call
// that never had an actor is a call this controller never saw: it entered
// Stasis as the event link dropped (its StasisStart went to the dying
// websocket) and the caller hung up before the re-sync could read the
// channel. It is recorded as a caller who hung up before the answer (once:
// a call that had an actor has its record already).
func (m *Manager) unowned(e ari.Event) {
	switch v := e.(type) {
	case *ari.ChannelDestroyed:
		m.looseLegGone(v.Channel.ID)
		return
	case *ari.StasisEnd:
		m.looseLegGone(v.Channel.ID)
	}
	se, ok := e.(*ari.StasisEnd)
	if !ok || se.Channel.Dialplan == nil {
		return
	}
	ch := se.Channel
	args, err := argsFromAppData(ch.Dialplan.AppData)
	if err != nil || args.Leg != LegInbound {
		return
	}
	m.mu.Lock()
	_, mine := m.calls[ch.ID]
	m.mu.Unlock()
	// A call whose record waits to be stored again (the disk failed) is
	// ours: its late StasisEnd must not record it as never seen.
	if mine || m.failed.has(ch.ID) || m.ctx.Err() != nil {
		return
	}
	m.wg.Add(1)
	go func() { // off the dispatcher goroutine
		defer m.wg.Done()
		m.recordNeverSeen(ch, args)
	}()
}

// watchLooseLeg remembers leg id of operator opID's ring of call callID,
// which the call's actor hangs up as it ends (see looseLegs).
func (m *Manager) watchLooseLeg(id, callID, opID string, ring uint64) {
	if m.queue == nil {
		return
	}
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.looseLegs == nil {
		m.looseLegs = map[string]looseLeg{}
	}
	for k, l := range m.looseLegs {
		if now.Sub(l.at) > looseLegKeep {
			delete(m.looseLegs, k)
		}
	}
	m.looseLegs[id] = looseLeg{callID: callID, opID: opID, ring: ring, at: now}
}

// looseLegGone: channel id has left; if it is a loose leg, the queue is
// told (acd.Core.RingLegGone).
func (m *Manager) looseLegGone(id string) {
	m.mu.Lock()
	l, ok := m.looseLegs[id]
	delete(m.looseLegs, id)
	m.mu.Unlock()
	if ok {
		m.queue.RingLegGone(l.callID, l.opID, l.ring)
	}
}

// foreignLeg names a leg of an operator's phone that this controller's
// queue did not ring (one left over from before a restart, the leg of a
// call re-adopted connected): queue.Owner.AwaitLeg and RingLegGone know
// it by this number, never one of the queue's own ring numbers.
func (m *Manager) foreignLeg() uint64 { return acd.ForeignLeg | m.legTags.Add(1) }

// hangupLeftOverLeg hangs up leg id, left over from before a restart
// (still ringing, or answered and not bridged). If it is an operator's,
// the queue, which did not ring it, is told that their phone has it
// until it is gone (its end is an event no actor owns, see looseLegs):
// rung at once, the new ring's originate met a phone still in the old
// leg, which without call waiting refuses it (486), a no-answer the
// operator never earned.
func (m *Manager) hangupLeftOverLeg(log *slog.Logger, id string) {
	callID, opID, watched := operatorLegOf(id)
	watched = watched && m.queue != nil
	if watched {
		seq := m.foreignLeg()
		m.watchLooseLeg(id, callID, opID, seq)
		m.queue.AwaitLeg(opID, seq)
	}
	if m.hangupChannelGone(log, id, "normal") && watched {
		m.looseLegGone(id) // gone already
	}
}

// recordNeverSeen records an inbound call that ended before this
// controller could see it (see unowned), unless the store knows the call:
// a record, or a live state (a predecessor's call being recorded from
// it, or one of ours whose record is being stored again).
func (m *Manager) recordNeverSeen(ch ari.ChannelData, args Args) {
	cl, ok := m.config().ClientByDID(args.DID)
	if !ok {
		return // no client: nothing to count
	}
	if _, err := m.rec.Call(ch.ID); err == nil {
		return // recorded (a late event of a call we saw): no write
	}
	now := m.clock.Now()
	started, ok := channelCreated(&ch, now)
	if !ok {
		started = now
	}
	number := ""
	if ch.Caller != nil {
		number = phone.FromChannel(ch.Caller.Number, ch.Caller.Name)
	}
	rec := unseenRecord(ch.ID, number, Persisted{ClientID: cl.ID, DID: args.DID, StartedAt: started}, now)
	rec.Result, rec.Reason = store.ResultAbandoned, "caller hung up before the answer, while the ARI link was down"
	rec.Events = []store.CallEvent{{At: now, What: "ended before this controller saw it: its StasisStart was lost with the event link"}}
	stored, err := m.rec.PutCallIfUnknown(rec)
	switch {
	case err != nil:
		m.log.Error("recording a call that ended unseen failed", "call", ch.ID, "error", err)
	case stored:
		m.log.Warn("recorded a call that ended before this controller saw it", "call", ch.ID, "client", cl.ID)
		if m.onFinished != nil {
			m.onFinished(rec)
		}
	}
}

// channelCreated is when Asterisk created channel ch, when it says and
// that is before now (Asterisk's clock may run ahead of ours).
func channelCreated(ch *ari.ChannelData, now time.Time) (time.Time, bool) {
	t := ch.Creationtime
	if t == nil || t.Seconds <= 0 {
		return time.Time{}, false
	}
	at := time.Unix(t.Seconds, int64(t.Nanos))
	return at, at.Before(now)
}

// Active reports the number of live calls.
func (m *Manager) Active() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

// Wait blocks until every actor has returned (after ctx ended or calls ended).
func (m *Manager) Wait() { m.wg.Wait() }

// newChannel runs on the dispatcher goroutine for a StasisStart nobody owns.
func (m *Manager) newChannel(e *ari.StasisStart) *pbx.Inbox {
	args, err := ParseArgs(e.Args)
	if err != nil || args.Leg != LegInbound {
		// Not a call we can own (e.g. an operator leg of a call that no
		// longer exists): hang it up off the dispatcher goroutine.
		m.log.Warn("hanging up channel nobody owns", "channel", e.Channel.ID, "args", e.Args)
		id := e.Channel.ID
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			_ = m.ari.Channel().Hangup(ari.NewKey(ari.ChannelKey, id), "normal")
		}()
		return nil
	}
	if m.ctx.Err() != nil {
		// The controller is stopping: Asterisk, which still had our
		// websocket, put the call in Stasis. No actor would run; the
		// next controller finds its state.
		m.keepUnbegun(e)
		return nil
	}
	a := m.newActor(e.Channel.ID, nil)
	a.unbegun = e
	m.start(a) // the dispatcher binds the inbox before it unlocks
	return a.inbox
}

// keepUnbegun keeps, as the controller stops, the live state of an
// inbound call whose StasisStart e came too late for it to begin: a new
// call of the client of its DID, since the channel's creation. Adopted
// by the next controller if it is still there; recorded by it from this
// state if its caller hung up meanwhile (recordUnseen), where nobody
// would see that call at all otherwise. A DID read from the To header
// needs Asterisk: such a call is not kept.
func (m *Manager) keepUnbegun(e *ari.StasisStart) {
	args, err := ParseArgs(e.Args)
	if err != nil || args.Leg != LegInbound || args.DIDInTo {
		return
	}
	cl, ok := m.config().ClientByDID(args.DID)
	if !ok {
		return
	}
	now := m.clock.Now()
	if at, ok := channelCreated(&e.Channel, now); ok {
		now = at
	}
	number := ""
	if e.Channel.Caller != nil {
		number = phone.FromChannel(e.Channel.Caller.Number, e.Channel.Caller.Name)
	}
	m.rec.SaveLive(e.Channel.ID, LiveState(number, Persisted{DID: args.DID, Step: StepNew, StartedAt: now, ClientID: cl.ID}))
	m.log.Info("a call came as the controller stopped: left to the next one", "call", e.Channel.ID, "client", cl.ID)
}

// adopt runs on the link goroutine with our application's unowned
// channels and every bridge after a (re)connect. A caller in a bridge
// named for it talks with the peer the name gives (BridgeName). Bridges
// named for a call that no channel of ours carries any more (it ended
// while no controller watched) are destroyed once the call is recorded;
// so are recorded, at the first connect, calls a predecessor kept a live
// state of whose channel is gone (unseen.go).
func (m *Manager) adopt(orphans []*ari.ChannelData, bridges []*ari.BridgeData) {
	in := map[string]*ari.BridgeData{}      // channel id → the bridge it is in
	named := map[string][]*ari.BridgeData{} // call id → bridges named for it
	for _, b := range bridges {
		for _, id := range b.ChannelIDs {
			in[id] = b
		}
		if p, ok := parseBridgeName(b.Name); ok && p.App == m.app {
			named[p.Call] = append(named[p.Call], b)
		}
	}
	live := make(map[string]bool, len(orphans))
	for _, ch := range orphans {
		live[ch.ID] = true
	}
	saved, seen := m.inheritedLive()
	m.mu.Lock()
	ended := map[string][]*ari.BridgeData{}
	for call, bs := range named {
		if !live[call] && m.calls[call] == nil {
			ended[call] = bs
		}
	}
	adopted := map[string]string{} // live states of the calls re-adopted below
	bridged := map[string]string{} // and of the ended calls a bridge names
	for call, st := range saved {
		switch {
		case m.calls[call] != nil: // ours
		case live[call]:
			adopted[call] = st
		case ended[call] != nil:
			bridged[call] = st
		default:
			continue
		}
		delete(saved, call)
	}
	m.mu.Unlock()
	if len(ended) > 0 {
		m.wg.Add(1)
		go func() { // off the link goroutine
			defer m.wg.Done()
			for call, bs := range ended {
				m.endedUnseen(bs, live, bridged[call], seen)
			}
		}()
	}
	for call, st := range saved {
		m.wg.Add(1)
		go func() { // one each: a voicemail Asterisk cannot tell about must not hold up the others
			defer m.wg.Done()
			m.recordUnseen(call, st, seen)
		}()
	}
	var actors []*actor
	for _, ch := range orphans {
		if ch.Dialplan != nil && ch.Dialplan.AppName == "AppDial2" {
			// A leg we originated (to an operator, to a client), still
			// ringing (recording 05), whose call no actor owns: left, it
			// would ring until its originate timeout while the
			// re-adopted call rings the same phone again. An answer
			// would only be hung up as nobody's.
			m.log.Info("hanging up a ringing leg left over from before", "leg", ch.ID)
			m.hangupLeftOverLeg(m.log, ch.ID)
			continue
		}
		if ch.Dialplan == nil || ch.Dialplan.AppName != "Stasis" {
			continue // not ours to end
		}
		if _, err := argsFromAppData(ch.Dialplan.AppData); err != nil {
			continue
		}
		a := m.newActor(ch.ID, ch)
		a.bridgeIn, a.bridgesFor, a.saved = in[ch.ID], named[ch.ID], adopted[ch.ID]
		if p, ok := a.bridgedPeer(); ok {
			a.peerLive = live[p.State.OpChannel]
		}
		actors = append(actors, a)
	}
	m.holdWhileAdopting(actors)
	for _, a := range actors {
		m.disp.BindChannel(a.id, a.inbox) // before it runs: release unbinds
		m.start(a)
	}
}

// adoptHoldMax bounds how long re-adopting calls may hold up ringing.
const adoptHoldMax = 5 * time.Second

// holdWhileAdopting holds the queue's ringing until every actor of as has
// re-adopted its call (back in line, back on its call, or ended), or for
// adoptHoldMax: each reads its saved state first, and an operator free
// meanwhile would go to whichever waiting caller was back in line first,
// not to the oldest.
func (m *Manager) holdWhileAdopting(as []*actor) {
	if m.queue == nil || len(as) == 0 {
		return
	}
	m.queue.Hold()
	var once sync.Once
	release := func() {
		once.Do(func() {
			if m.ctx.Err() == nil {
				m.queue.Release()
			}
		})
	}
	guard := time.AfterFunc(adoptHoldMax, func() {
		m.log.Warn("re-adopted calls not all back in line in time: ringing resumes", "calls", len(as), "after", adoptHoldMax)
		release()
	})
	var left atomic.Int64
	left.Store(int64(len(as)))
	for _, a := range as {
		a.onAdopted = func() {
			if left.Add(-1) == 0 {
				guard.Stop()
				release()
			}
		}
	}
}

// inheritedLive returns, at the first connect only, the live states a
// previous controller left in the store and until when it watched them
// (Recorder.LiveCalls): at that point every call of ours is either a
// channel in our application or ended. If reading them fails, the next
// connect tries again. From then on, while the link is up, this
// controller records that it watches the calls (watchLive, LinkState).
func (m *Manager) inheritedLive() (map[string]string, time.Time) {
	if m.liveRead {
		return nil, time.Time{}
	}
	saved, seen, err := m.rec.LiveCalls()
	if err != nil {
		m.log.Error("reading the saved states of calls failed: calls that ended while no controller ran are recorded at the next connect", "error", err)
		return nil, time.Time{}
	}
	m.liveRead = true
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.watchLive()
	}()
	return saved, seen
}

// liveSeenEvery is how often a controller records that it watches the
// calls. A caller found gone after a restart hung up after the time last
// recorded, which is at most this long before the controller stopped
// watching (it stopped, or its link went down).
const liveSeenEvery = 5 * time.Second

// watchLive records, while the link is up and until the manager's
// context ends, that the calls are watched.
func (m *Manager) watchLive() {
	tick := time.NewTicker(m.seenEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if m.watching.Load() && m.Active() > 0 { // no call: nothing to bound (and no fsync)
				m.rec.SaveLiveSeen(m.clock.Now())
			}
		case <-m.ctx.Done():
			return
		}
	}
}

// LinkState is told when the ARI link goes up or down (pbx.Options.OnState,
// on the link goroutine): the calls are watched only while it is up, and
// the store learns until when they were. A call that ends while the link
// is down is seen by this controller when it comes back (pbx.Resync), but
// if the controller restarts first, its record is built from the store.
func (m *Manager) LinkState(up bool) {
	m.watching.Store(up)
	if m.liveRead { // not before the predecessor's time was read
		m.rec.SaveLiveSeen(m.clock.Now())
	}
}

// destroyBridge destroys bridge id; one already gone is fine.
func (m *Manager) destroyBridge(log *slog.Logger, id string) {
	del := func() error { return m.ari.Bridge().Delete(ari.NewKey(ari.BridgeKey, id)) }
	if err := del(); err != nil && !pbx.IsNotFound(err) {
		log.Warn("destroying the bridge failed; trying again", "bridge", id, "error", err)
		m.retryCleanup(log, "destroying the bridge", id, del)
	}
}

// hangupChannel hangs up a channel of a call (an operator's or the
// client's leg), trying again if Asterisk fails it: a leg left up would
// keep the operator's phone in a call nobody owns while the queue rings
// them for the next caller.
func (m *Manager) hangupChannel(log *slog.Logger, id, reason string) {
	m.hangupChannelGone(log, id, reason)
}

// hangupChannelGone is hangupChannel, and reports whether the channel
// had left already (404).
func (m *Manager) hangupChannelGone(log *slog.Logger, id, reason string) bool {
	hangup := func() error { return m.ari.Channel().Hangup(ari.NewKey(ari.ChannelKey, id), reason) }
	err := hangup()
	if err != nil && !pbx.IsNotFound(err) {
		log.Warn("hanging up a leg failed; trying again", "leg", id, "error", err)
		m.retryCleanup(log, "hanging up the leg", id, hangup)
	}
	return pbx.IsNotFound(err)
}

// cleanupTries bounds the tries of a cleanup that keeps failing, spaced 1
// s doubling to 30 s: 11 waits, 211 s in all.
const cleanupTries = 12

// retryCleanup tries do again, apart from the call's actor (which may
// have finished), until it works, the resource is gone (404), the tries
// run out or the manager stops.
func (m *Manager) retryCleanup(log *slog.Logger, what, id string, do func() error) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		delay := time.Second
		for try := 2; try <= cleanupTries; try++ {
			t := m.clock.NewTimer(delay)
			select {
			case <-m.ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
			err := do()
			if err == nil || pbx.IsNotFound(err) {
				log.Info(what+" worked on a later try", "id", id, "try", try)
				return
			}
			if try == cleanupTries {
				log.Error(what+" failed for good: it is left to Asterisk", "id", id, "tries", try, "error", err)
				return
			}
			delay = min(2*delay, 30*time.Second)
		}
	}()
}

// lateLegWaits space the hang-ups of a leg whose originate got no answer
// in time: Asterisk, busy, may create it after the first hang-up found
// nothing (404) and ring the operator's phone for the whole ring timeout,
// while the queue rings them again a second later. 7.75 s in all.
var lateLegWaits = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}

// hangupLateLeg hangs up leg id, whose originate got no answer in time,
// and again while Asterisk says it has no such channel (it may not have
// created it yet), apart from the call's actor. A hang-up that finds the
// leg ends it; one that fails otherwise is retried as any cleanup.
func (m *Manager) hangupLateLeg(log *slog.Logger, id string) {
	hangup := func() error { return m.ari.Channel().Hangup(ari.NewKey(ari.ChannelKey, id), "normal") }
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for i := 0; ; i++ {
			err := hangup()
			switch {
			case err == nil:
				if i > 0 {
					log.Warn("a leg Asterisk created after its originate timed out was hung up", "leg", id, "try", i+1)
				}
				return
			case !pbx.IsNotFound(err):
				log.Warn("hanging up a leg whose originate timed out failed; trying again", "leg", id, "error", err)
				m.retryCleanup(log, "hanging up the leg", id, hangup)
				return
			case i == len(lateLegWaits):
				return // never created
			}
			t := m.clock.NewTimer(lateLegWaits[i])
			select {
			case <-m.ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
		}
	}()
}

func (m *Manager) newActor(id string, adopted *ari.ChannelData) *actor {
	a := &actor{
		m: m, id: id, inbox: pbx.NewInbox(), adopted: adopted,
		log: m.log.With("call", id),
	}
	m.mu.Lock()
	m.calls[id] = a
	m.mu.Unlock()
	return a
}

func (m *Manager) start(a *actor) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		a.run(m.ctx)
	}()
}

// release forgets an actor that has returned.
func (m *Manager) release(a *actor) {
	m.disp.UnbindChannel(a.id, a.inbox)
	a.inbox.Close()
	m.mu.Lock()
	if m.calls[a.id] == a {
		delete(m.calls, a.id)
	}
	m.mu.Unlock()
}

func newInstanceToken() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// config returns the running configuration.
func (m *Manager) config() *config.Config { return m.cfg() }
