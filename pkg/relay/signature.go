package relay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Signature errors returned (wrapped) by VerifySignature.
var (
	ErrSignatureMissing   = errors.New("relay: webhook signature or timestamp missing")
	ErrSignatureMalformed = errors.New("relay: webhook signature malformed")
	ErrSignatureExpired   = errors.New("relay: webhook timestamp outside tolerance")
	ErrSignatureMismatch  = errors.New("relay: webhook signature mismatch")
)

const signaturePrefix = "sha256="

// Sign returns the X-Toritsugi-Signature value for body sent at ts (unix
// seconds, decimal): "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret, ts string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// VerifySignature checks a received webhook: ts and sig are the
// X-Toritsugi-Timestamp and X-Toritsugi-Signature header values, body the
// raw request body, now the receiver's clock. The timestamp must be within
// tolerance of now (either side); the comparison is constant-time.
func VerifySignature(secret, ts string, body []byte, sig string, now time.Time, tolerance time.Duration) error {
	if ts == "" || sig == "" {
		return ErrSignatureMissing
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 12 {
		return fmt.Errorf("%w: timestamp %.20q", ErrSignatureMalformed, ts)
	}
	hexSig, ok := strings.CutPrefix(sig, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: want %q prefix", ErrSignatureMalformed, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: not %d hex bytes", ErrSignatureMalformed, sha256.Size)
	}
	if skew := now.Sub(time.Unix(sec, 0)).Abs(); skew > tolerance {
		return fmt.Errorf("%w: skew %v > %v", ErrSignatureExpired, skew, tolerance)
	}
	if !hmac.Equal(got, mac(secret, ts, body)) {
		return ErrSignatureMismatch
	}
	return nil
}
