package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters of a password hash.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// Default follows the OWASP minimum for argon2id (19 MiB, 2 passes).
var Default = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// Limits on parameters read from a stored hash, so a bad config line cannot
// make a login allocate gigabytes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
	saltLen      = 16
	keyLen       = 32
)

// ErrBadHash: a password hash is not an argon2id PHC string we accept.
var ErrBadHash = errors.New("password: malformed argon2id hash")

// Hash hashes pw with argon2id and Default, returning the PHC
// string "$argon2id$v=19$m=…,t=…,p=…$salt$hash" (unpadded base64).
func Hash(pw string) (string, error) {
	return HashWith(pw, Default)
}

// HashWith is Hash with chosen parameters (tests use cheap ones).
func HashWith(pw string, p Params) (string, error) {
	if p.MemoryKiB == 0 || p.MemoryKiB > maxMemoryKiB || p.Time == 0 || p.Time > maxTime || p.Threads == 0 {
		return "", fmt.Errorf("password: argon2 parameters %+v out of range", p)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Check reports whether pw matches hash, comparing in constant
// time. A malformed hash never matches.
func Check(hash, pw string) bool {
	p, salt, key, err := Parse(hash)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// Parse splits a PHC argon2id string and bounds its parameters.
func Parse(hash string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: version %q", ErrBadHash, parts[2])
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &threads); err != nil {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrBadHash, parts[3])
	}
	if p.MemoryKiB < 8 || p.MemoryKiB > maxMemoryKiB || p.Time == 0 || p.Time > maxTime || threads == 0 || threads > 255 {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range", ErrBadHash)
	}
	p.Threads = uint8(threads)
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrBadHash)
	}
	key, err := enc.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: key", ErrBadHash)
	}
	return p, salt, key, nil
}
