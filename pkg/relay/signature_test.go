package relay

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVerifySignature(t *testing.T) {
	now := time.Unix(1775035800, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"id":"m-1"}`)
	good := Sign("s3cret", ts, body)
	old := strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10)
	tests := []struct {
		name   string
		secret string
		ts     string
		body   []byte
		sig    string
		want   error
	}{
		{"valid", "s3cret", ts, body, good, nil},
		{"wrong secret", "other", ts, body, good, ErrSignatureMismatch},
		{"tampered body", "s3cret", ts, []byte(`{"id":"m-2"}`), good, ErrSignatureMismatch},
		{"other timestamp", "s3cret", strconv.FormatInt(now.Unix()+1, 10), body, good, ErrSignatureMismatch},
		{"too old", "s3cret", old, body, Sign("s3cret", old, body), ErrSignatureExpired},
		{"missing sig", "s3cret", ts, body, "", ErrSignatureMissing},
		{"missing ts", "s3cret", "", body, good, ErrSignatureMissing},
		{"no prefix", "s3cret", ts, body, good[len("sha256="):], ErrSignatureMalformed},
		{"bad hex", "s3cret", ts, body, "sha256=zz", ErrSignatureMalformed},
		{"short", "s3cret", ts, body, good[:20], ErrSignatureMalformed},
		{"bad ts", "s3cret", "12a", body, good, ErrSignatureMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.secret, tt.ts, tt.body, tt.sig, now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add("s3cret", "1775035800", []byte(`{"id":"m-1"}`), "sha256=00")
	f.Add("", "0", []byte{}, Sign("", "0", nil))
	f.Add("k", "-1", []byte("x"), "sha256=")
	f.Add("k", "999999999999", []byte("\x00\xff"), "SHA256=AB")
	now := time.Unix(1775035800, 0)
	f.Fuzz(func(t *testing.T, secret, ts string, body []byte, sig string) {
		err := VerifySignature(secret, ts, body, sig, now, 5*time.Minute)
		// Hex is read in either case: a signature in capitals is the same.
		if err == nil && !strings.EqualFold(sig, Sign(secret, ts, body)) {
			t.Fatalf("accepted a signature that Sign did not produce: %q", sig)
		}
		// What Sign produces verifies whenever the timestamp is a fresh
		// decimal number.
		if sec, perr := strconv.ParseInt(ts, 10, 64); perr == nil && len(ts) <= 12 &&
			now.Sub(time.Unix(sec, 0)).Abs() <= 5*time.Minute {
			if err := VerifySignature(secret, ts, body, Sign(secret, ts, body), now, 5*time.Minute); err != nil {
				t.Fatalf("own signature rejected: %v", err)
			}
		}
	})
}
