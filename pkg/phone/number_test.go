package phone

import (
	"errors"
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in     string
		want   string // E.164, or "" when an error is expected
		reason string // NumberError.Reason when an error is expected
	}{
		{"03-1234-5678", "+81312345678", ""},
		{"0312345678", "+81312345678", ""},
		{" 03 1234 5678 ", "+81312345678", ""},
		{"+81 3 1234 5678", "+81312345678", ""},
		{"+81 3-1234-5678", "+81312345678", ""},
		{"+81 (0)3 1234 5678", "+81312345678", ""},
		{"(03)1234-5678", "+81312345678", ""},
		{"(03) 1234-5678", "+81312345678", ""},
		{"0120-123-456", "+81120123456", ""},
		{"0800-123-4567", "+818001234567", ""},
		{"050-3123-4567", "+815031234567", ""},
		{"090.1234.5678", "+819012345678", ""},
		{"０３－１２３４－５６７８", "+81312345678", ""},
		{"０９０ー１２３４ー５６７８", "+819012345678", ""},
		{"＋８１　３　１２３４　５６７８", "+81312345678", ""},
		{"+1 212 555 0123", "+12125550123", ""},
		{"", "", reasonEmpty},
		{"   ", "", reasonEmpty},
		{"---", "", reasonNoDigits},
		{"+", "", reasonNoDigits},
		{"03-1234-abcd", "", `"a" is not allowed; ` + reasonAllowed},
		{"03-1234-5678 ext 2", "", `"e" is not allowed; ` + reasonAllowed},
		{"tel:+81312345678", "", `"t" is not allowed; ` + reasonAllowed},
		{"03-1234-5678+", "", reasonLatePlus},
		{"03＋12345678", "", reasonLatePlus},
		{"010-1-212-555-0123", "", reasonIntlPrefix},
		{"010-81-3-1234-5678", "", reasonIntlPrefix},
		{"00-81-3-1234-5678", "", reasonIntlPrefix},
		{"81312345678", "", reasonTrunkForm},
		{"810312345678", "", reasonTrunkForm},
		{"8190 1234 5678", "", reasonTrunkForm},
		{"312345678", "", reasonNoPrefix},
		{"110", "", reasonNoPrefix},
		{"03-12", "", reasonNational},
		{"031234567890", "", reasonNational},
		{"03-1234-567", "", reasonNational},
		{"0120-123-4567", "", "a Japanese number has 10 digits unless it starts with 020, 050, 060, 070, 080, 0800 or 090"},
		{"090-1234-567", "", "a Japanese number starting 090 has 11 digits"},
		{"0800-123-456", "", "a Japanese number starting 0800 has 11 digits"},
		{"+81", "", reasonJapanLen},
		{"+81 3 1234", "", reasonJapanLen},
		{"+81 90 1234 567", "", "a Japanese number starting +81 90 has 10 digits after +81"},
		{"+81 3 1234 56789", "", "a Japanese number has 9 digits after +81 unless it starts with 20, 50, 60, 70, 80, 800 or 90"},
		{"+81 00 3123 4567", "", reasonAfter81},
		{"+81 10 1234 5678", "", reason010},
		{"+1 212", "", reasonE164Len},
		{"+1 212 555 0123 45678", "", reasonE164Len},
		{"+44", "", reasonE164Len},
		{"+0312345678", "", reasonCountry0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseNumber(tt.in)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var ne *NumberError
			if got != "" || !errors.Is(err, ErrInvalid) || !errors.As(err, &ne) {
				t.Fatalf("ParseNumber(%q) = %q, %v; want a *NumberError wrapping ErrInvalid", tt.in, got, err)
			}
			if ne.Input != tt.in || ne.Reason != tt.reason {
				t.Fatalf("ParseNumber(%q) error = %+v; want reason %q", tt.in, *ne, tt.reason)
			}
		})
	}
}

// TestIntlPrefixPolicy pins the one policy for 00/010: refused in numbers
// people write, accepted in caller IDs as carriers deliver them.
func TestIntlPrefixPolicy(t *testing.T) {
	const raw = "010-1-212-555-0123"
	if c := ParseCallerID(raw); c.Kind != Number || c.E164 != "+12125550123" {
		t.Errorf("ParseCallerID(%q) = %+v, want +12125550123", raw, c)
	}
	if _, err := ParseNumber(raw); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseNumber(%q) err = %v, want ErrInvalid", raw, err)
	}
}

func TestNumberErrorMessage(t *testing.T) {
	_, err := ParseNumber("03-12")
	const want = `phone: "03-12": a Japanese number has 10 or 11 digits`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
	_, err = NormalizeDID("anonymous")
	var ne *NumberError
	if !errors.As(err, &ne) || ne.Input != "anonymous" || ne.Reason != reasonDID || !errors.Is(err, ErrInvalid) {
		t.Fatalf("NormalizeDID error = %#v", err)
	}
}

func TestFromChannel(t *testing.T) {
	for _, tc := range []struct{ number, name, want string }{
		{"0312345678", "Coin line/payphone", "0312345678"}, // a number is a number
		{"anonymous", "Coin line/payphone", "Coin line/payphone"},
		{"anonymous", "Unavailable", "Unavailable"},
		{"", "Interaction with other service", "Interaction with other service"},
		{"anonymous", "Anonymous", "Anonymous"},
		{"anonymous", "山田太郎", "anonymous"}, // a name that is no reason
		{"anonymous", "", "anonymous"},
	} {
		if got := FromChannel(tc.number, tc.name); got != tc.want {
			t.Errorf("FromChannel(%q, %q) = %q, want %q", tc.number, tc.name, got, tc.want)
		}
	}
	if k := ParseCallerID(FromChannel("anonymous", "Coin line/payphone")).Kind; k != Payphone {
		t.Errorf("a payphone by its display name is %v", k)
	}
}
