// Package aritest is an in-process fake Asterisk 22.10.1 that serves ARI
// (REST and the events websocket) on 127.0.0.1, faithful to the recordings
// in testdata/recordings. Tests drive the SIP side through methods such as
// IncomingCall, RemoteHangup and SendDTMF and observe what the controller
// did through Requests, Channels and WaitFor.
package aritest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

const (
	asteriskID      = "02:fc:00:00:00:01"
	asteriskVersion = "22.10.1"
	serverHeader    = "Asterisk/" + asteriskVersion
)

// Options configures a fake Asterisk.
type Options struct {
	App      string       // the Stasis application of the dialplan; default "toritsugi"
	User     string       // ARI user; default "toritsugi"
	Password string       // ARI password; default "toritsugi"
	Clock    Clock        // default RealClock()
	Logger   *slog.Logger // default discards

	// OnEventSent, when set, is called from a websocket's writer goroutine
	// just before each event is written (latency benchmarks). It must be
	// quick and must not call back into the Server.
	OnEventSent func(SentEvent)
	// OnRequest, when set, is called for each REST request once its body
	// is read, before it is handled. Same rules as OnEventSent.
	OnRequest func(ReceivedRequest)
	// RequestLogLimit, when positive, bounds the requests kept for
	// Requests to the latest (between half the limit and the limit), for
	// long benchmarks; by default all are kept.
	RequestLogLimit int
	// QuietChannelEnd: a channel's end raises no EndpointStateChange on
	// its endpoint (its creation still does). Asterisk 22 publishes one
	// (endpoints.c); this is for clients that must not depend on it
	// (asterisk/asterisk#1530 changed how a channel leaves its endpoint).
	QuietChannelEnd bool
	// ForwardEndpointChannels: an app subscribed to an endpoint also gets
	// the channel events of its channels (ChannelStateChange,
	// ChannelHangupRequest, ChannelDestroyed, ChannelVarset...), as
	// res/stasis/app.c forwards an endpoint's whole topic: those of
	// channels the app does not hold, and those of its own a second time
	// (the source shows no deduplication; not verified on Asterisk).
	ForwardEndpointChannels bool
	// HangupWindow, when positive, ends a channel whose hangup is asked
	// (a BYE, a DELETE) in Asterisk's three stages, each this long:
	// ChannelHangupRequest with the channel still in the app (an answer
	// fails with 500, other commands are taken and come to nothing),
	// StasisEnd with the channel not yet destroyed (409), ChannelDestroyed
	// (404). Zero ends it at once, as the recordings show it.
	HangupWindow time.Duration
	// BeepLength is how long the beep before a recording with "beep"
	// lasts; zero means Asterisk's, 990 ms. A test that must act during
	// the beep on a real clock makes it long, so that a slow machine
	// cannot let it end first.
	BeepLength time.Duration
}

// RequestLog is one REST request the fake answered.
type RequestLog struct {
	Method string
	Path   string // below /ari, e.g. "/channels/1795898038.56/answer"
	Query  string
	Body   string // the request body as sent
	Status int
	Time   time.Time
}

// Server is a running fake Asterisk.
type Server struct {
	opts  Options
	log   *slog.Logger
	clock Clock
	ln    net.Listener
	srv   *http.Server
	wg    sync.WaitGroup
	// goodAuth is the last Authorization header found to carry the user
	// and password (authorized): a client sends the same on every request.
	goodAuth atomic.Pointer[string]

	mu         sync.Mutex
	changed    chan struct{} // closed at the next state change; nil: no waiter
	closed     bool
	closing    chan struct{} // closed by Close: requests still waiting give up
	eventsHeld bool          // HoldEvents
	started    time.Time
	seq        int // unique id counter (the n of "<epoch>.<n>")
	nameSeq    int // channel name counter (PJSIP/trunk-0000002a)
	recSeq     int // Recorder/ARI-00000006 counter
	channels   map[string]*channel
	chanOrder  []string
	bridges    map[string]*bridge
	bridgeSeq  []string
	playbacks  map[string]*playback
	liveRecs   map[string]*recording
	// failRecordings, when set, is the cause every recording fails with
	// (FailRecordings).
	failRecordings string
	threads        map[string]*stasisThread // channel and bridge threads with media on them
	stored         map[string]*storedRecording
	storedSeq      []string
	endpoints      map[string]*endpoint
	remotes        map[string]EndpointBehavior // numbers reached through the trunk
	epOrder        []string
	sounds         map[string]time.Duration
	apps           map[string]*app
	appOrder       []string
	sockets        map[*wsConn]struct{}
	wsConnects     int
	requests       []RequestLog
}

// New starts a fake Asterisk listening on 127.0.0.1 on a free port.
func New(opts Options) (*Server, error) {
	if opts.App == "" {
		opts.App = "toritsugi"
	}
	if opts.User == "" {
		opts.User = "toritsugi"
	}
	if opts.Password == "" {
		opts.Password = "toritsugi"
	}
	if opts.BeepLength <= 0 {
		opts.BeepLength = beepLength
	}
	if opts.Clock == nil {
		opts.Clock = RealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("aritest: listen: %w", err)
	}
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		clock:     opts.Clock,
		ln:        ln,
		started:   opts.Clock.Now(),
		seq:       1,
		channels:  map[string]*channel{},
		bridges:   map[string]*bridge{},
		playbacks: map[string]*playback{},
		liveRecs:  map[string]*recording{},
		closing:   make(chan struct{}),
		threads:   map[string]*stasisThread{},
		stored:    map[string]*storedRecording{},
		endpoints: map[string]*endpoint{},
		sounds:    coreSounds(),
		apps:      map[string]*app{},
		sockets:   map[*wsConn]struct{}{},
	}
	s.addEndpointLocked("PJSIP/trunk", true, EndpointBehavior{Answer: AnswerAfter}, "from-trunk", "", "")
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("aritest: serve", "error", err)
		}
	}()
	return s, nil
}

// URL is the ARI base URL, "http://127.0.0.1:PORT/ari".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/ari" }

// WebsocketURL is the events URL, "ws://127.0.0.1:PORT/ari/events".
func (s *Server) WebsocketURL() string { return "ws://" + s.ln.Addr().String() + "/ari/events" }

// Close stops the server, closes every websocket and cancels pending timers.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	socks := s.socketListLocked()
	for _, c := range s.channels {
		c.stopTimers()
	}
	for _, p := range s.playbacks {
		p.stop()
	}
	for _, r := range s.liveRecs {
		r.stop()
	}
	s.bumpLocked()
	s.mu.Unlock()
	for _, c := range socks {
		c.close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("aritest: shutdown: %w", err)
	}
	return nil
}

// coreSounds are the sounds every Asterisk has (its core sounds) and the
// fake plays without AddSound: hello-world, beep, and silence/1 to
// silence/10, each as long as its number in seconds (toritsugi's
// answer_silence plays silence/1 by default).
func coreSounds() map[string]time.Duration {
	m := map[string]time.Duration{"hello-world": 1400 * time.Millisecond, "beep": 420 * time.Millisecond}
	for n := 1; n <= 10; n++ {
		m[fmt.Sprintf("silence/%d", n)] = time.Duration(n) * time.Second
	}
	return m
}

// AddSound makes sound:name available with the given length.
func (s *Server) AddSound(name string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sounds[name] = d
}

// AddStoredRecording puts a recording in Asterisk's recordings directory,
// as one made before (by this Asterisk or another process): listed by
// GET /recordings/stored, playable, deletable.
func (s *Server) AddStoredRecording(name, format string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.stored[name]; !ok {
		s.storedSeq = append(s.storedSeq, name)
	}
	s.stored[name] = &storedRecording{name: name, format: format}
}

// bumpLocked wakes every waiter of WaitFor / WaitConnected. The channel
// is made by the first waiter after a change (changedLocked), not at every
// change: every request and timer changes the state, and most changes
// have no waiter.
func (s *Server) bumpLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// changedLocked is closed at the next state change.
func (s *Server) changedLocked() <-chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// after schedules f under the state lock, unless the server is closed.
func (s *Server) after(d time.Duration, f func()) Stopper {
	return s.clock.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return
		}
		f()
		s.bumpLocked()
	})
}

func (s *Server) now() time.Time { return s.clock.Now() }

func (s *Server) socketListLocked() []*wsConn {
	out := make([]*wsConn, 0, len(s.sockets))
	for c := range s.sockets {
		out = append(out, c)
	}
	return out
}
