// Package controller assembles toritsugi's call-handling core: the ARI link
// and its dispatcher, the call actors, the queue that owns the routing core
// and the registry of reachable operator phones, and keeps them in step
// with configuration reloads. `serve`, `demo`, tests and benchmarks all
// build the same controller.
package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/operators"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/queue"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Options configure a controller.
type Options struct {
	// Config returns the running configuration (config.Store.Current).
	Config func() *config.Config
	// Updates delivers each configuration successfully reloaded (optional).
	Updates <-chan *config.Config
	// Recorder stores finished calls.
	Recorder call.Recorder
	// Callbacks stores callback requests (overflow: callback).
	Callbacks call.CallbackStore
	// Store, when set, enables recording retention (sweeps every
	// RetentionEvery, default 1h).
	Store          *store.Store
	RetentionEvery time.Duration
	// Deployment is the deployment id (store.DeploymentID): in the calls'
	// recordings' names, and the retention deletes recordings no record
	// names only of its own ("": none deleted so).
	Deployment string
	Logger     *slog.Logger
	// GreetingOnly answers, greets and hangs up without queueing.
	GreetingOnly bool
	// Backoff overrides the reconnect backoff (tests use short ones).
	Backoff pbx.Backoff
	// GreetingTimeout bounds playbacks that never report their end.
	GreetingTimeout time.Duration
	// CallbackConfirmWait is how long a callback offer waits for the
	// caller's key once played (0: 10 s).
	CallbackConfirmWait time.Duration
	// OnOperatorChange is told every operator state change.
	OnOperatorChange func(acd.OperatorStateChanged)
	// OnQueueAction sees every routing decision in order (tracing, tests).
	OnQueueAction func(acd.Action)
	// OnConnected is told when a caller is bridged with an operator.
	OnConnected func(call.Connected)
	// OnFinished is told every stored call record.
	OnFinished func(store.CallRecord)
	// Clock is the calls' clock (nil: the wall clock).
	Clock call.Clock
	// RecheckAfter is how long after Asterisk failed to ring an operator's
	// phone (no contact) its endpoint is read again (0: 5 s).
	RecheckAfter time.Duration
	// OtherCallRead is how often the phone of an operator on another call
	// is read again while it is (0: 15 s).
	OtherCallRead time.Duration
	// Observer, when set, is told where events' latency goes (benchmarks).
	Observer pbx.Observer
}

// Controller is the assembled core.
type Controller struct {
	Link      *pbx.Link
	Calls     *call.Manager
	Queue     *queue.Owner // nil when GreetingOnly
	Operators *operators.Registry

	opts     Options
	log      *slog.Logger
	rechecks rechecks

	// lastSettings holds each client's queue settings as the last
	// configuration that had it gave them: a caller of a client a
	// reload removed who reaches the queue afterwards (from the greeting,
	// a VIP transfer, back in line) still has its maximum wait and
	// announcements, not none (with no operator serving the client any
	// more, a caller without a maximum wait would wait forever).
	settingsMu   sync.Mutex
	lastSettings map[string]acd.ClientSettings
}

// New builds a controller whose call actors live until ctx ends.
func New(ctx context.Context, o Options) (*Controller, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := o.Config()
	c := &Controller{opts: o, log: o.Logger}
	if !o.GreetingOnly {
		c.Queue = queue.New(queue.Options{
			Settings:         c.settings,
			Logger:           o.Logger.With("part", "queue"),
			OnOperatorChange: o.OnOperatorChange,
			OnAction:         o.OnQueueAction,
		})
	}
	c.Operators = operators.NewRegistry(o.Logger.With("part", "operators"), func(ch operators.Change) {
		if c.Queue == nil {
			return
		}
		// Whatever keeps the phone from ringing first, whatever lets it
		// ring last, so that it rings for no caller in between: a phone
		// going away and its call ending, a phone registering with a
		// call of its own. Reachability only when it changed; a
		// registration, which ends an auto-pause, after it.
		if ch.ReachableChanged && !ch.Reachable {
			c.Queue.SetReachable(ch.Endpoint, false)
		}
		if ch.OtherCallChanged {
			c.Queue.SetOtherCall(ch.Endpoint, ch.OtherCall)
		}
		if ch.ReachableChanged && ch.Reachable {
			c.Queue.SetReachable(ch.Endpoint, true)
		}
		if ch.Registered && ch.Reachable {
			c.Queue.Registered(ch.Endpoint)
		}
		if ch.OtherCall {
			c.watchOtherCall(ch.Endpoint)
		}
	})
	c.Operators.SetOwnChannel(call.OwnChannel)
	disp := pbx.NewDispatcher(pbx.Hooks{}, o.Logger.With("part", "dispatch"))
	link, err := pbx.New(pbx.Options{
		URL: cfg.ARI.URL, User: cfg.ARI.User, Password: cfg.ARI.Password, App: cfg.ARI.App,
		RequestTimeout: cfg.ARI.RequestTimeout, PingInterval: cfg.ARI.PingInterval,
		Backoff: o.Backoff, OnConnect: c.Operators.OnConnect, Logger: o.Logger.With("part", "ari"),
		DisallowedEvents: call.UnreadEvents,
		OnState:          func(up bool) { c.Calls.LinkState(up) }, // c.Calls is set below, before the link runs
		Observer:         o.Observer,
	}, disp)
	if err != nil {
		return nil, err
	}
	c.Link = link
	c.Calls = call.NewManager(ctx, call.Deps{
		ARI: link.Client(), Dispatcher: disp, Config: o.Config, Recorder: o.Recorder,
		Queue: c.Queue, App: cfg.ARI.App, Logger: o.Logger.With("part", "call"),
		GreetingTimeout: o.GreetingTimeout, CallbackConfirmWait: o.CallbackConfirmWait, OnConnected: o.OnConnected, Callbacks: o.Callbacks, OnFinished: o.OnFinished,
		AddToBridge: link.AddToBridge, Clock: o.Clock, NoChannel: c.noChannel, Observer: o.Observer,
		Deployment: o.Deployment,
	})
	hooks := c.Calls.Hooks()
	hooks.Endpoint = c.Operators.HandleEvent
	disp.SetHooks(hooks)
	c.apply(cfg)
	return c, nil
}

// settings is the queue's view of a client's settings (read on every
// routing decision: precomputed by the config package).
func (c *Controller) settings(clientID string) acd.ClientSettings {
	if cl, ok := c.opts.Config().Client(clientID); ok {
		return cl.ACDSettings()
	}
	c.settingsMu.Lock()
	st, ok := c.lastSettings[clientID]
	c.settingsMu.Unlock()
	if !ok {
		// A client no configuration applied here had (added and removed
		// between two reloads): the defaults, so that its callers still
		// have a maximum wait.
		st = c.opts.Config().DefaultACDSettings()
	}
	return st
}

// keepSettings remembers the queue settings of cfg's clients (before
// cfg's operators are applied, so that a client removed by a later
// configuration keeps those its last one gave it).
func (c *Controller) keepSettings(cfg *config.Config) {
	c.settingsMu.Lock()
	defer c.settingsMu.Unlock()
	if c.lastSettings == nil {
		c.lastSettings = map[string]acd.ClientSettings{}
	}
	for _, cl := range cfg.Clients {
		c.lastSettings[cl.ID] = cl.ACDSettings()
	}
}

// apply installs a configuration's operators.
func (c *Controller) apply(cfg *config.Config) {
	c.keepSettings(cfg)
	eps := make([]string, 0, len(cfg.Operators))
	ops := make([]queue.Operator, 0, len(cfg.Operators))
	for _, op := range cfg.Operators {
		eps = append(eps, op.Endpoint)
		ops = append(ops, queue.Operator{ID: op.ID, Endpoint: op.Endpoint, Clients: op.Skills(), Manual: op.PasswordHash != ""})
	}
	c.Operators.Track(eps)
	if c.Queue != nil {
		c.Queue.SetOperators(ops)
		// Max wait, announcements and escalation of the callers waiting.
		c.Queue.SettingsChanged(func(id string) bool { _, ok := cfg.Client(id); return ok })
	}
}

// Run runs the link, the queue and the reload loop until ctx ends, then
// waits for the call actors to stop. It returns nil after a clean stop.
func (c *Controller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if c.Queue != nil {
		wg.Add(1)
		go func() { defer wg.Done(); c.Queue.Run(ctx) }()
	}
	if c.opts.Updates != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case cfg := <-c.opts.Updates:
					c.apply(cfg)
					// Newly tracked phones: read their state now rather
					// than at their next event.
					c.readPhones(ctx)
				}
			}
		}()
	}
	if c.opts.Store != nil {
		every := c.opts.RetentionEvery
		if every <= 0 {
			every = time.Hour
		}
		r := &Retention{Store: c.opts.Store, ARI: c.Link.Client(), Config: c.opts.Config, Deployment: c.opts.Deployment, Logger: c.log.With("part", "retention")}
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx, every) }()
	}
	_ = c.Link.Run(ctx)
	c.Calls.Wait()
	c.rechecks.stop()
	wg.Wait()
	return nil
}

// readPhones subscribes to the operators' phones and reads their state
// (after a reload tracked new ones), again every 5 s until it works: a
// phone whose read failed would wait for its next event, and a
// technology whose subscription failed would send none.
//
// While the link is down the failure is expected and said once, not every
// 5 s with each phone's error in it for as long as Asterisk is away. (It is
// still tried: a reload during a connect's own read of the phones, which
// took its list before, would otherwise never read the new ones.)
func (c *Controller) readPhones(ctx context.Context) {
	c.readPhonesTry(ctx, 1)
}

func (c *Controller) readPhonesTry(ctx context.Context, try int) {
	if err := c.Operators.OnConnect(ctx, c.Link.Client()); err != nil && ctx.Err() == nil {
		level := slog.LevelWarn
		if !c.Link.Up() && try > 1 {
			level = slog.LevelDebug
		}
		c.log.Log(ctx, level, "reading operator phones after reload failed; trying again", "in", c.recheckAfter(), "try", try, "error", err)
		c.rechecks.after("phones after reload", c.recheckAfter(), func() { c.readPhonesTry(ctx, try+1) })
	}
}

// recheckAfter is Options.RecheckAfter, 5 s by default.
func (c *Controller) recheckAfter() time.Duration {
	if c.opts.RecheckAfter <= 0 {
		return 5 * time.Second
	}
	return c.opts.RecheckAfter
}

// noChannel handles an operator's phone that Asterisk could not ring (no
// contact): the queue took the operator out of routing, the registry
// agrees, and the endpoint is read again after Options.RecheckAfter, so
// that a failure of the moment does not keep the operator out until their
// phone's next event, which may never come.
func (c *Controller) noChannel(ep string) {
	c.Operators.NoChannel(ep)
	c.rechecks.after(ep, c.recheckAfter(), func() {
		if err := c.Operators.Reread(c.Link.Client(), ep); err != nil {
			c.log.Warn("reading an operator's phone again after a failed ring", "endpoint", ep, "error", err)
		}
	})
}

// watchOtherCall reads phone ep again every Options.OtherCallRead while it
// has another call: should the event of that call's end be lost (or
// Asterisk not raise one), its operator is not left out of routing for
// long.
func (c *Controller) watchOtherCall(ep string) {
	every := c.opts.OtherCallRead
	if every <= 0 {
		every = 15 * time.Second
	}
	c.rechecks.after("other call "+ep, every, func() {
		if err := c.Operators.Reread(c.Link.Client(), ep); err != nil {
			c.log.Warn("reading the phone of an operator on another call", "endpoint", ep, "error", err)
		}
		if c.Operators.OtherCall(ep) {
			c.watchOtherCall(ep)
		}
	})
}

// rechecks runs at most one delayed function per key until stopped.
type rechecks struct {
	mu      sync.Mutex
	stopped bool
	pending map[string]*time.Timer
	running sync.WaitGroup // one per timer set and not stopped
}

// after runs f after d unless one is pending for key or stop was called.
func (r *rechecks) after(key string, d time.Duration, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.pending[key] != nil {
		return
	}
	if r.pending == nil {
		r.pending = map[string]*time.Timer{}
	}
	r.running.Add(1)
	r.pending[key] = time.AfterFunc(d, func() {
		defer r.running.Done()
		r.mu.Lock()
		delete(r.pending, key)
		stopped := r.stopped
		r.mu.Unlock()
		if !stopped {
			f()
		}
	})
}

// stop cancels what is pending and waits for what runs.
func (r *rechecks) stop() {
	r.mu.Lock()
	r.stopped = true
	for key, t := range r.pending {
		if t.Stop() {
			r.running.Done()
		}
		delete(r.pending, key)
	}
	r.mu.Unlock()
	r.running.Wait()
}

// Up reports whether the ARI link is connected and re-synced.
func (c *Controller) Up() bool { return c.Link.Up() }
