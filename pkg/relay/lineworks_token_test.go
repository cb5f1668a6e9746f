package relay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineWorksServer is LINE WORKS on loopback: a token URL that checks the
// JWT grant and issues tok-1, tok-2, ..., and the bot message API that
// accepts the tokens it issued and has not revoked.
type lineWorksServer struct {
	t   *testing.T
	key *rsa.PublicKey
	srv *httptest.Server

	mu       sync.Mutex
	issued   int
	revoked  map[string]bool
	posted   []string // the token each accepted message came with
	refuse   bool     // the token URL refuses the client
	expiresN bool     // expires_in as a number, not a string
	// hold, when set, holds the token answers for client "slow" until
	// closed (read without the lock: set before the server is used).
	hold    chan struct{}
	arrived chan struct{} // told when a held request arrives (buffered)
}

func startLineWorks(t *testing.T, key *rsa.PublicKey) *lineWorksServer {
	s := &lineWorksServer{t: t, key: key, revoked: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *lineWorksServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" && s.hold != nil {
		if err := r.ParseForm(); err == nil && r.PostForm.Get("client_id") == "slow" {
			s.arrived <- struct{}{}
			<-s.hold
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/token":
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if s.refuse || r.PostForm.Get("client_secret") != "cs" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		if err := s.checkGrant(r.PostForm.Get("assertion"), r.PostForm.Get("grant_type"), r.PostForm.Get("scope"), r.PostForm.Get("client_id")); err != nil {
			s.t.Errorf("token request: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.issued++
		exp := `"86400"`
		if s.expiresN {
			exp = "86400"
		}
		fmt.Fprintf(w, `{"access_token":"tok-%d","refresh_token":"r","scope":"bot","token_type":"Bearer","expires_in":%s}`, s.issued, exp)
	case "/v1.0/bots/b1/channels/r1/messages":
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !strings.HasPrefix(tok, "tok-") || s.revoked[tok] {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code":"UNAUTHORIZED","description":"Authentication failed"}`)
			return
		}
		s.posted = append(s.posted, tok)
		w.WriteHeader(http.StatusCreated)
	default:
		http.NotFound(w, r)
	}
}

// checkGrant verifies the RFC 7523 grant: an RS256 JWT signed with the
// service account's key, iss the client id, sub the service account,
// valid for an hour.
func (s *lineWorksServer) checkGrant(jwt, grantType, scope, clientID string) error {
	if grantType != "urn:ietf:params:oauth:grant-type:jwt-bearer" || scope != "bot" {
		return fmt.Errorf("grant_type %q scope %q", grantType, scope)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("JWT of %d parts", len(parts))
	}
	dec := base64.RawURLEncoding
	var header struct{ Alg, Typ string }
	var claims struct {
		Iss, Sub string
		Iat, Exp int64
	}
	h, err1 := dec.DecodeString(parts[0])
	c, err2 := dec.DecodeString(parts[1])
	sig, err3 := dec.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3, json.Unmarshal(h, &header), json.Unmarshal(c, &claims)); err != nil {
		return fmt.Errorf("JWT encoding: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.key, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("JWT signature: %w", err)
	}
	if header.Alg != "RS256" || header.Typ != "JWT" || claims.Iss != clientID || claims.Sub != "bot@example.serviceaccount" || claims.Exp-claims.Iat != 3600 {
		return fmt.Errorf("JWT header %+v claims %+v", header, claims)
	}
	return nil
}

func (s *lineWorksServer) state() (issued int, posted []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued, append([]string(nil), s.posted...)
}

func newLineWorksKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// TestLineWorksServiceAccountTokens: the sender gets its token by the JWT
// grant, keeps it for later messages, renews it before it expires, and
// once more when the API refuses it; a token URL that refuses the client
// is a permanent error.
func TestLineWorksServiceAccountTokens(t *testing.T) {
	key, keyPEM := newLineWorksKey(t)
	lw := startLineWorks(t, &key.PublicKey)
	clock := newFakeClock()
	s := &LineWorksSender{http: httpPoster{client: lw.srv.Client()},
		tokens: &lineWorksTokens{client: lw.srv.Client(), clock: clock, url: lw.srv.URL + "/token"}}
	d := Destination{Name: "lw", Type: TypeLineWorks, URL: lw.srv.URL + "/v1.0", BotID: "b1", RoomID: "r1",
		ClientID: "client-1", ClientSecret: "cs", ServiceAccount: "bot@example.serviceaccount", PrivateKey: keyPEM}
	send := func(step string) {
		t.Helper()
		if err := s.Send(t.Context(), d, testMessage("m-"+step)); err != nil {
			t.Fatalf("%s: Send: %v", step, err)
		}
	}
	send("first")
	send("second")
	if issued, posted := lw.state(); issued != 1 || strings.Join(posted, ",") != "tok-1,tok-1" {
		t.Fatalf("after two messages: %d tokens issued, posted with %v; want 1, tok-1 twice", issued, posted)
	}
	<-clock.After(24*time.Hour - tokenMargin + time.Second) // within the margin of its end
	send("near expiry")
	if issued, posted := lw.state(); issued != 2 || posted[2] != "tok-2" {
		t.Fatalf("near expiry: %d issued, posted with %v; want tok-2", issued, posted)
	}
	lw.mu.Lock()
	lw.revoked["tok-2"] = true
	lw.expiresN = true
	lw.mu.Unlock()
	send("revoked")
	if issued, posted := lw.state(); issued != 3 || posted[3] != "tok-3" {
		t.Fatalf("after a 401: %d issued, posted with %v; want tok-3", issued, posted)
	}
	lw.mu.Lock()
	lw.revoked["tok-3"], lw.refuse = true, true
	lw.mu.Unlock()
	err := s.Send(t.Context(), d, testMessage("m-refused"))
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("token URL refusing the client: %v, want a permanent error naming invalid_client", err)
	}
	if _, posted := lw.state(); len(posted) != 4 {
		t.Errorf("%d messages posted, want 4", len(posted))
	}
}

func TestParseLineWorksKey(t *testing.T) {
	key, pkcs8 := newLineWorksKey(t)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	for name, tc := range map[string]struct {
		pem string
		ok  bool
	}{
		"pkcs8": {pkcs8, true}, "pkcs1": {pkcs1, true}, "empty": {"", false},
		"not pem": {"MIIE...", false}, "garbage block": {"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", false},
	} {
		if err := ParseLineWorksKey(tc.pem); (err == nil) != tc.ok {
			t.Errorf("%s: ParseLineWorksKey = %v, want ok=%v", name, err, tc.ok)
		}
	}
}

// TestLineWorksSlowTokenHoldsOnlyItsOwn: a token URL slow to answer for
// one service account holds up only that account's messages.
func TestLineWorksSlowTokenHoldsOnlyItsOwn(t *testing.T) {
	key, keyPEM := newLineWorksKey(t)
	lw := startLineWorks(t, &key.PublicKey)
	lw.hold, lw.arrived = make(chan struct{}), make(chan struct{}, 1)
	s := &LineWorksSender{http: httpPoster{client: lw.srv.Client()},
		tokens: &lineWorksTokens{client: lw.srv.Client(), clock: newFakeClock(), url: lw.srv.URL + "/token"}}
	dest := func(client string) Destination {
		return Destination{Name: "lw-" + client, Type: TypeLineWorks, URL: lw.srv.URL + "/v1.0", BotID: "b1", RoomID: "r1",
			ClientID: client, ClientSecret: "cs", ServiceAccount: "bot@example.serviceaccount", PrivateKey: keyPEM}
	}
	slowDone := make(chan error, 1)
	go func() { slowDone <- s.Send(t.Context(), dest("slow"), testMessage("m-slow")) }()
	<-lw.arrived // the slow fetch is under way
	fast := make(chan error, 1)
	go func() { fast <- s.Send(t.Context(), dest("client-1"), testMessage("m-fast")) }()
	select {
	case err := <-fast:
		if err != nil {
			t.Fatalf("the other account's message: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the other account's message waited for the slow token")
	}
	close(lw.hold)
	if err := <-slowDone; err != nil {
		t.Fatalf("the slow account's message: %v", err)
	}
}
