package console

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"
)

// keepPops is how many recent pops per operator the console remembers, so
// a reloaded page finds its call and a save can be checked against it.
// A pop whose call has no message saved is kept beyond them until it is
// keepPopsFor old (its message still to write, the call still to mark
// as needing none), up to maxPops pops in all.
const keepPops = 20

// maxPops bounds the pops kept per operator (each holds the client's
// manual, and all are written to the store at every pop and save): past
// it the oldest go, saved or not. An operator takes far fewer calls a day
// without saving a message.
const maxPops = 100

// trimPops drops the oldest of ps (oldest first) beyond keepPops that
// have a message saved or are keepPopsFor old at now, then the oldest
// beyond maxPops.
func trimPops(ps []ScreenPop, now time.Time) []ScreenPop {
	extra := len(ps) - keepPops
	if extra <= 0 {
		return ps
	}
	kept := make([]ScreenPop, 0, len(ps))
	for i, p := range ps {
		if extra > 0 && i < len(ps)-keepPops && (len(p.Saved) > 0 || now.Sub(p.At) >= keepPopsFor) {
			extra--
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) > maxPops {
		kept = kept[len(kept)-maxPops:]
	}
	return kept
}

// event is one server-sent event; an empty name asks the stream to
// re-read the operator's state.
type event struct {
	name string
	data []byte
}

// subscriber is one open event stream.
type subscriber struct {
	opID, sid string
	opened    uint64 // the hub's count of streams opened, at its opening
	ch        chan event
	gone      chan struct{} // closed when the stream must end
	once      sync.Once
}

func (s *subscriber) end() { s.once.Do(func() { close(s.gone) }) }

// hub routes events to the streams of one operator and remembers pops.
type hub struct {
	mu     sync.Mutex
	opened uint64 // streams opened so far
	subs   map[string]map[*subscriber]struct{}
	pops   map[string][]ScreenPop
	closed bool
}

func newHub() *hub {
	return &hub{subs: map[string]map[*subscriber]struct{}{}, pops: map[string][]ScreenPop{}}
}

// maxStreamsPerOperator bounds an operator's open event streams (browser
// tabs, and the connections network changes left half-open: those stay
// open here, their pings going into the socket's buffer, until TCP gives
// up, some 15 minutes); each costs a goroutine and a state poll. A stream
// opened beyond it ends the operator's oldest, most likely one of those:
// a laptop moving between networks is never refused its console. The
// bound is far above the tabs one operator keeps open: tabs as many as it
// would end each other's streams in turn, each reconnecting.
const maxStreamsPerOperator = 32

// trySubscribe opens a stream for opID's session sid, or says why not.
func (h *hub) trySubscribe(opID, sid string) (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errHubClosed
	}
	if len(h.subs[opID]) >= maxStreamsPerOperator {
		var oldest *subscriber
		for s := range h.subs[opID] {
			if oldest == nil || s.opened < oldest.opened {
				oldest = s
			}
		}
		delete(h.subs[opID], oldest)
		oldest.end()
	}
	h.opened++
	s := &subscriber{opID: opID, sid: sid, opened: h.opened, ch: make(chan event, 16), gone: make(chan struct{})}
	if h.subs[opID] == nil {
		h.subs[opID] = map[*subscriber]struct{}{}
	}
	h.subs[opID][s] = struct{}{}
	return s, nil
}

// errHubClosed: the console is shutting down.
var errHubClosed = errors.New("shutting down")

// unsubscribe forgets a stream.
func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[s.opID], s)
	if len(h.subs[s.opID]) == 0 {
		delete(h.subs, s.opID)
	}
	s.end()
}

// sendLocked delivers e to every stream of opID. A stream too slow to take
// it is ended; the page reconnects and re-reads its state.
func (h *hub) sendLocked(opID string, e event) (sent int) {
	for s := range h.subs[opID] {
		select {
		case s.ch <- e:
			sent++
		default:
			s.end()
		}
	}
	return sent
}

// pop remembers p for its operator and pushes it to that operator only.
func (h *hub) pop(p ScreenPop, view any, now time.Time) (shown bool, err error) {
	data, err := json.Marshal(view)
	if err != nil {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pops[p.OperatorID] = trimPops(append(h.pops[p.OperatorID], p), now)
	if h.closed {
		// Streams ended at a stop: kept (and saved) for the restart.
		return false, nil
	}
	return h.sendLocked(p.OperatorID, event{name: "pop", data: data}) > 0, nil
}

// send delivers event name, with data, to opID's streams.
func (h *hub) send(opID, name string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.sendLocked(opID, event{name: name, data: data})
	}
}

// nudge asks opID's streams (every stream when opID is empty) to re-read state.
func (h *hub) nudge(opID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range h.subs {
		if opID == "" || id == opID {
			h.sendLocked(id, event{})
		}
	}
}

// popsOf returns a copy of opID's remembered pops, oldest first.
func (h *hub) popsOf(opID string) []ScreenPop {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ScreenPop(nil), h.pops[opID]...)
}

// forget drops the remembered pops gone says go, and returns the
// operators who had any.
func (h *hub) forget(gone func(ScreenPop) bool) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ops []string
	for opID, ps := range h.pops {
		if kept := slices.DeleteFunc(slices.Clone(ps), gone); len(kept) < len(ps) {
			h.pops[opID] = kept
			ops = append(ops, opID)
		}
	}
	return ops
}

// restore sets opID's remembered pops (at start-up), trimmed as pop
// trims them.
func (h *hub) restore(opID string, ps []ScreenPop, now time.Time) {
	ps = trimPops(ps, now)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pops[opID] = ps
}

// markSaved records that intake intakeID was saved for opID's call
// callID; it reports whether that pop is remembered.
func (h *hub) markSaved(opID, callID, intakeID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	ps := h.pops[opID]
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].CallID == callID {
			if !slices.Contains(ps[i].Saved, intakeID) {
				ps[i].Saved = append(slices.Clone(ps[i].Saved), intakeID)
			}
			return true
		}
	}
	return false
}

// findPop returns opID's remembered pop for callID.
func (h *hub) findPop(opID, callID string) (ScreenPop, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ps := h.pops[opID]
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].CallID == callID {
			return ps[i], true
		}
	}
	return ScreenPop{}, false
}

// lastPop returns opID's most recent pop.
func (h *hub) lastPop(opID string) (ScreenPop, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ps := h.pops[opID]
	if len(ps) == 0 {
		return ScreenPop{}, false
	}
	return ps[len(ps)-1], true
}

// endSession ends the streams of a session that logged out.
func (h *hub) endSession(sid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.subs {
		for s := range set {
			if s.sid == sid {
				s.end()
			}
		}
	}
}

// streamSessions returns the sessions with an event stream of opID open
// (not ended), each once.
func (h *hub) streamSessions(opID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var sids []string
	for s := range h.subs[opID] {
		select {
		case <-s.gone:
			continue
		default:
		}
		if !slices.Contains(sids, s.sid) {
			sids = append(sids, s.sid)
		}
	}
	return sids
}

// close ends every stream and refuses new ones.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, set := range h.subs {
		for s := range set {
			s.end()
		}
	}
}
