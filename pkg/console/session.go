package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// Session lifetimes.
const (
	// IdleTimeout ends a session nobody used for this long.
	IdleTimeout = 12 * time.Hour
	// AbsoluteTimeout ends every session this long after login.
	AbsoluteTimeout = 24 * time.Hour
)

// touchEvery bounds how often use of a session is written to the store:
// after a restart a session's idle time may count from up to this much
// earlier than its last real use.
const touchEvery = time.Minute

// session is one logged-in browser.
type session struct {
	operatorID string
	// cred is credential(op) at login: a new password (or none) ends
	// the session.
	cred     string
	csrf     string
	created  time.Time
	lastSeen time.Time
	// written is the lastSeen the store holds.
	written time.Time
}

// sessions keeps sessions in the store (so they survive a restart) with an
// in-memory cache in front. Both are keyed by sessionKey(id): neither the
// store nor the cache holds a secret id.
type sessions struct {
	st  *store.Store // nil: memory only
	log *slog.Logger

	mu sync.Mutex
	m  map[string]*session
	// ended holds the keys of sessions logged out, and when: a request
	// of that session in flight at the logout must not load it again
	// from the store (it is deleted there after the cache), nor write it
	// back. Kept for AbsoluteTimeout, after which no session is valid.
	ended map[string]time.Time
}

func newSessions(st *store.Store, log *slog.Logger) *sessions {
	return &sessions{st: st, log: log, m: map[string]*session{}, ended: map[string]time.Time{}}
}

// sessionKey is the hex SHA-256 of a session id: what the store and the
// cache are keyed by. The id has 256 random bits, so no salt is needed.
func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// randomToken returns 32 random bytes, base64url without padding.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// create starts a session for opID at now and returns its id. A store
// failure is logged and the session lives in memory only.
func (s *sessions) create(opID, cred string, now time.Time) (string, session, error) {
	id, err := randomToken()
	if err != nil {
		return "", session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", session{}, err
	}
	key := sessionKey(id)
	ss := &session{operatorID: opID, cred: cred, csrf: csrf, created: now, lastSeen: now, written: now}
	s.save(key, *ss)
	s.mu.Lock()
	gone := s.pruneLocked(now)
	s.m[key] = ss
	s.mu.Unlock()
	s.drop(gone...)
	return id, *ss, nil
}

// lookupLocked finds key in the cache or, after a restart, in the store.
// The caller holds s.mu.
func (s *sessions) lookupLocked(key string) (*session, bool) {
	if ss, ok := s.m[key]; ok {
		return ss, true
	}
	if _, ended := s.ended[key]; ended || s.st == nil {
		return nil, false
	}
	rec, err := s.st.Session(key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("load session", "err", err)
		}
		return nil, false
	}
	ss := &session{operatorID: rec.OperatorID, cred: rec.Credential, csrf: rec.CSRF, created: rec.Created, lastSeen: rec.LastSeen, written: rec.LastSeen}
	s.m[key] = ss
	return ss, true
}

// get returns the live session id names and marks it used at now; an
// expired session is removed and reported missing. Use is written to the
// store at most once per touchEvery.
func (s *sessions) get(id string, now time.Time) (session, bool) {
	key := sessionKey(id)
	s.mu.Lock()
	ss, ok := s.lookupLocked(key)
	if !ok {
		s.mu.Unlock()
		return session{}, false
	}
	if expired(ss, now) {
		delete(s.m, key)
		s.mu.Unlock()
		s.drop(key)
		return session{}, false
	}
	if now.After(ss.lastSeen) {
		ss.lastSeen = now
	}
	write := ss.lastSeen.Sub(ss.written) >= touchEvery
	if write {
		ss.written = ss.lastSeen
	}
	cp := *ss
	s.mu.Unlock()
	if write && s.st != nil {
		// Only if it is still stored: a logout may have deleted it since.
		if err := s.st.TouchSession(key, cp.lastSeen); err != nil {
			s.log.Error("save session", "operator", cp.operatorID, "err", err)
		}
	}
	return cp, true
}

// alive returns the live session id names at now without counting as use
// (event streams check it; they must not keep a session alive).
func (s *sessions) alive(id string, now time.Time) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.lookupLocked(sessionKey(id))
	if !ok || expired(ss, now) {
		return session{}, false
	}
	return *ss, true
}

// remove ends a session (logout) in the cache and the store, for good:
// a request of it in flight does not bring it back.
func (s *sessions) remove(id string) {
	key := sessionKey(id)
	s.mu.Lock()
	delete(s.m, key)
	s.ended[key] = time.Now()
	s.mu.Unlock()
	s.drop(key)
}

// sweep deletes the store's expired sessions; New calls it once.
func (s *sessions) sweep(now time.Time) {
	if s.st == nil {
		return
	}
	n, err := s.st.SweepSessions(func(r store.Session) bool {
		return expired(&session{created: r.Created, lastSeen: r.LastSeen}, now)
	})
	if err != nil {
		s.log.Error("sweep sessions", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("expired sessions deleted", "count", n)
	}
}

// save writes ss to the store under key, logging a failure.
func (s *sessions) save(key string, ss session) {
	if s.st == nil {
		return
	}
	err := s.st.PutSession(key, store.Session{OperatorID: ss.operatorID, Credential: ss.cred, CSRF: ss.csrf, Created: ss.created, LastSeen: ss.lastSeen})
	if err != nil {
		s.log.Error("save session", "operator", ss.operatorID, "err", err)
	}
}

// drop deletes keys from the store, logging failures.
func (s *sessions) drop(keys ...string) {
	if s.st == nil {
		return
	}
	for _, k := range keys {
		if err := s.st.DeleteSession(k); err != nil {
			s.log.Error("delete session", "err", err)
		}
	}
}

// pruneLocked drops expired sessions from the cache so it stays bounded by
// the live ones, and returns their keys for the caller to drop from the
// store once it has released s.mu.
func (s *sessions) pruneLocked(now time.Time) []string {
	for key, at := range s.ended {
		if time.Since(at) >= AbsoluteTimeout {
			delete(s.ended, key)
		}
	}
	var gone []string
	for key, ss := range s.m {
		if expired(ss, now) {
			delete(s.m, key)
			gone = append(gone, key)
		}
	}
	return gone
}

// clockStepBack is how far before a session's creation the clock may be
// set back (NTP correcting a drift, a restart on a host whose clock was
// ahead) with the session still valid: every operator was logged out,
// mid-shift, by a step of seconds. A session "made" further in the
// future is not one this clock made.
const clockStepBack = 10 * time.Minute

// expired reports whether ss is past its idle or absolute limit at now.
func expired(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) >= IdleTimeout || now.Sub(ss.created) >= AbsoluteTimeout || now.Before(ss.created.Add(-clockStepBack))
}

// validCSRF compares a presented token with the session's in constant time.
func (ss session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(ss.csrf)) == 1
}

// LoggedIn returns the operators who have a console session still valid
// now: not expired, and made with the password they are configured with
// (a session of a changed password would be refused at its next request).
// A restart restores only these operators' states (desk.RestorePresence).
func (c *Console) LoggedIn() (map[string]bool, error) {
	out := map[string]bool{}
	if c.sess.st == nil {
		return out, nil
	}
	all, err := c.sess.st.Sessions()
	if err != nil {
		return nil, fmt.Errorf("console: logged-in operators: %w", err)
	}
	now := c.now()
	for _, r := range all {
		ss := session{operatorID: r.OperatorID, cred: r.Credential, created: r.Created, lastSeen: r.LastSeen}
		if expired(&ss, now) {
			continue
		}
		if _, ok := c.sessionOperator(ss); ok {
			out[r.OperatorID] = true
		}
	}
	return out, nil
}
