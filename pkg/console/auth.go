package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/password"
)

// cookieName holds the session id.
const cookieName = "toritsugi_session"

// csrfMode says where a route expects the CSRF token.
type csrfMode int

const (
	csrfNone   csrfMode = iota // safe method, no token
	csrfHeader                 // JSON API: X-CSRF-Token header
	csrfForm                   // HTML form: hidden csrf_token field
)

// authed is what a handler learns about the caller: only from the session.
type authed struct {
	sid     string
	sess    session
	op      Operator
	lang    string
	startAt time.Time
}

// handlerFunc is a handler behind authentication.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a authed)

// pollHeader marks a request the console page makes by itself on a timer
// (its state every 5 s, the delivery status of its messages, the callback
// requests): it needs a live session, but is no use of it, or a page left
// open would keep its session from ever idling out. Only "1" on a GET
// marks one: whatever changes something is use.
const pollHeader = "X-Toritsugi-Poll"

// eventsPath is the page's event stream. Opening it is no use of the
// session either (EventSource cannot send pollHeader): the page opens it
// again by itself after every restart, network blip or silence.
const eventsPath = "/api/v1/console/events"

// authenticate resolves the session cookie to a live session and a still
// configured operator. A request marked as the page's poll, or opening
// the event stream, does not count as use of the session.
func (c *Console) authenticate(r *http.Request) (authed, bool) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return authed{}, false
	}
	now := c.now()
	var ss session
	var ok bool
	if r.Method == http.MethodGet && (r.Header.Get(pollHeader) == "1" || r.URL.Path == eventsPath) {
		ss, ok = c.sess.alive(ck.Value, now)
	} else {
		ss, ok = c.sess.get(ck.Value, now)
	}
	if !ok {
		return authed{}, false
	}
	op, ok := c.sessionOperator(ss)
	if !ok {
		c.sess.remove(ck.Value)
		return authed{}, false
	}
	return authed{sid: ck.Value, sess: ss, op: op, lang: pickLang(r), startAt: now}, true
}

// sessionOperator is the operator of session ss, if they are still
// configured with the password they logged in with: removing an operator,
// changing their password or taking it away (a reload) ends their
// sessions.
func (c *Console) sessionOperator(ss session) (Operator, bool) {
	op, ok := c.operator(ss.operatorID)
	if !ok || op.PasswordHash == "" || subtle.ConstantTimeCompare([]byte(ss.cred), []byte(credential(op))) != 1 {
		return Operator{}, false
	}
	if _, _, _, err := password.Parse(op.PasswordHash); err != nil {
		return Operator{}, false
	}
	return op, true
}

// stillAuthed reports whether the session of a (checked when its request
// began) is still live and its operator still configured as they logged in:
// event streams check it as they run.
func (c *Console) stillAuthed(a authed) bool {
	ss, ok := c.sess.alive(a.sid, c.now())
	if !ok {
		return false
	}
	_, ok = c.sessionOperator(ss)
	return ok
}

// credential fingerprints op's password hash (a hash of the hash: the
// session store holds no secret).
func credential(op Operator) string {
	h := sha256.Sum256([]byte("toritsugi session credential\x00" + op.PasswordHash))
	return hex.EncodeToString(h[:16])
}

// checkCSRF reports whether r carries the session's token where mode says.
func checkCSRF(r *http.Request, a authed, mode csrfMode) bool {
	switch mode {
	case csrfHeader:
		return a.sess.validCSRF(r.Header.Get("X-CSRF-Token"))
	case csrfForm:
		r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
		return a.sess.validCSRF(r.PostFormValue("csrf_token"))
	}
	return true
}

// page wraps an HTML page: no session → redirect to /login.
func (c *Console) page(mode csrfMode, supervisor bool, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := c.authenticate(r)
		if !ok {
			http.Redirect(w, r, "/login?lang="+pickLang(r), http.StatusSeeOther)
			return
		}
		if !checkCSRF(r, a, mode) {
			http.Error(w, "invalid CSRF token", http.StatusForbidden)
			return
		}
		if supervisor && !a.op.Supervisor {
			http.Error(w, messages[a.lang]["forbidden"], http.StatusForbidden)
			return
		}
		h(w, r, a)
	}
}

// api wraps a JSON endpoint: no session → 401, bad token → 403.
func (c *Console) api(mode csrfMode, supervisor bool, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := c.authenticate(r)
		if !ok {
			fail(w, http.StatusUnauthorized, "not logged in")
			return
		}
		if !checkCSRF(r, a, mode) {
			fail(w, http.StatusForbidden, "invalid CSRF token")
			return
		}
		if supervisor && !a.op.Supervisor {
			fail(w, http.StatusForbidden, "supervisors only")
			return
		}
		h(w, r, a)
	}
}

// loginResult is the outcome of one login attempt.
type loginResult int

const (
	loginOK loginResult = iota
	loginWrong
	loginThrottled
)

// login checks credentials under the login limits (per IP and user, per
// IP, per user from unknown addresses) and, on success, starts a session
// and sets its cookie.
func (c *Console) login(w http.ResponseWriter, r *http.Request, id, pw string) (Operator, session, loginResult) {
	now := c.now()
	if len(id) > maxOperatorID {
		// No operator has such an id; it would only fill the limiter.
		return Operator{}, session{}, loginWrong
	}
	ip := limitAddr(clientIP(r))
	key := ip + "\x00" + id
	// Each attempt is counted before the password is hashed (and handed
	// back on success), so parallel guesses cannot all slip through.
	if !c.limit.take(key, now) {
		c.log.Warn("login throttled", "ip", ip, "operator", id)
		return Operator{}, session{}, loginThrottled
	}
	if !c.ipLimit.take(ip, now) {
		c.limit.give(key, now)
		c.log.Warn("login throttled", "ip", ip, "operator", id)
		return Operator{}, session{}, loginThrottled
	}
	// Guesses at one operator from many addresses: capped, except from
	// where the operator has logged in before.
	opTaken, known := false, c.known.has(key, now)
	if !known {
		if !c.opLimit.take(id, now) {
			c.limit.give(key, now)
			c.ipLimit.give(ip, now)
			c.log.Warn("login throttled: too many failed logins for this operator from any address", "ip", ip, "operator", id)
			return Operator{}, session{}, loginThrottled
		}
		opTaken = true
	}
	giveOp := func() {
		if opTaken {
			c.opLimit.give(id, now)
		}
	}
	release, ok := c.passwordCheckSlot(r.Context(), known)
	if !ok {
		// Not a failed guess: no password was checked. Counted, a flood
		// filling the checks would use up real operators' attempts.
		c.limit.give(key, now)
		c.ipLimit.give(ip, now)
		giveOp()
		c.log.Warn("login throttled: too many password checks at once", "ip", ip)
		return Operator{}, session{}, loginThrottled
	}
	defer release()
	op, found := c.operator(id)
	hash := op.PasswordHash
	_, _, _, bad := password.Parse(hash)
	usable := found && id != "" && bad == nil
	if !usable {
		// Spend the same time on unknown operators, on those without
		// console access and on those whose hash is not one (the load
		// refuses it; a test or a future path must not rely on that):
		// the time must not tell them apart, and the check's answer
		// counts for nothing.
		hash = c.dummyHash()
	}
	if !password.Check(hash, pw) || !usable {
		c.log.Info("login failed", "ip", ip, "operator", id)
		return Operator{}, session{}, loginWrong
	}
	c.limit.succeed(key)
	c.ipLimit.give(ip, now)
	giveOp()
	c.known.add(key, now)
	if c.d.Store != nil {
		// Kept across restarts: after one, guesses at this operator from
		// elsewhere must not make them wait at their own desk.
		if err := c.d.Store.PutKnownLogin(key, now, now.Add(-knownFor)); err != nil {
			c.log.Warn("remembering the login's address", "operator", op.ID, "err", err)
		}
	}
	sid, ss, err := c.sess.create(op.ID, credential(op), now)
	if err != nil {
		c.log.Error("create session", "err", err)
		return Operator{}, session{}, loginWrong
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: sid, Path: "/", HttpOnly: true, Secure: c.d.SecureCookies || overHTTPS(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(AbsoluteTimeout / time.Second),
	})
	c.log.Info("login", "operator", op.ID)
	c.replaceSession(r, op.ID)
	return op, ss, loginOK
}

// replaceSession ends the session the browser of login request r held
// before (its cookie, now replaced), and that session's event streams: no
// browser can reach it any more, and its streams, left open in the
// browser's other tabs, would count as a console open elsewhere and keep
// the operator in routing after they log out (logout). Those tabs go on
// with the new session: their streams reconnect with the new cookie, and
// their next press takes its token (the page's state read).
func (c *Console) replaceSession(r *http.Request, opID string) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return
	}
	old, ok := c.sess.alive(ck.Value, c.now())
	if !ok {
		return
	}
	c.sess.remove(ck.Value)
	c.hub.endSession(ck.Value)
	c.log.Info("login replaced the session this browser held", "operator", opID, "previous_operator", old.operatorID)
}

// knownSlotWait is how long a login from where its operator has logged
// in before waits for a password check slot.
const knownSlotWait = 2 * time.Second

// passwordCheckSlot takes a slot of those bounding how many password
// checks run at once (argon2id takes 19 MiB per check), and returns its
// release. A login from where its operator has logged in before (known)
// may also take one of the slots kept for such logins, waiting up to
// knownSlotWait: a flood of guesses from many addresses fills the shared
// slots, and must not keep operators out at their own desks at the start
// of a shift. Others are refused at once when the shared slots are full.
func (c *Console) passwordCheckSlot(ctx context.Context, known bool) (func(), bool) {
	select {
	case c.kdf <- struct{}{}:
		return func() { <-c.kdf }, true
	default:
	}
	if !known {
		return nil, false
	}
	t := time.NewTimer(knownSlotWait)
	defer t.Stop()
	select {
	case c.kdf <- struct{}{}:
		return func() { <-c.kdf }, true
	case c.kdfKnown <- struct{}{}:
		return func() { <-c.kdfKnown }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// clientIP is the TCP peer's address. A peer on loopback is the reverse
// proxy in front of toritsugi (the documented deployment: TLS terminated
// on the same host), so the right-most X-Forwarded-For entry, the address
// that proxy saw, names the client; otherwise every operator would share
// the proxy's address and its login limit. Other peers' headers are not
// trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(last) != nil {
				return last
			}
		}
	}
	return host
}

// maxOperatorID bounds the operator ids a login is checked for.
const maxOperatorID = 64

// limitAddr is the address login limits count by: an IPv6 client's /64
// (one customer's network: rotating addresses inside it must not give
// fresh attempts), an IPv4 address as it is.
func limitAddr(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// overHTTPS reports whether the browser reached toritsugi over HTTPS: TLS
// here, or the loopback TLS proxy saying so (X-Forwarded-Proto). Its
// session cookie is then Secure even without http.secure_cookies, which
// an admin moving behind HTTPS may forget.
func overHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// clearCookie expires the session cookie in the browser.
func (c *Console) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true,
		Secure: c.d.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// loginForm handles the HTML login form.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	lang := pickLang(r)
	if err := r.ParseForm(); err != nil {
		c.pages.login(w, http.StatusBadRequest, lang, "login_failed", "")
		return
	}
	id := strings.TrimSpace(r.PostFormValue("operator_id"))
	_, _, res := c.login(w, r, id, r.PostFormValue("password"))
	switch res {
	case loginThrottled:
		c.pages.login(w, http.StatusTooManyRequests, lang, "login_throttled", id)
	case loginWrong:
		c.pages.login(w, http.StatusUnauthorized, lang, "login_failed", id)
	default:
		http.Redirect(w, r, "/console?lang="+lang, http.StatusSeeOther)
	}
}

// loginPage shows the login form.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.pages.login(w, http.StatusOK, pickLang(r), "", "")
}

// loginRequest is the body of POST /api/v1/login.
type loginRequest struct {
	OperatorID string `json:"operator_id"`
	Password   string `json:"password"`
}

// loginResponse answers a good JSON login.
type loginResponse struct {
	OperatorID string `json:"operator_id"`
	Name       string `json:"name"`
	Supervisor bool   `json:"supervisor"`
	CSRFToken  string `json:"csrf_token"`
}

// loginJSON handles POST /api/v1/login.
func (c *Console) loginJSON(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	op, ss, res := c.login(w, r, strings.TrimSpace(req.OperatorID), req.Password)
	switch res {
	case loginThrottled:
		fail(w, http.StatusTooManyRequests, "too many failed logins")
	case loginWrong:
		fail(w, http.StatusUnauthorized, "wrong operator id or password")
	default:
		writeJSON(w, http.StatusOK, loginResponse{OperatorID: op.ID, Name: op.Name, Supervisor: op.Supervisor, CSRFToken: ss.csrf})
	}
}

// logoutForm ends the session from the page's logout button.
func (c *Console) logoutForm(w http.ResponseWriter, r *http.Request, a authed) {
	c.logout(w, a)
	http.Redirect(w, r, "/login?lang="+a.lang, http.StatusSeeOther)
}

// logoutJSON ends the session (POST /api/v1/logout).
func (c *Console) logoutJSON(w http.ResponseWriter, r *http.Request, a authed) {
	c.logout(w, a)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// logout ends the session and takes its operator out of routing: an
// operator who logs out at the end of their shift must not be rung at an
// empty desk (after their call and wrap-up, if they are on one). Unless
// another session of theirs has a console open (its event stream: a
// second PC, a browser of their own): logging out of one does not take
// the other's console out of calls. A session with no console open (a
// browser closed without logging out, a wallboard, which has no stream)
// does not keep them in routing, nor does one a later login in the same
// browser replaced (replaceSession). The session is removed before the
// others are looked at, so that of two sessions logging out at once, the
// later one finds none.
func (c *Console) logout(w http.ResponseWriter, a authed) {
	c.sess.remove(a.sid)
	c.hub.endSession(a.sid)
	c.clearCookie(w)
	if slices.ContainsFunc(c.hub.streamSessions(a.op.ID), func(sid string) bool { return c.stillAuthed(authed{sid: sid}) }) {
		c.log.Info("logout of one session: the operator's console open in another goes on, still in routing", "operator", a.op.ID)
		return
	}
	c.d.Control.Logout(a.op.ID)
}
