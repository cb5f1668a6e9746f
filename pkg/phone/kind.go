package phone

import (
	"fmt"
	"strconv"
)

// Kind classifies a caller ID. The zero value is Invalid, so a zero CallerID
// never pretends to carry a number.
type Kind int

// The kinds of caller ID a Japanese trunk delivers.
const (
	// Invalid is anything that is neither a usable number nor a known
	// "no number" reason.
	Invalid Kind = iota
	// Number is a usable telephone number; CallerID.E164 is set.
	Number
	// Withheld is 非通知: the caller chose not to send the number
	// (Asterisk "P", "anonymous", "private").
	Withheld
	// Unavailable is 表示圏外 / 通知不可能: the network could not deliver the
	// number (Asterisk "O", "unavailable", "unknown", or nothing at all).
	Unavailable
	// Payphone is 公衆電話 (Asterisk "C").
	Payphone
)

var kindNames = [...]string{
	Invalid:     "invalid",
	Number:      "number",
	Withheld:    "withheld",
	Unavailable: "unavailable",
	Payphone:    "payphone",
}

// String returns the stable lower-case name used in logs, JSON and the store.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for k, name := range kindNames {
		if s == name {
			return Kind(k), nil
		}
	}
	return Invalid, fmt.Errorf("phone: unknown kind %q: %w", s, ErrInvalid)
}

// MarshalText encodes the kind as its name.
func (k Kind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(kindNames) {
		return nil, fmt.Errorf("phone: cannot marshal %v: %w", k, ErrInvalid)
	}
	return []byte(k.String()), nil
}

// UnmarshalText decodes a kind name written by MarshalText.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
