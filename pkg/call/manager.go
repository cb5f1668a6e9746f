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
	"slices"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Recorder stores finished calls (store.Store).
type Recorder interface {
	PutCall(store.CallRecord) error
	// PutCallIfAbsent stores a record only if none has its id, and
	// reports whether it did: a call pieced together after a restart must
	// not replace the whole record its own controller may have stored.
	PutCallIfAbsent(store.CallRecord) (bool, error)
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
	// AddToBridge, when set, adds caller and operator to their bridge in
	// one request (pbx.Link.AddToBridge); otherwise one request each.
	AddToBridge func(bridgeID string, channelIDs ...string) error
}

// Connected describes a caller just bridged with an operator.
type Connected struct {
	CallID, OperatorID, ClientID string
	// CallerNumber is the caller id as received; KnownName the contact
	// name from the client's caller rules ("" if none).
	CallerNumber, KnownName string
	Waited                  time.Duration
	At                      time.Time
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
	app             string
	clock           Clock
	log             *slog.Logger
	greetingTimeout time.Duration
	addToBridge     func(bridgeID string, channelIDs ...string) error

	// instance distinguishes ids this manager chooses from a predecessor's.
	instance string

	wg    sync.WaitGroup
	mu    sync.Mutex
	calls map[string]*actor
}

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
	return &Manager{
		ctx: ctx, ari: d.ARI, disp: d.Dispatcher, cfg: d.Config, rec: d.Recorder, queue: d.Queue, app: d.App, onConnected: d.OnConnected, callbacks: d.Callbacks, onFinished: d.OnFinished,
		clock: d.Clock, log: d.Logger, greetingTimeout: d.GreetingTimeout, addToBridge: d.AddToBridge,
		calls: map[string]*actor{}, instance: newInstanceToken(),
	}
}

// Hooks returns the dispatcher hooks that create actors.
func (m *Manager) Hooks() pbx.Hooks {
	return pbx.Hooks{NewChannel: m.newChannel, Adopt: m.adopt}
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
	a := m.newActor(e.Channel.ID, nil)
	m.start(a) // the dispatcher binds the inbox before it unlocks
	return a.inbox
}

// adopt runs on the link goroutine with our application's unowned
// channels and every bridge after a (re)connect. A caller in a bridge
// named for it talks with the peer the name gives (BridgeName). Bridges
// named for a call that no channel of ours carries any more (it ended
// while no controller watched) are destroyed.
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
	m.mu.Lock()
	ended := map[string][]*ari.BridgeData{}
	for call, bs := range named {
		if !live[call] && m.calls[call] == nil {
			ended[call] = bs
		}
	}
	m.mu.Unlock()
	if len(ended) > 0 {
		m.wg.Add(1)
		go func() { // off the link goroutine
			defer m.wg.Done()
			for _, bs := range ended {
				m.endedUnseen(bs, live)
			}
		}()
	}
	for _, ch := range orphans {
		if ch.Dialplan == nil || ch.Dialplan.AppName != "Stasis" {
			continue // an originated leg whose call is gone; it ends by itself
		}
		if _, err := argsFromAppData(ch.Dialplan.AppData); err != nil {
			continue
		}
		a := m.newActor(ch.ID, ch)
		a.bridgeIn, a.bridgesFor = in[ch.ID], named[ch.ID]
		if p, ok := a.bridgedPeer(); ok {
			a.peerLive = live[p.State.OpChannel]
		}
		m.disp.BindChannel(ch.ID, a.inbox) // before it runs: release unbinds
		m.start(a)
	}
}

// destroyBridge destroys bridge id; one already gone is fine.
func (m *Manager) destroyBridge(log *slog.Logger, id string) {
	if err := m.ari.Bridge().Delete(ari.NewKey(ari.BridgeKey, id)); err != nil && !pbx.IsNotFound(err) {
		log.Warn("destroying the bridge failed", "bridge", id, "error", err)
	}
}

// endedUnseen destroys the bridges bs of a call that ended while no
// controller watched (the caller hung up meanwhile: Asterisk keeps a
// Stasis bridge until it is destroyed) and records the call from what the
// name of the bridge it talked in says (the one with the peer's leg, else
// the last), unless a record of it exists: its own controller may have
// stored the whole record and then failed to destroy the bridge. live
// holds the channels of our application.
func (m *Manager) endedUnseen(bs []*ari.BridgeData, live map[string]bool) {
	var talkedIn *ari.BridgeData
	for _, b := range bs {
		p, _ := parseBridgeName(b.Name)
		if talkedIn == nil || slices.Contains(b.ChannelIDs, p.State.OpChannel) {
			talkedIn = b
		}
		m.log.Info("destroying the bridge of a call that ended while no controller watched", "call", p.Call, "bridge", b.ID)
		m.destroyBridge(m.log, b.ID)
	}
	p, _ := parseBridgeName(talkedIn.Name)
	st := p.State
	now := m.clock.Now()
	rec := store.CallRecord{
		ID: p.Call, ClientID: st.ClientID, DID: st.DID, CallerID: p.CallerNumber,
		CallerKind: phone.ParseCallerID(p.CallerNumber).Kind.String(), StartedAt: st.StartedAt, EndedAt: now,
		Result: store.ResultAnswered, Reason: "talked with " + st.OpID, OperatorID: st.OpID, Billable: true,
	}
	what := "ended while no controller watched: found its bridge after a restart"
	switch {
	case slices.Contains(talkedIn.ChannelIDs, st.OpChannel):
		// The peer is still in the bridge: the caller left it, talking.
	case live[st.OpChannel]:
		// The peer is up but never joined: the caller hung up before the
		// bridge was made.
		rec.Result, rec.Reason, rec.Billable = store.ResultAbandoned, "caller hung up before being bridged with "+st.OpID, false
		if !st.EnqueuedAt.IsZero() {
			rec.WaitMS = now.Sub(st.EnqueuedAt).Milliseconds()
		}
	default:
		what += "; both had left, so whether they talked is not known"
	}
	if st.OpID == "" && rec.Result == store.ResultAnswered {
		rec.Result, rec.Reason = store.ResultTransferred, "transferred to the client"
	}
	rec.Events = []store.CallEvent{{At: now, What: what}}
	stored, err := m.rec.PutCallIfAbsent(rec)
	switch {
	case err != nil:
		m.log.Error("storing the record of a call that ended unseen failed", "call", p.Call, "error", err)
	case stored && m.onFinished != nil:
		m.onFinished(rec)
	}
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
