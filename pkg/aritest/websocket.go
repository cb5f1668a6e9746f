package aritest

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/websocket"
)

// wsConn is one events websocket. Events are queued under the server lock
// and written by the connection's own goroutine, never under the lock.
type wsConn struct {
	app  string
	conn *websocket.Conn
	sent func(SentEvent) // Options.OnEventSent; nil: not traced

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []outMsg
	queued   int // messages ever queued
	written  int // messages ever written (or dropped at close)
	closed   bool
	replaced bool // got ApplicationReplaced: takes no more events
	held     bool // HoldEvents: queued, not written
}

func newWSConn(app string, c *websocket.Conn, sent func(SentEvent)) *wsConn {
	w := &wsConn{app: app, conn: c, sent: sent}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *wsConn) enqueue(msg outMsg) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.queue = append(w.queue, msg)
	w.queued++
	w.cond.Broadcast()
}

func (w *wsConn) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		w.written = w.queued
		w.queue = nil
		w.cond.Broadcast()
	}
	c := w.conn
	w.mu.Unlock()
	if c != nil { // nil: the upgrade is not done yet
		_ = c.Close()
	}
}

// textFrames sends an encoded event as a text frame, as Asterisk does,
// without the two copies websocket.Message makes of a string.
var textFrames = websocket.Codec{Marshal: func(v any) ([]byte, byte, error) {
	return v.([]byte), websocket.TextFrame, nil
}}

// writeLoop sends queued messages until the connection closes. It takes
// the whole backlog at once and wakes the waiters (REST handlers waiting
// for their events to be written) once per batch, not once per message:
// under load hundreds of handlers wait, and waking them all for every
// event made the fake, not the controller, the bottleneck.
func (w *wsConn) writeLoop() {
	for {
		w.mu.Lock()
		for (len(w.queue) == 0 || w.held) && !w.closed {
			w.cond.Wait()
		}
		if w.closed {
			w.mu.Unlock()
			return
		}
		batch := w.queue
		w.queue = nil
		w.mu.Unlock()
		var err error
		n := 0
		for _, msg := range batch {
			if w.sent != nil {
				ev := msg.ev
				ev.At = time.Now() // real time: latency is measured, not simulated
				w.sent(ev)
			}
			if err = textFrames.Send(w.conn, msg.data); err != nil {
				break
			}
			n++
		}
		w.mu.Lock()
		w.written += n
		w.cond.Broadcast()
		w.mu.Unlock()
		if err != nil {
			w.close()
			return
		}
	}
}

// flushMark remembers how many messages a connection had queued.
type flushMark struct {
	conn *wsConn
	seq  int
}

type flushWaiter []flushMark

// waitWritten blocks until every marked message was written or its
// connection closed.
func (f flushWaiter) waitWritten() {
	for _, m := range f {
		m.conn.mu.Lock()
		for m.conn.written < m.seq && !m.conn.closed {
			m.conn.cond.Wait()
		}
		m.conn.mu.Unlock()
	}
}

func (s *Server) flushTargetLocked() flushWaiter {
	var f flushWaiter
	for c := range s.sockets {
		c.mu.Lock()
		if !c.held {
			// A held link's events come late; REST replies travel on
			// their own connections and do not wait for them.
			f = append(f, flushMark{conn: c, seq: c.queued})
		}
		c.mu.Unlock()
	}
	return f
}

// errClosed refuses a websocket to a closed server.
var errClosed = errors.New("aritest: server closed")

// serveWebsocket upgrades GET /ari/events (auth and app already checked).
func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	appName := r.URL.Query().Get("app")
	// As Asterisk does (ari_websockets.c: websocket_attempted_cb registers
	// the app with its new session before the upgrade; events raised
	// before websocket_established_cb wait in the session's message_queue),
	// the socket takes over the app before the 101 is written: a client
	// that sends a request once its handshake is done gets the events.
	var conn *wsConn
	ws := websocket.Server{
		Handshake: func(*websocket.Config, *http.Request) error {
			conn = newWSConn(appName, nil, s.opts.OnEventSent)
			if !s.attachSocket(conn) {
				conn = nil
				return errClosed
			}
			return nil
		},
		Handler: func(c *websocket.Conn) {
			conn.mu.Lock()
			conn.conn = c
			closed := conn.closed
			conn.mu.Unlock()
			if closed {
				return // closed meanwhile (serveWebSocket closes c)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				conn.writeLoop()
			}()
			for {
				var discard string
				if err := websocket.Message.Receive(c, &discard); err != nil {
					break
				}
			}
			conn.close()
			<-done
		},
	}
	h := w.Header()
	h.Set("Server", serverHeader)
	ws.ServeHTTP(w, r)
	if conn != nil {
		// The handler ended, or the upgrade failed after the handshake
		// callback: what was queued goes nowhere.
		conn.close()
		s.detachSocket(conn)
	}
}

// attachSocket makes conn the app's websocket, replacing an older one.
func (s *Server) attachSocket(conn *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sockets[conn] = struct{}{}
	conn.held = s.eventsHeld // no other goroutine has conn yet
	a := s.ensureAppLocked(conn.app)
	if old := a.sock; old != nil {
		msg, err := marshal(object{
			{"type", "ApplicationReplaced"},
			{"timestamp", astTime(s.now())},
			{"application", a.name},
			{"asterisk_id", asteriskID},
		})
		if err == nil {
			old.enqueue(outMsg{data: msg, ev: SentEvent{Type: "ApplicationReplaced"}})
		}
		old.mu.Lock()
		old.replaced = true
		old.mu.Unlock()
	}
	a.sock = conn
	s.wsConnects++
	s.bumpLocked()
	return true
}

func (s *Server) detachSocket(conn *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sockets, conn)
	if a, ok := s.apps[conn.app]; ok && a.sock == conn {
		a.sock = nil
		s.maybeDestroyAppLocked(a)
	}
	s.bumpLocked()
}

// HoldEvents holds (true) or releases (false) the events of the
// websockets, those connected now and those to come, as a congested
// network would: they are written, in order, once released. REST replies
// travel apart and do not wait for them (a 204 may come before its
// events).
func (s *Server) HoldEvents(hold bool) {
	s.mu.Lock()
	s.eventsHeld = hold
	socks := s.socketListLocked()
	s.mu.Unlock()
	for _, c := range socks {
		c.mu.Lock()
		c.held = hold
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// DropWebSockets closes every events websocket from the server side, as a
// broken link would.
func (s *Server) DropWebSockets() {
	s.mu.Lock()
	socks := s.socketListLocked()
	s.mu.Unlock()
	for _, c := range socks {
		c.close()
	}
}
