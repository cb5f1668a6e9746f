// Package operators keeps the registry of which operator softphones are
// reachable, fed by ARI endpoint state, so that an unregistered softphone is
// never rung, and which have a call toritsugi did not make (OtherCall), so
// that an operator calling a customer back is not rung over that call.
//
// Wiring:
//
//	reg := operators.NewRegistry(log, onChange)
//	reg.Track(endpointsOfConfiguredOperators)
//	disp := pbx.NewDispatcher(pbx.Hooks{Endpoint: reg.HandleEvent, ...}, log)
//	link, _ := pbx.New(pbx.Options{..., OnConnect: reg.OnConnect}, disp)
//
// Endpoint events only arrive once the application is subscribed to the
// endpoint ("endpoint:PJSIP/op1001"); OnConnect does that after every
// (re)connect and then reads each tracked endpoint's state, repairing
// whatever was missed while the link was down.
//
// Precedence: the latest observation wins. Every EndpointStateChange,
// PeerStatusChange, ContactStatusChange or GET /endpoints answer that says
// something definite sets the endpoint's reachability; statuses that say
// nothing definite ("unknown" contact status, unknown peer status) leave it
// as it is (their channels still count). Reachability and channels are
// ordered apart: a read older than an event about one still gives the
// other. A peer or contact event is about one contact, and is read by
// the endpoint state it carries (Observe): a softphone registering again
// from a new port (its old contact removed after the new one is created)
// or one of an operator's two phones going away leaves the operator
// reachable.
package operators

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Change reports that a tracked endpoint's reachability, or whether it
// has another call, changed.
type Change struct {
	// Endpoint is "TECH/resource", e.g. "PJSIP/op1001".
	Endpoint string
	// Reachable is the new reachability.
	Reachable bool
	// OtherCall: the phone has a channel that is not toritsugi's (see
	// SetOwnChannel): the operator placed a call from it (a customer
	// called back), and is not to be rung meanwhile, as app_queue's
	// ringinuse=no.
	OtherCall bool
	// ReachableChanged and OtherCallChanged say which of the two
	// changed (at least one did, or the phone Registered).
	ReachableChanged, OtherCallChanged bool
	// Registered: the phone registered a contact not known before (a
	// softphone started, or registering again after it unregistered):
	// not a contact Asterisk's qualify found unreachable and then
	// reachable again (a network blip), which only changes Reachable.
	Registered bool
	// Reason names the observation, e.g. "EndpointStateChange online",
	// "ContactStatusChange Removed", "GET endpoint offline",
	// "GET endpoint not found" or "no longer tracked".
	Reason string
}

// Registry knows which tracked endpoints are reachable. It is safe for
// concurrent use.
type Registry struct {
	log      *slog.Logger
	onChange func(Change)
	own      func(channelID string) bool
	// connecting runs one OnConnect at a time.
	connecting sync.Mutex

	mu         sync.Mutex
	eps        map[string]*epState
	seq        uint64   // counts applied observations
	pending    []Change // changes not yet handed to onChange
	delivering bool     // a goroutine is draining pending
}

type epState struct {
	reachable bool
	other     bool   // a channel that is not toritsugi's
	seq       uint64 // seq of the latest reachability applied
	chanSeq   uint64 // seq of the latest channel list applied
	// contacts are the contact URIs its contact events named: present
	// while registered, not once removed (see registration).
	contacts map[string]contact
	// justOnline: the endpoint's last event brought it online, and no
	// contact event followed yet (a REGISTER raises EndpointStateChange,
	// PeerStatusChange, then ContactStatusChange: recording 12).
	justOnline bool
	// registering: a contact registered while the endpoint was not
	// reachable (with qualify on, a new contact may be Unknown until its
	// first qualify answers): the registration is told once it is.
	registering bool
}

// contact is what the contact events said of one contact.
type contact struct {
	present bool
	seq     uint64 // seq of the latest event naming it
}

// NewRegistry returns an empty registry. onChange (may be nil) is called
// outside the registry's lock, one call at a time and in the order the
// observations were applied, only when an endpoint's reachability or
// other call changes, or it registers.
// It may call back into the registry; a change it causes is delivered after
// it returns.
func NewRegistry(logger *slog.Logger, onChange func(Change)) *Registry {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{log: logger, onChange: onChange, eps: map[string]*epState{}}
}

// SetOwnChannel tells which channels are toritsugi's own (the legs it
// rings operators on); any other channel on an operator's phone is another
// call. Without it (nil) every channel is toritsugi's. Call it before the
// link runs.
func (r *Registry) SetOwnChannel(own func(channelID string) bool) {
	r.mu.Lock()
	r.own = own
	r.mu.Unlock()
}

// OtherCall reports whether endpoint is tracked and has another call.
func (r *Registry) OtherCall(endpoint string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.eps[endpoint]
	return st != nil && st.other
}

// Track sets the endpoints of the configured operators ("PJSIP/op1001").
// Call it again on a configuration reload: new endpoints start unreachable
// until an event or OnConnect says otherwise (call OnConnect again with the
// link's client to read them at once); endpoints no longer listed are
// forgotten, and a reachable one is reported as a change to unreachable
// with the reason "no longer tracked". Malformed names are logged and
// ignored.
func (r *Registry) Track(endpoints []string) {
	want := make(map[string]bool, len(endpoints))
	for _, ep := range endpoints {
		if !validName(ep) {
			r.log.Warn("ignoring malformed operator endpoint; want TECH/resource", "endpoint", ep)
			continue
		}
		want[ep] = true
	}
	r.mu.Lock()
	for ep, st := range r.eps {
		if want[ep] {
			continue
		}
		delete(r.eps, ep)
		if st.reachable || st.other {
			r.pending = append(r.pending, Change{Endpoint: ep, Reachable: false, Reason: "no longer tracked",
				ReachableChanged: st.reachable, OtherCallChanged: st.other})
		}
	}
	for ep := range want {
		if r.eps[ep] == nil {
			r.eps[ep] = &epState{}
		}
	}
	r.mu.Unlock()
	r.deliver()
}

// Reachable reports whether endpoint is tracked and reachable.
func (r *Registry) Reachable(endpoint string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.eps[endpoint]
	return st != nil && st.reachable
}

// Snapshot returns the reachability of every tracked endpoint.
func (r *Registry) Snapshot() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]bool, len(r.eps))
	for ep, st := range r.eps {
		out[ep] = st.reachable
	}
	return out
}

// tracked lists the tracked endpoints, sorted, and the current sequence
// number (observations applied so far).
func (r *Registry) tracked() ([]string, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.eps)), r.seq
}

// isTracked reports whether ep is tracked now.
func (r *Registry) isTracked(ep string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.eps[ep] != nil
}

// apply records an event about an endpoint. It reports whether the endpoint
// is tracked.
func (r *Registry) apply(o Observation) bool {
	return r.record(o, false, 0)
}

// applyRead records a state read (GET) that started when the sequence
// number was since. It is dropped when an event was applied to the endpoint
// meanwhile, since that event is newer.
func (r *Registry) applyRead(o Observation, since uint64) bool {
	return r.record(o, true, since)
}

// record applies o: its reachability when Definite, its channels when
// HasChannels.
func (r *Registry) record(o Observation, read bool, since uint64) bool {
	r.mu.Lock()
	st := r.eps[o.Endpoint]
	if st == nil {
		r.mu.Unlock()
		return false
	}
	// Each part is dropped from a read when an event gave it since: an
	// event that says nothing of reachability (its channels only) leaves
	// a read's reachability to apply.
	r.seq++
	reachable, other := st.reachable, st.other
	if o.Definite && !(read && st.seq > since) {
		st.seq = r.seq
		reachable = o.Reachable
		if read && !reachable {
			// Read offline (after a start, or the link back): its
			// contacts may have gone unseen; whichever registers next
			// is a registration.
			st.contacts = nil
		}
	}
	if read {
		// Those named before the read may be gone unseen too (their
		// removal raised while the link was down): a contact kept
		// present for ever would grow the list with every restart of
		// Asterisk, and keep a registration waiting. Forgotten, one
		// that is there is told as after a start; a removed one is
		// kept (back, it registered).
		maps.DeleteFunc(st.contacts, func(_ string, c contact) bool { return c.present && c.seq <= since })
	}
	if o.HasChannels && !(read && st.chanSeq > since) {
		st.chanSeq = r.seq
		other = r.otherChannel(o.Channels)
	}
	registered := st.registration(o, r.seq)
	switch {
	case read || o.Contact != "":
		st.justOnline = false
	case !st.reachable && reachable:
		st.justOnline = true
	}
	if registered || st.registering {
		registered, st.registering = reachable, !reachable
	}
	if st.reachable != reachable || st.other != other || registered {
		r.pending = append(r.pending, Change{Endpoint: o.Endpoint, Reachable: reachable, OtherCall: other, Reason: o.Reason,
			ReachableChanged: st.reachable != reachable, OtherCallChanged: st.other != other, Registered: registered})
		st.reachable, st.other = reachable, other
	}
	r.mu.Unlock()
	r.deliver()
	return true
}

// maxContactsKept bounds the contacts an endpoint's state remembers.
const maxContactsKept = 16

// registration notes the contact o is about, and reports whether it is a
// registration: a contact removed before (the phone unregistered, or its
// registration expired) that is back, or one never seen before that
// comes as the endpoint comes online (it was not reachable, or the event
// before brought it online), unless its status is a qualify's result
// (Reachable, Unreachable). Not registrations: a known contact's qualify
// results (its network dropped for a moment), and the events Asterisk
// raises at every REGISTER refresh of a contact registered before this
// controller watched (its status again: NonQualified with qualify off);
// nor, so, a second device registering while the first is reachable, or
// a phone restarted from the address it had without unregistering.
func (st *epState) registration(o Observation, seq uint64) bool {
	if o.Contact == "" {
		return false
	}
	if st.contacts == nil {
		st.contacts = map[string]contact{}
	}
	c, seen := st.contacts[o.Contact]
	if !seen && len(st.contacts) >= maxContactsKept {
		st.makeRoom()
	}
	if o.ContactRemoved {
		st.contacts[o.Contact] = contact{present: false, seq: seq}
		if st.registering && !st.anyPresent() {
			st.registering = false
		}
		return false
	}
	st.contacts[o.Contact] = contact{present: true, seq: seq}
	switch {
	case c.present:
		return false
	case seen:
		return true
	}
	return !o.QualifyResult && (!st.reachable || st.justOnline)
}

// makeRoom drops contacts for one more: a phone registering from a new
// port every day would grow the list for months. The removed ones go;
// should the present ones fill it (removals never seen), the oldest
// named go until there is room.
func (st *epState) makeRoom() {
	maps.DeleteFunc(st.contacts, func(_ string, c contact) bool { return !c.present })
	for len(st.contacts) >= maxContactsKept {
		oldest := ""
		for uri, c := range st.contacts {
			if oldest == "" || c.seq < st.contacts[oldest].seq {
				oldest = uri
			}
		}
		delete(st.contacts, oldest)
	}
}

// anyPresent reports whether a contact is present.
func (st *epState) anyPresent() bool {
	for _, c := range st.contacts {
		if c.present {
			return true
		}
	}
	return false
}

// otherChannel reports whether any of ids is not toritsugi's own.
// Called with r.mu held.
func (r *Registry) otherChannel(ids []string) bool {
	if r.own == nil {
		return false
	}
	for _, id := range ids {
		if !r.own(id) {
			return true
		}
	}
	return false
}

// deliver hands pending changes to onChange outside the lock. Only one
// goroutine delivers at a time, so changes keep their order; the others
// leave their changes to it.
func (r *Registry) deliver() {
	r.mu.Lock()
	if r.delivering {
		r.mu.Unlock()
		return
	}
	r.delivering = true
	finished := false
	defer func() {
		if !finished { // onChange panicked: let the next caller deliver
			r.mu.Lock()
			r.delivering = false
			r.mu.Unlock()
		}
	}()
	for len(r.pending) > 0 {
		batch := r.pending
		r.pending = nil
		r.mu.Unlock()
		for _, c := range batch {
			r.log.Info("operator endpoint changed", "endpoint", c.Endpoint, "reachable", c.Reachable, "other_call", c.OtherCall, "reason", c.Reason)
			if r.onChange != nil {
				r.onChange(c)
			}
		}
		r.mu.Lock()
	}
	r.delivering = false
	finished = true
	r.mu.Unlock()
}

// validName accepts "TECH/resource" with both parts non-empty.
func validName(ep string) bool {
	tech, res, ok := strings.Cut(ep, "/")
	return ok && tech != "" && res != "" && strings.TrimSpace(ep) == ep
}
