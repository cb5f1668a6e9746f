package phone

import (
	"errors"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"0312345678", "+81312345678", "81312345678", "09012345678", "0120123456",
	"08001234567", "０３－１２３４－５６７８", "(03)1234-5678", "+81 (0)3 1234 5678",
	"010442071234567", "+12125550123", "P", "O", "C", "anonymous", "", "+", "810",
	"sip:anonymous@anonymous.invalid", "\xff\xfe", "0000000000",
}

// checkE164 asserts the invariants every E.164 result must satisfy.
func checkE164(t *testing.T, input, e164 string) {
	t.Helper()
	if !strings.HasPrefix(e164, "+") || !allDigits(e164[1:]) || len(e164) < 9 || len(e164) > 16 {
		t.Fatalf("%q gave malformed E.164 %q", input, e164)
	}
	c := ParseCallerID(e164)
	if c.Kind != Number || c.E164 != e164 {
		t.Fatalf("%q: ParseCallerID(%q) = %+v, not a fixed point", input, e164, c)
	}
	back, err := ParseNumber(c.National())
	if err != nil || back != e164 {
		t.Fatalf("%q: ParseNumber(National %q) = %q, %v; want %q", input, c.National(), back, err, e164)
	}
	if did, err := NormalizeDID(e164); err != nil || did != e164 {
		t.Fatalf("%q: NormalizeDID(%q) = %q, %v", input, e164, did, err)
	}
	if c.Display() == "" {
		t.Fatalf("%q: empty Display", input)
	}
}

func FuzzParseCallerID(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c := ParseCallerID(raw)
		if c.Raw != raw {
			t.Fatalf("Raw = %q, want %q", c.Raw, raw)
		}
		if c.Kind == Number {
			checkE164(t, raw, c.E164)
		} else if c.E164 != "" || c.National() != "" {
			t.Fatalf("%q: kind %v carries a number %+v", raw, c.Kind, c)
		}
		if c.Display() == "" {
			t.Fatalf("%q: empty Display", raw)
		}
		if e164, err := ParseNumber(raw); err == nil {
			checkE164(t, raw, e164)
			if c.Kind != Number || c.E164 != e164 {
				t.Fatalf("%q: strict parse gave %q but caller ID %+v", raw, e164, c)
			}
		}
	})
}

func FuzzNormalizeDID(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e164, err := NormalizeDID(s)
		if err != nil {
			if e164 != "" {
				t.Fatalf("%q: error %v with result %q", s, err, e164)
			}
			return
		}
		checkE164(t, s, e164)
	})
}

// FuzzParseNumber: a number is either accepted as a fixed point in E.164 or
// refused with a *NumberError whose reason is specific.
func FuzzParseNumber(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, s := range []string{"03-12", "+81 90 1234 567", "+81 (0)3 1234 5678", "0120-123-4567", "+81 10 1234 5678", "03＋1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e164, err := ParseNumber(s)
		if err == nil {
			checkE164(t, s, e164)
			if again, err := ParseNumber(e164); err != nil || again != e164 {
				t.Fatalf("%q: ParseNumber(%q) = %q, %v; not a fixed point", s, e164, again, err)
			}
			return
		}
		var ne *NumberError
		if e164 != "" || !errors.Is(err, ErrInvalid) || !errors.As(err, &ne) || ne.Input != s {
			t.Fatalf("%q: ParseNumber = %q, %#v", s, e164, err)
		}
		if ne.Reason == "" || ne.Reason == reasonUnknown {
			t.Fatalf("%q: vague reason %q", s, ne.Reason)
		}
	})
}
