package pbx

import (
	"log/slog"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// Hooks are the dispatcher's callbacks for events no inbox owns. They run on
// the dispatching goroutine, in event order, so a hook that binds a new inbox
// (NewChannel) is guaranteed to see every later event of that channel.
type Hooks struct {
	// NewChannel is called for a StasisStart of a channel no inbox owns. It
	// returns the inbox to bind the channel to, or nil to leave it unowned.
	NewChannel func(e *ari.StasisStart) *Inbox
	// Adopt is called after every (re)connect with the channels our
	// application holds that no inbox owns (e.g. after a controller
	// restart) and every bridge Asterisk holds, also when there are none
	// (calls that ended while no controller ran are recorded then). It
	// binds what it takes over with BindChannel.
	Adopt func(orphans []*ari.ChannelData, bridges []*ari.BridgeData)
	// Endpoint receives endpoint, peer and contact state events.
	Endpoint func(e ari.Event)
	// Other receives events nobody owns (late events of ended calls,
	// ApplicationReplaced...).
	Other func(e ari.Event)
}

// Dispatcher routes events, in arrival order, to the inboxes that own their
// channels and bridges. It never blocks on an inbox and never drops an event
// that has an owner.
type Dispatcher struct {
	hooks Hooks
	log   *slog.Logger

	mu       sync.Mutex
	channels map[string]*Inbox
	bridges  map[string]*Inbox
}

// NewDispatcher returns a dispatcher with the given hooks.
func NewDispatcher(h Hooks, log *slog.Logger) *Dispatcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{hooks: h, log: log, channels: map[string]*Inbox{}, bridges: map[string]*Inbox{}}
}

// SetHooks replaces the hooks; call it before events flow.
func (d *Dispatcher) SetHooks(h Hooks) {
	d.mu.Lock()
	d.hooks = h
	d.mu.Unlock()
}

// BindChannel makes b the owner of channel id. Bind an originated channel's
// (client-chosen) id before originating it so that no early event is missed.
func (d *Dispatcher) BindChannel(id string, b *Inbox) {
	d.mu.Lock()
	d.channels[id] = b
	d.mu.Unlock()
}

// UnbindChannel forgets channel id if b owns it.
func (d *Dispatcher) UnbindChannel(id string, b *Inbox) {
	d.mu.Lock()
	if d.channels[id] == b {
		delete(d.channels, id)
	}
	d.mu.Unlock()
}

// BindBridge makes b the owner of bridge id.
func (d *Dispatcher) BindBridge(id string, b *Inbox) {
	d.mu.Lock()
	d.bridges[id] = b
	d.mu.Unlock()
}

// UnbindBridge forgets bridge id if b owns it.
func (d *Dispatcher) UnbindBridge(id string, b *Inbox) {
	d.mu.Lock()
	if d.bridges[id] == b {
		delete(d.bridges, id)
	}
	d.mu.Unlock()
}

// Owned reports how many channels are bound.
func (d *Dispatcher) Owned() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.channels)
}

// Dispatch delivers one event to its owners (each inbox at most once).
func (d *Dispatcher) Dispatch(e ari.Event) {
	t := TargetsOf(e)
	d.mu.Lock()
	var owners []*Inbox
	for _, id := range t.Channels {
		if b := d.channels[id]; b != nil {
			owners = appendInbox(owners, b)
		}
	}
	for _, id := range t.Bridges {
		if b := d.bridges[id]; b != nil {
			owners = appendInbox(owners, b)
		}
	}
	if len(owners) == 0 {
		if ss, ok := e.(*ari.StasisStart); ok && d.hooks.NewChannel != nil {
			if b := d.hooks.NewChannel(ss); b != nil {
				d.channels[ss.Channel.ID] = b
				owners = append(owners, b)
			}
		}
	}
	d.mu.Unlock()

	for _, b := range owners {
		b.Push(e)
	}
	if len(owners) > 0 {
		return
	}
	switch {
	case t.Endpoint != "" && d.hooks.Endpoint != nil:
		d.hooks.Endpoint(e)
	case d.hooks.Other != nil:
		d.hooks.Other(e)
	default:
		d.log.Debug("event without owner", "type", e.GetType(), "channels", t.Channels, "bridges", t.Bridges)
	}
}

// Resync is pushed to every inbox after the event link was re-established:
// events raised while it was down are lost (Asterisk does not replay them),
// so each owner must compare its state with Live, the channels our
// application holds now.
type Resync struct {
	ari.EventData
	Live map[string]bool
	// Began is when the re-sync began (wall clock), before the calls it
	// adopted started: what an owner did after it was not cut by the
	// outage.
	Began time.Time
}

// Keys implements ari.Event.
func (*Resync) Keys() ari.Keys { return nil }

// ResyncType is the event type of Resync.
const ResyncType = "ToritsugiResync"

// resync tells every owner which channels are live and hands the unowned
// ones, and the bridges, to the Adopt hook. live maps channel id to its
// data.
func (d *Dispatcher) resync(live map[string]*ari.ChannelData, bridges []*ari.BridgeData) {
	began := time.Now()
	liveSet := make(map[string]bool, len(live))
	for id := range live {
		liveSet[id] = true
	}
	d.mu.Lock()
	var orphans []*ari.ChannelData
	for id, ch := range live {
		if d.channels[id] == nil {
			orphans = append(orphans, ch)
		}
	}
	if d.hooks.Adopt != nil {
		d.mu.Unlock()
		d.hooks.Adopt(orphans, bridges)
		d.mu.Lock()
	}
	var owners []*Inbox
	for _, b := range d.channels {
		owners = appendInbox(owners, b)
	}
	for _, b := range d.bridges {
		owners = appendInbox(owners, b)
	}
	d.mu.Unlock()
	for _, b := range owners {
		b.Push(&Resync{EventData: ari.EventData{Type: ResyncType}, Live: liveSet, Began: began})
	}
}

func appendInbox(s []*Inbox, b *Inbox) []*Inbox {
	for _, x := range s {
		if x == b {
			return s
		}
	}
	return append(s, b)
}
