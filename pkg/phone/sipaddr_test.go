package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestDIDFromAddress(t *testing.T) {
	for _, c := range []struct {
		in, want string
		bad      string // part of the error when the input is refused
	}{
		{in: "<sip:0312345678@192.168.1.1>", want: "0312345678"},
		{in: "<sip:0312345678@ntt-east.ne.jp;user=phone>", want: "0312345678"},
		{in: `"代表" <sip:0312345678@192.168.1.1>;tag=as1234`, want: "0312345678"},
		{in: "  sip:0312345678@192.168.1.1  ", want: "0312345678"},
		{in: "<sip:+81312345678@trunk.example.jp>", want: "+81312345678"},
		{in: "<sips:81312345678@trunk.example.jp:5061>", want: "81312345678"},
		{in: "<sip:%2B81312345678@trunk.example.jp>", want: "+81312345678"},
		{in: "<sip:0312345678;npdi;rn=0312340000@trunk.example.jp>", want: "0312345678"},
		{in: "<tel:+81-3-1234-5678>", want: "+81312345678"},
		{in: "<tel:03-1234-5678;phone-context=+81>", want: "0312345678"},
		{in: "<sip:0120123456@192.168.1.1>", want: "0120123456"},
		{in: "<sip:+81-3-1234-5678@trunk.example.jp;user=phone>", want: "+81312345678"},
		{in: "<sip:%200312345678@192.168.1.1>", bad: "not a dialled number"},
		{in: `"a <b>; c" <sip:0312345678@[2001:db8::1]:5060>`, want: "0312345678"},
		{in: "<sip:3@192.168.1.1>", bad: "not a dialled number"},
		{in: "<sip:s@192.168.1.1>", bad: "not a dialled number"},
		{in: "<sip:192.168.1.1>", bad: "no user part"},
		{in: "<mailto:a@example.jp>", bad: "not a SIP address"},
		{in: "", bad: "not a SIP address"},
		{in: "0312345678", bad: "not a SIP address"},
	} {
		got, err := DIDFromAddress(c.in)
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) || !errors.Is(err, ErrInvalid) {
				t.Errorf("DIDFromAddress(%q) = %q, %v; want an ErrInvalid saying %q", c.in, got, err, c.bad)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("DIDFromAddress(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// FuzzDIDFromAddress: whatever a gateway sends, the result is a DID that
// NormalizeDID takes, or an ErrInvalid; never a panic.
func FuzzDIDFromAddress(f *testing.F) {
	for _, s := range []string{
		"<sip:0312345678@192.168.1.1>", `"a" <sip:+81312345678@h;user=phone>;tag=x`,
		"<tel:+81-3-1234-5678>", "<sip:3@192.168.1.1>", "<sip:%2B81312345678@h>",
		"sip:", "<", "<sip:@>", "\"", "<tel:>", "<sip:0312345678;a=b@h>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		did, err := DIDFromAddress(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if _, err := NormalizeDID(did); err != nil {
			t.Fatalf("%q gave %q, which NormalizeDID refuses: %v", s, did, err)
		}
	})
}
