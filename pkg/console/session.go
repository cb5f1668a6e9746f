package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"sync"
	"time"
)

// Session lifetimes.
const (
	// IdleTimeout ends a session nobody used for this long.
	IdleTimeout = 12 * time.Hour
	// AbsoluteTimeout ends every session this long after login.
	AbsoluteTimeout = 24 * time.Hour
)

// session is one logged-in browser.
type session struct {
	operatorID string
	csrf       string
	created    time.Time
	lastSeen   time.Time
}

// sessions holds the live sessions in memory, keyed by their secret id.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

func newSessions() *sessions { return &sessions{m: map[string]*session{}} }

// randomToken returns 32 random bytes, base64url without padding.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// create starts a session for opID at now and returns its id.
func (s *sessions) create(opID string, now time.Time) (string, session, error) {
	id, err := randomToken()
	if err != nil {
		return "", session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", session{}, err
	}
	ss := &session{operatorID: opID, csrf: csrf, created: now, lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	s.m[id] = ss
	return id, *ss, nil
}

// get returns the live session id names and marks it used at now; an
// expired session is removed and reported missing.
func (s *sessions) get(id string, now time.Time) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if !ok {
		return session{}, false
	}
	if expired(ss, now) {
		delete(s.m, id)
		return session{}, false
	}
	ss.lastSeen = now
	return *ss, true
}

// alive reports whether id names a live session at now without counting
// as use (event streams check it; they must not keep a session alive).
func (s *sessions) alive(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	return ok && !expired(ss, now)
}

// remove ends a session (logout).
func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// pruneLocked drops expired sessions so the map stays bounded by the live ones.
func (s *sessions) pruneLocked(now time.Time) {
	for id, ss := range s.m {
		if expired(ss, now) {
			delete(s.m, id)
		}
	}
}

// expired reports whether ss is past its idle or absolute limit at now.
func expired(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) >= IdleTimeout || now.Sub(ss.created) >= AbsoluteTimeout || now.Before(ss.created)
}

// validCSRF compares a presented token with the session's in constant time.
func (ss session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(ss.csrf)) == 1
}
