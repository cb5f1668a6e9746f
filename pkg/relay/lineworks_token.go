package relay

import (
	"context"
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
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LineWorksTokenURL issues LINE WORKS API 2.0 access tokens.
const LineWorksTokenURL = "https://auth.worksmobile.com/oauth2/v2.0/token"

// lineWorksScope is the OAuth scope asked for when Destination.Scope is
// empty: the bot's messages.
const lineWorksScope = "bot"

// tokenMargin: a cached token is renewed this long before it expires, so
// that a message is never sent with a token that expires on the way.
const tokenMargin = 5 * time.Minute

// lineWorksTokens gets and caches access tokens by the service account
// (JWT) flow: a JWT (RS256; iss the client id, sub the service account,
// valid for an hour) is exchanged at the token URL for an access token
// (24 hours). The RFC 7523 grant: form fields assertion, grant_type,
// client_id, client_secret and scope.
type lineWorksTokens struct {
	client *http.Client
	clock  Clock
	url    string // LineWorksTokenURL unless a test says otherwise

	mu    sync.Mutex // guards cache and fetching
	cache map[lineWorksKey]lineWorksToken
	// fetching holds, per key, the lock held while that key's token is
	// fetched: one fetch per service account at a time, and a slow token
	// URL holds up only the destinations waiting for that token.
	fetching map[lineWorksKey]*sync.Mutex
}

type lineWorksKey struct{ clientID, account, scope string }

type lineWorksToken struct {
	value   string
	expires time.Time
}

func keyOf(d Destination) lineWorksKey {
	scope := d.Scope
	if scope == "" {
		scope = lineWorksScope
	}
	return lineWorksKey{d.ClientID, d.ServiceAccount, scope}
}

// token returns a valid access token for d, from the cache or fetched;
// fresh reports that it was just fetched.
func (t *lineWorksTokens) token(ctx context.Context, d Destination) (tok string, fresh bool, err error) {
	k := keyOf(d)
	if tok, ok := t.cached(k); ok {
		return tok, false, nil
	}
	t.mu.Lock()
	if t.fetching == nil {
		t.fetching = map[lineWorksKey]*sync.Mutex{}
	}
	kl := t.fetching[k]
	if kl == nil {
		kl = &sync.Mutex{}
		t.fetching[k] = kl
	}
	t.mu.Unlock()
	kl.Lock()
	defer kl.Unlock()
	if tok, ok := t.cached(k); ok { // fetched while this one waited
		return tok, false, nil
	}
	c, err := t.fetch(ctx, d, k.scope)
	if err != nil {
		return "", false, err
	}
	t.mu.Lock()
	if t.cache == nil {
		t.cache = map[lineWorksKey]lineWorksToken{}
	}
	t.cache[k] = c
	t.mu.Unlock()
	return c.value, true, nil
}

// cached is k's token if it is good for more than tokenMargin.
func (t *lineWorksTokens) cached(k lineWorksKey) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.cache[k]
	return c.value, ok && t.clock.Now().Before(c.expires.Add(-tokenMargin))
}

// forget drops d's cached token if it is still tok (the API refused it).
func (t *lineWorksTokens) forget(d Destination, tok string) {
	k := keyOf(d)
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.cache[k]; ok && c.value == tok {
		delete(t.cache, k)
	}
}

// fetch asks the token URL for a new access token. A refusal (4xx: a wrong
// client secret, key or service account) is permanent.
func (t *lineWorksTokens) fetch(ctx context.Context, d Destination, scope string) (lineWorksToken, error) {
	now := t.clock.Now()
	jwt, err := lineWorksJWT(d, now)
	if err != nil {
		return lineWorksToken{}, fmt.Errorf("relay: lineworks %q token: %w: %w", d.Name, err, ErrPermanent)
	}
	form := url.Values{
		"assertion":     {jwt},
		"grant_type":    {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"client_id":     {d.ClientID},
		"client_secret": {d.ClientSecret},
		"scope":         {scope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(form.Encode()))
	if err != nil {
		return lineWorksToken{}, fmt.Errorf("relay: lineworks token: %w: %w", stripURL(err), ErrPermanent)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "toritsugi-relay/1")
	resp, err := t.client.Do(req)
	if err != nil {
		return lineWorksToken{}, fmt.Errorf("relay: lineworks token %s: %w", redact(t.url), stripURL(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("relay: lineworks token %s: %w: %s", redact(t.url), &StatusError{Code: resp.StatusCode},
			strings.TrimSpace(string(body[:min(len(body), maxErrBody)])))
		if permanentStatus(resp.StatusCode) {
			return lineWorksToken{}, fmt.Errorf("%w: %w", err, ErrPermanent)
		}
		return lineWorksToken{}, err
	}
	var r struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"` // "86400" or 86400
	}
	if err := json.Unmarshal(body, &r); err != nil || r.AccessToken == "" {
		return lineWorksToken{}, fmt.Errorf("relay: lineworks token %s: no access_token in the answer", redact(t.url))
	}
	secs, err := strconv.Atoi(strings.Trim(string(r.ExpiresIn), `"`))
	if err != nil || secs <= 0 {
		secs = 3600 // not said: assume the shorter of the documented lives
	}
	secs = min(secs, 7*24*3600) // more would overflow a Duration, or outlive any token
	return lineWorksToken{value: r.AccessToken, expires: now.Add(time.Duration(secs) * time.Second)}, nil
}

// lineWorksJWT is the signed assertion for d at now.
func lineWorksJWT(d Destination, now time.Time) (string, error) {
	key, err := parseRSAKey(d.PrivateKey)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	// iat a minute back: an auth server whose clock is a little behind
	// must not see a JWT from the future (a refusal is permanent).
	claims, _ := json.Marshal(map[string]any{
		"iss": d.ClientID, "sub": d.ServiceAccount,
		"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour - time.Minute).Unix(),
	})
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing the JWT: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// ParseLineWorksKey checks a LINE WORKS private key (the Developer
// Console's private_*.key: PEM, PKCS #8, or PKCS #1).
func ParseLineWorksKey(pemText string) error {
	_, err := parseRSAKey(pemText)
	return err
}

func parseRSAKey(pemText string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("private key: no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("private key: not an RSA key")
	}
	return rk, nil
}
