package console

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/toritsugi/toritsugi/pkg/password"
)

//go:embed static templates
var assets embed.FS

// Console serves the operator and supervisor pages and their JSON API.
type Console struct {
	d        Deps
	log      *slog.Logger
	now      func() time.Time
	sess     *sessions
	limit    *limiter      // per (IP, operator id)
	ipLimit  *limiter      // per IP, whatever the operator id
	opLimit  *limiter      // per operator id, whatever the IP (not for known)
	known    *knownLogins  // (IP, operator id) that logged in
	kdf      chan struct{} // bounds concurrent password checks
	kdfKnown chan struct{} // more, for logins from where their operator logged in before
	hub      *hub
	pages    *pages
	dummyMu  sync.Mutex
	dummies  map[password.Params]string // hashes checked for unknown users, so timing does not tell
	poll     time.Duration
	// keepAlive is how often event streams send a ping (streamKeepAlive).
	keepAlive time.Duration
	reasons   []string
	popMu     sync.Mutex     // one write of pops at a time
	settling  sync.Map       // operator id → *sync.Mutex (settleLock)
	savesMu   sync.Mutex     // guards closed and the start of a write
	closed    bool           // Close was called: no more writes start
	saves     sync.WaitGroup // writes of pops in progress
}

// New builds a console. Deps.Operators, Forms, Control, Relay and Store
// must be set; Logger and Now default to discard and time.Now. Sessions
// are kept in the store, so they survive a restart; New deletes the
// expired ones.
func New(d Deps) *Console {
	c := &Console{d: d, log: d.Logger, now: d.Now, limit: newLimiter(maxFailures), ipLimit: newLimiter(maxIPFailures), opLimit: newLimiter(maxAccountFailures), known: newKnownLogins(), kdf: make(chan struct{}, 2*runtime.GOMAXPROCS(0)), kdfKnown: make(chan struct{}, 2), hub: newHub(), poll: d.StatePoll, reasons: d.PauseReasons}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.poll <= 0 {
		c.poll = 2 * time.Second
	}
	c.keepAlive = streamKeepAlive
	if c.reasons == nil {
		c.reasons = DefaultPauseReasons
	}
	c.opLimit.keep = func() map[string]bool {
		ids := map[string]bool{}
		for _, op := range c.d.Operators() {
			ids[op.ID] = true
		}
		return ids
	}
	c.sess = newSessions(d.Store, c.log)
	c.sess.sweep(c.now())
	if d.Store != nil {
		known, err := d.Store.KnownLogins()
		if err != nil {
			c.log.Warn("reading the addresses operators logged in from", "err", err)
		}
		for key, at := range known {
			c.known.add(key, at)
		}
	}
	c.loadPops()
	c.pages = mustPages()
	c.dummies = map[password.Params]string{}
	return c
}

// Handler returns the console's routes: /login, /logout, /console,
// /supervisor, /static/ and the JSON API under /api/v1/. State-changing
// requests from another origin are refused (http.CrossOriginProtection)
// and need the session's CSRF token.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	static, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.loginForm)
	mux.HandleFunc("POST /logout", c.page(csrfForm, false, c.logoutForm))
	mux.HandleFunc("GET /console", c.page(csrfNone, false, c.consolePage))
	mux.HandleFunc("GET /supervisor", c.page(csrfNone, true, c.supervisorPage))

	mux.HandleFunc("POST /api/v1/login", c.loginJSON)
	mux.HandleFunc("POST /api/v1/logout", c.api(csrfHeader, false, c.logoutJSON))
	mux.HandleFunc("GET /api/v1/console/state", c.api(csrfNone, false, c.stateJSON))
	mux.HandleFunc("GET /api/v1/console/calls/{id}", c.api(csrfNone, false, c.callJSON))
	mux.HandleFunc("POST /api/v1/console/calls/{id}/class", c.api(csrfHeader, false, c.classifyCall))
	mux.HandleFunc("GET "+eventsPath, c.api(csrfNone, false, c.events))
	mux.HandleFunc("POST /api/v1/console/available", c.api(csrfHeader, false, c.setAvailable))
	mux.HandleFunc("POST /api/v1/console/pause", c.api(csrfHeader, false, c.pause))
	mux.HandleFunc("POST /api/v1/console/wrapup/end", c.api(csrfHeader, false, c.endWrapUp))
	mux.HandleFunc("POST /api/v1/console/wrapup/extend", c.api(csrfHeader, false, c.extendWrapUp))
	mux.HandleFunc("POST /api/v1/console/validate", c.api(csrfHeader, false, c.validate))
	mux.HandleFunc("POST /api/v1/console/intakes", c.api(csrfHeader, false, c.createIntake))
	mux.HandleFunc("PUT /api/v1/console/intakes/{id}", c.api(csrfHeader, false, c.correctIntake))
	mux.HandleFunc("GET /api/v1/console/intakes/{id}", c.api(csrfNone, false, c.getIntake))
	mux.HandleFunc("GET /api/v1/console/wallboard", c.api(csrfNone, true, c.wallboard))
	mux.HandleFunc("GET /api/v1/console/callbacks", c.api(csrfNone, false, c.callbacks))
	mux.HandleFunc("POST /api/v1/console/callbacks/{id}/done", c.api(csrfHeader, false, c.callbackDone))
	mux.HandleFunc("POST /api/v1/console/callbacks/{id}/claim", c.api(csrfHeader, false, c.callbackClaim))
	return securityHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// EndStreams ends the console's event streams (an HTTP server's
// Shutdown waits for them otherwise), at the start of a stop: pops still
// come while calls are put through during the drain, and are kept for
// the restart until Close.
func (c *Console) EndStreams() { c.hub.close() }

// Close ends the streams and, once the saves of screen pops under way
// are written, takes no more: call it once no call can be put through
// any more (the controller stopped), before the store closes.
func (c *Console) Close() {
	c.hub.close()
	c.savesMu.Lock()
	c.closed = true
	c.savesMu.Unlock()
	c.saves.Wait()
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if overHTTPS(r) {
			// Reached over HTTPS (the TLS proxy's X-Forwarded-Proto): the
			// browser keeps to HTTPS for a year, so that an operator's
			// session cookie and callers' data never go in clear text
			// after a mistyped http:// link.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// dummyHash returns a hash with the cost of the configured operators'
// hashes (password.Default if none parse), to check unknown users against.
func (c *Console) dummyHash() string {
	p := password.Default
	for _, op := range c.d.Operators() {
		if q, _, _, err := password.Parse(op.PasswordHash); err == nil {
			p = q
			break
		}
	}
	c.dummyMu.Lock()
	defer c.dummyMu.Unlock()
	if h, ok := c.dummies[p]; ok {
		return h
	}
	h, err := password.HashWith("toritsugi-unknown-user", p)
	if err != nil {
		c.log.Error("dummy hash", "err", err)
		return ""
	}
	c.dummies[p] = h
	return h
}

// settleLock takes the lock under which operator opID's calls are
// settled (a message saved for one, or a class given it) and returns its
// release: what one of their pages checks of a call (has it a saved
// message?) stays true until what it does is stored and marked. Only the
// operator whose screen pop a call is may settle it, so their lock is
// the call's.
func (c *Console) settleLock(opID string) (unlock func()) {
	m, _ := c.settling.LoadOrStore(opID, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// operator returns the configured operator with id.
func (c *Console) operator(id string) (Operator, bool) {
	for _, op := range c.d.Operators() {
		if op.ID == id {
			return op, true
		}
	}
	return Operator{}, false
}

// serves reports whether op may see client's calls and intakes.
func (op Operator) serves(clientID string) bool {
	return op.Supervisor || slices.Contains(op.Clients, clientID) || slices.Contains(op.Clients, "*")
}

// mayFinish reports whether op may take the message of, or classify, the
// call of their own screen pop p: they serve its client, or a reload
// removed the client altogether while the call was on (the desk still
// takes and relays its message as the call came in). A client taken from
// this operator alone is not theirs any more.
func (c *Console) mayFinish(op Operator, p ScreenPop) bool {
	return op.serves(p.ClientID) || c.d.ClientName != nil && c.d.ClientName(p.ClientID) == ""
}

// apiError is the JSON body of every API error.
type apiError struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields,omitempty"`
}

// writeJSON writes v with status; encoding/json escapes <, > and & so the
// body is safe even if sniffed as HTML.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do
}

// fail writes a JSON error.
func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// maxBody bounds every request body the console reads.
const maxBody = 64 << 10

// readJSON decodes a bounded JSON body into v, answering 400/413 itself.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "body too large")
			return false
		}
		fail(w, http.StatusBadRequest, "malformed JSON")
		return false
	}
	return true
}
