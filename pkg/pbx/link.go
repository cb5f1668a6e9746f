// Package pbx is toritsugi's link to Asterisk over ARI: REST through
// github.com/CyCoreSystems/ari/v6's native client, events through our own
// websocket reader that connects with capped, jittered backoff, detects a dead
// link with periodic pings, re-syncs after every reconnect and dispatches
// events in order to per-call inboxes without ever dropping one.
package pbx

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/CyCoreSystems/ari/v6/client/native"
	"golang.org/x/net/websocket"
)

// Options configure a Link.
type Options struct {
	// URL is the ARI base, e.g. http://127.0.0.1:8088/ari.
	URL string
	// WebsocketURL defaults to URL with ws(s):// and /events appended.
	WebsocketURL   string
	User, Password string
	// App is the Stasis application name.
	App string
	// RequestTimeout bounds every REST call (default 2s).
	RequestTimeout time.Duration
	// PingInterval is how often GET /asterisk/ping checks the link (default
	// 5s). A failed ping drops the link only when confirmed: see pinger.
	PingInterval time.Duration
	// Backoff spaces reconnect attempts (default 100ms doubling to 10s).
	Backoff Backoff
	// OnConnect runs after each connect and re-sync, before events flow
	// (e.g. to subscribe to endpoint events again). An error is logged and
	// the hook run again, spaced by Backoff, until it succeeds or the
	// session ends: events flow meanwhile (an Asterisk busy after its
	// restart fails a request; a subscription it never got would leave
	// every later endpoint event unsent for the whole session).
	OnConnect func(ctx context.Context, c ari.Client) error
	// DisallowedEvents are event types nobody reads. After each connect
	// the link asks Asterisk not to send them (PUT
	// /applications/{app}/eventFilter, Asterisk 13.26/16.3 and later), and
	// any that still arrive (before the filter is set, or from an
	// Asterisk without filters) are dropped before decoding. A busy call
	// raises some 30 ChannelVarset events, more than all the rest.
	DisallowedEvents []string
	// OnState is told when the link goes up or down.
	OnState func(up bool)
	// Observer, when set, is told when events are read and requests sent
	// (latency measurement).
	Observer Observer
	Logger   *slog.Logger
}

// Link is a supervised ARI connection.
type Link struct {
	opts       Options
	rest       *native.Client
	restHTTP   *http.Client // the REST client's own (bounded transport)
	pingClient *http.Client
	// fileClient reads recordings' files, outside the REST pool, never
	// through a proxy (as the REST client).
	fileClient *http.Client
	disp       *Dispatcher
	log        *slog.Logger
	up         atomic.Bool
	connects   atomic.Int64
	dropped    map[string]bool // Options.DisallowedEvents
	// upAt is when the last session came up (Run's goroutine only).
	upAt time.Time
}

// New returns a link that routes events through d. It connects on Run.
func New(opts Options, d *Dispatcher) (*Link, error) {
	if opts.URL == "" || opts.App == "" || opts.User == "" {
		return nil, errors.New("pbx: URL, App and User are required")
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("pbx: bad ARI URL %q: want http(s)://host:port/ari", opts.URL)
	}
	if opts.WebsocketURL == "" {
		ws := *u
		ws.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
		ws.Path = strings.TrimSuffix(u.Path, "/") + "/events"
		opts.WebsocketURL = ws.String()
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 2 * time.Second
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 5 * time.Second
	}
	if opts.Backoff.Min <= 0 {
		opts.Backoff.Min = 100 * time.Millisecond
	}
	if opts.Backoff.Max <= 0 {
		opts.Backoff.Max = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	tr := newRESTTransport(opts.RequestTimeout)
	tr.observer = opts.Observer
	restHTTP := &http.Client{Transport: tr}
	rest := native.New(&native.Options{
		Application:  opts.App,
		URL:          strings.TrimSuffix(opts.URL, "/"),
		WebsocketURL: opts.WebsocketURL,
		Username:     opts.User,
		Password:     opts.Password,
		Logger:       libraryLogger(opts.Logger),
		// The timeout is the transport's, not http.Client's: the client
		// replaces a timed-out request's error with a bare string, which
		// would hide whether the request ever reached Asterisk.
		HTTPClient: restHTTP,
	})
	dropped := make(map[string]bool, len(opts.DisallowedEvents))
	for _, t := range opts.DisallowedEvents {
		dropped[t] = true
	}
	return &Link{opts: opts, rest: rest, restHTTP: restHTTP, pingClient: &http.Client{},
		fileClient: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConns: 2, IdleConnTimeout: restIdleTimeout}}, disp: d, log: opts.Logger, dropped: dropped}, nil
}

// Client is the REST side of the link. Its calls are bounded by RequestTimeout.
func (l *Link) Client() ari.Client { return l.rest }

// Dispatcher is where events go.
func (l *Link) Dispatcher() *Dispatcher { return l.disp }

// Up reports whether the event websocket is connected.
func (l *Link) Up() bool { return l.up.Load() }

// Connects counts successful websocket connects.
func (l *Link) Connects() int64 { return l.connects.Load() }

// Run keeps the link up until ctx ends. It returns ctx's error.
func (l *Link) Run(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		err := l.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, errSessionWasUp) && time.Since(l.upAt) >= l.stableAfter() {
			// The link was up a while: start the backoff over. A link
			// dropped right after each connect (a proxy closing it, a
			// websocket write timing out in a long re-sync) keeps
			// backing off instead of reconnecting, and re-syncing every
			// call, a dozen times a second.
			failures = 0
		}
		failures++
		d := l.opts.Backoff.Delay(failures)
		if errors.Is(err, errReplaced) {
			// Another controller took the application over. Taking it
			// straight back would make the two swap it forever, losing
			// events at every swap: wait long and say so.
			d = max(d, replacedBackoff)
		}
		level := slog.LevelWarn
		if errors.Is(err, ErrUnauthorized) {
			level = slog.LevelError // a setting to fix, not a link to wait for
		}
		l.log.Log(ctx, level, "ARI link down; reconnecting", "error", err, "attempt", failures, "in", d)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return ctx.Err()
}

// stableAfter is how long a session must have been up for its loss to
// start the backoff over: the backoff's maximum.
func (l *Link) stableAfter() time.Duration { return l.opts.Backoff.Max }

var (
	errSessionWasUp = errors.New("pbx: event link lost")
	errReplaced     = errors.New("pbx: application replaced by another websocket (is a second toritsugi running?)")
)

// retryOnConnect runs the OnConnect hook again, spaced by the backoff,
// until it succeeds or the session (ctx) ends.
func (l *Link) retryOnConnect(ctx context.Context) {
	for n := 1; ; n++ {
		t := time.NewTimer(l.opts.Backoff.Delay(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		err := l.opts.OnConnect(ctx, l.rest)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			l.log.Info("ARI on-connect hook succeeded on a later try", "tries", n+1)
			return
		}
		l.log.Warn("ARI on-connect hook failed again", "tries", n+1, "error", err)
	}
}

// replacedBackoff is how long a link whose application was taken over by
// another websocket waits before taking it back.
const replacedBackoff = 30 * time.Second

// session connects once, re-syncs, and reads events until the link fails.
func (l *Link) session(ctx context.Context) error {
	conn, err := l.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		<-sctx.Done()
		conn.Close() // unblocks the reader
	}()

	l.connects.Add(1)

	// Wait until Asterisk knows the application before reporting up:
	// until then REST calls about it answer 404 and Stasis() declines
	// calls. (Asterisk 22 registers it with the new websocket before the
	// handshake's 101, and queues the events raised until the socket is
	// ready, so this returns at once there; it guards against versions or
	// proxies that register it later.)
	if err := l.waitApp(sctx); err != nil {
		return err
	}
	// Always set (an empty list clears a filter an earlier run left on
	// the application, which Asterisk keeps while it has channels). Only
	// a saving: without it the same events are dropped here.
	if err := l.setEventFilter(sctx); err != nil && len(l.opts.DisallowedEvents) > 0 {
		l.log.Warn("ARI event filter not set; unneeded events are dropped on arrival", "error", err)
	}
	// Re-sync before reading: events that arrive meanwhile wait in the
	// socket, so adoption and dispatch never race.
	if err := l.resync(); err != nil {
		// Without a re-sync, calls that ended while the link was down
		// would never learn it: end the session and connect again.
		return fmt.Errorf("pbx: re-sync: %w", err)
	}
	if l.opts.OnConnect != nil {
		if err := l.opts.OnConnect(sctx, l.rest); err != nil {
			l.log.Error("ARI on-connect hook failed; trying it again while the link is up", "error", err)
			go l.retryOnConnect(sctx)
		}
	}

	l.upAt = time.Now()
	l.setUp(true)
	defer l.setUp(false)
	l.log.Info("ARI link up", "url", l.opts.WebsocketURL, "connects", l.connects.Load())

	var frames atomic.Uint64
	go l.pinger(sctx, cancel, &frames)
	readErr := l.read(conn, &frames)
	if c := context.Cause(sctx); c != nil && !errors.Is(c, context.Canceled) {
		return fmt.Errorf("%w: %w", errSessionWasUp, c)
	}
	if readErr != nil {
		return fmt.Errorf("%w: %w", errSessionWasUp, readErr)
	}
	return errSessionWasUp
}

func (l *Link) setUp(v bool) {
	l.up.Store(v)
	if l.opts.OnState != nil {
		l.opts.OnState(v)
	}
}

func (l *Link) dial(ctx context.Context) (*websocket.Conn, error) {
	q := url.Values{"app": {l.opts.App}, "subscribeAll": {"false"}}
	cfg, err := websocket.NewConfig(l.opts.WebsocketURL+"?"+q.Encode(), "http://localhost/")
	if err != nil {
		return nil, fmt.Errorf("pbx: websocket config: %w", err)
	}
	cfg.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(l.opts.User+":"+l.opts.Password)))
	dctx, cancel := context.WithTimeout(ctx, l.opts.RequestTimeout)
	defer cancel()
	conn, err := cfg.DialContext(dctx)
	if err != nil {
		var de *websocket.DialError
		if errors.As(err, &de) && errors.Is(de.Err, websocket.ErrBadStatus) {
			// The handshake's status is not kept: ask over REST whether
			// the user is the trouble, and say so.
			if perr := l.do(ctx, l.restHTTP, http.MethodGet, "/asterisk/ping", nil, nil); Unauthorized(perr) {
				return nil, fmt.Errorf("pbx: connect %s: %w", l.opts.WebsocketURL, perr)
			}
		}
		return nil, fmt.Errorf("pbx: connect %s: %w", l.opts.WebsocketURL, err)
	}
	return conn, nil
}

// read decodes and dispatches events until the connection fails. It
// counts the frames read in frames (the pinger's sign of life).
func (l *Link) read(conn *websocket.Conn, frames *atomic.Uint64) error {
	for {
		var data []byte
		if err := websocket.Message.Receive(conn, &data); err != nil {
			return err
		}
		frames.Add(1)
		var readAt time.Time
		if l.opts.Observer != nil {
			readAt = time.Now()
		}
		if len(l.dropped) > 0 {
			if typ, ok := peekType(data); ok && l.dropped[string(typ)] {
				continue
			}
		}
		e, err := DecodeEvent(data)
		if err != nil {
			l.log.Warn("undecodable ARI event", "error", err, "bytes", len(data))
			continue
		}
		if l.opts.Observer != nil {
			l.opts.Observer.EventRead(e, readAt)
		}
		if e.GetType() == "ApplicationReplaced" {
			l.log.Error("another client took over the ARI application; reconnecting", "app", l.opts.App)
			return errReplaced
		}
		l.disp.Dispatch(e)
	}
}

// maxPingFailures is how many pings in a row may fail before the link is
// declared dead, whatever its websocket delivers.
const maxPingFailures = 3

// pinger cancels the session when Asterisk stops answering pings. One
// ping answered late or refused (503: a busy Asterisk) does not: tearing
// a websocket down that still delivers would lose every event until the
// re-sync, and load the busy Asterisk with one. The link is dead when a
// ping fails and no websocket frame was read since the previous ping was
// sent, and that one failed too, or when maxPingFailures pings in a row
// fail. A ping that fails on a silent websocket is confirmed at once (a
// request timeout after it was sent), not a ping interval later: a
// half-open connection is found within an interval and two request
// timeouts. frames counts the frames read.
func (l *Link) pinger(ctx context.Context, cancel context.CancelCauseFunc, frames *atomic.Uint64) {
	t := time.NewTimer(l.opts.PingInterval)
	defer t.Stop()
	seen := frames.Load() // when the previous ping was sent (the session's start at first)
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sent, mark := time.Now(), frames.Load()
		err := l.Ping(ctx)
		if ctx.Err() != nil {
			return
		}
		silent := frames.Load() == seen
		seen = mark
		next := time.Until(sent.Add(l.opts.PingInterval))
		switch {
		case err == nil:
			if failed > 0 {
				l.log.Info("ARI ping answered again", "failed", failed)
			}
			failed = 0
		case failed+1 >= maxPingFailures:
			cancel(fmt.Errorf("%d pings failed in a row: %w", failed+1, err))
			return
		case silent && failed > 0:
			cancel(fmt.Errorf("ping failed, and the one before, with nothing read from the websocket between them: %w", err))
			return
		case silent:
			failed++
			l.log.Warn("ARI ping failed and nothing was read since the previous one; pinging again to confirm", "error", err)
			next = time.Until(sent.Add(l.opts.RequestTimeout))
		default:
			failed++
			l.log.Warn("ARI ping failed; the event websocket still delivers, so the link stays up", "error", err, "failed", failed)
		}
		t.Reset(max(next, 0))
	}
}

// Ping sends GET /asterisk/ping, bounded by ctx and RequestTimeout.
func (l *Link) Ping(ctx context.Context) error {
	if err := l.do(ctx, l.pingClient, http.MethodGet, "/asterisk/ping", nil, nil); err != nil {
		return fmt.Errorf("pbx: ping: %w", err)
	}
	return nil
}

// setEventFilter asks Asterisk not to send the disallowed event types
// (the allowed list is left empty: every other type is sent).
func (l *Link) setEventFilter(ctx context.Context) error {
	type entry struct {
		Type string `json:"type"`
	}
	f := struct {
		Disallowed []entry `json:"disallowed"`
	}{Disallowed: []entry{}}
	for _, t := range l.opts.DisallowedEvents {
		f.Disallowed = append(f.Disallowed, entry{t})
	}
	body, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("pbx: event filter: %w", err)
	}
	if err := l.do(ctx, l.pingClient, http.MethodPut, "/applications/"+url.PathEscape(l.opts.App)+"/eventFilter", body, nil); err != nil {
		return fmt.Errorf("pbx: event filter: %w", err)
	}
	return nil
}

// do sends one REST request outside the library through client (the
// ping client, which never waits for the REST pool, or the REST client),
// bounded by ctx and RequestTimeout, and decodes a 2xx response's JSON
// into out unless out is nil. A status other than 2xx is a *statusError,
// which StatusCode reads.
func (l *Link) do(ctx context.Context, client *http.Client, method, path string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, l.opts.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(l.opts.URL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(l.opts.User, l.opts.Password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &statusError{code: resp.StatusCode, text: fmt.Sprintf("%s %s: %s %s", method, path, resp.Status, bytes.TrimSpace(msg))}
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return nil
}

// waitApp polls GET /applications/{app} until Asterisk knows the app.
func (l *Link) waitApp(ctx context.Context) error {
	deadline := time.Now().Add(l.opts.RequestTimeout)
	delay := time.Millisecond
	for {
		_, err := l.rest.Application().Data(ari.NewKey(ari.ApplicationKey, l.opts.App))
		switch {
		case err == nil:
			return nil
		case !IsNotFound(err):
			return fmt.Errorf("pbx: read application %s: %w", l.opts.App, err)
		case time.Now().After(deadline):
			return fmt.Errorf("pbx: application %s not registered %s after connecting", l.opts.App, l.opts.RequestTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 50*time.Millisecond)
	}
}

// resync reads the channels our application holds and every bridge, and
// hands them to the dispatcher (owners are told what is live; orphans and
// bridges go to the Adopt hook). A call's bridge says whom its caller
// talks with: if the bridges cannot be read, nothing is adopted and the
// session fails (and reconnects), rather than re-adopting talking callers
// as waiting ones. Three requests, however many calls: the application
// (its channels' ids), every channel, every bridge. (A GET per channel,
// one after another before any event is read again, kept the link down
// for seconds with a few hundred calls on a busy Asterisk.)
func (l *Link) resync() error {
	live := map[string]*ari.ChannelData{}
	app, err := l.rest.Application().Data(ari.NewKey(ari.ApplicationKey, l.opts.App))
	switch {
	case IsNotFound(err): // the app did not exist before this connect: no channel to adopt
	case err != nil:
		return fmt.Errorf("read application %s: %w", l.opts.App, err)
	case len(app.ChannelIDs) > 0:
		ours := make(map[string]bool, len(app.ChannelIDs))
		for _, id := range app.ChannelIDs {
			ours[id] = true
		}
		channels, err := l.Channels()
		if err != nil {
			return err
		}
		// A channel of ours missing from the list hung up since the
		// application was read; one listed but not ours is another
		// application's or the dialplan's (or entered ours since: its
		// StasisStart waits in the socket).
		for _, ch := range channels {
			if ours[ch.ID] {
				live[ch.ID] = ch
			}
		}
	}
	bridges, err := l.Bridges()
	if err != nil {
		return err
	}
	l.disp.resync(live, bridges)
	return nil
}

// Channels lists every channel Asterisk holds, of any application or
// none, in one request (GET /channels; the ari library's List keeps only
// the ids, and a GET per channel would follow). Each has the data GET
// /channels/{id} gives, its key as the ari library's.
func (l *Link) Channels() ([]*ari.ChannelData, error) {
	var out []*ari.ChannelData
	if err := l.do(context.Background(), l.restHTTP, http.MethodGet, "/channels", nil, &out); err != nil {
		return nil, fmt.Errorf("pbx: list channels: %w", err)
	}
	chans := out[:0]
	for _, ch := range out {
		if ch != nil {
			ch.Key = l.rest.Channel().Get(ari.NewKey(ari.ChannelKey, ch.ID)).Key()
			chans = append(chans, ch)
		}
	}
	return chans, nil
}

// AddToBridge adds channels to a bridge in one request (POST
// /bridges/{id}/addChannel with the ids as a JSON array: the ari library
// sends one id, as a string, and Asterisk reads a string as one id). If
// any channel is missing or not in Stasis, Asterisk adds none (400 or
// 422). A failed request returns an error pbx.StatusCode reads.
func (l *Link) AddToBridge(bridgeID string, channelIDs ...string) error {
	body, err := json.Marshal(struct {
		Channel []string `json:"channel"`
	}{channelIDs})
	if err != nil {
		return fmt.Errorf("pbx: add to bridge: %w", err)
	}
	if err := l.do(context.Background(), l.restHTTP, http.MethodPost, "/bridges/"+url.PathEscape(bridgeID)+"/addChannel", body, nil); err != nil {
		return fmt.Errorf("pbx: add to bridge: %w", err)
	}
	return nil
}

// recordingFileTimeout bounds the read of a recording's file: megabytes,
// where a command's answer is bytes (RequestTimeout).
const recordingFileTimeout = 30 * time.Second

// RecordingFile reads a stored recording's file (GET
// /recordings/stored/{name}/file: a voicemail's WAV), up to limit bytes
// and one more: a longer file is cut there, which the caller tells by its
// length. A recording Asterisk does not have is an error StatusCode reads
// as 404. The read goes outside the REST pool (a file must not hold a
// connection the calls' commands wait for), bounded by
// recordingFileTimeout.
func (l *Link) RecordingFile(ctx context.Context, name string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, recordingFileTimeout)
	defer cancel()
	path := "/recordings/stored/" + url.PathEscape(name) + "/file"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(l.opts.URL, "/")+path, nil)
	if err != nil {
		return nil, fmt.Errorf("pbx: recording file: %w", err)
	}
	req.SetBasicAuth(l.opts.User, l.opts.Password)
	resp, err := l.fileClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("pbx: recording file: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("pbx: recording file: %w", &statusError{code: resp.StatusCode, text: fmt.Sprintf("GET %s: %s %s", path, resp.Status, bytes.TrimSpace(msg))})
	}
	if n := resp.ContentLength; n >= 0 && n <= limit {
		// Its length known (Asterisk sends it): read into one buffer of
		// that size, not one doubled as it fills.
		data := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, data); err != nil {
			return nil, fmt.Errorf("pbx: recording file %s: %w", name, err)
		}
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("pbx: recording file %s: %w", name, err)
	}
	return data, nil
}

// Bridges lists every bridge Asterisk holds, with its channels, in one
// request (GET /bridges; the ari library's List keeps only the ids, and a
// GET per bridge would follow).
func (l *Link) Bridges() ([]*ari.BridgeData, error) {
	var out []*ari.BridgeData
	if err := l.do(context.Background(), l.restHTTP, http.MethodGet, "/bridges", nil, &out); err != nil {
		return nil, fmt.Errorf("pbx: list bridges: %w", err)
	}
	return out, nil
}
