package phone

import (
	"errors"
	"slices"
	"testing"
)

func TestParseCallerID(t *testing.T) {
	tests := []struct {
		raw      string
		kind     Kind
		e164     string
		national string
		display  string
	}{
		{"0312345678", Number, "+81312345678", "0312345678", "03-1234-5678"},
		{"+81312345678", Number, "+81312345678", "0312345678", "03-1234-5678"},
		{"81312345678", Number, "+81312345678", "0312345678", "03-1234-5678"},
		{"810312345678", Number, "+81312345678", "0312345678", "03-1234-5678"},
		// The international form most of the world writes, as some
		// trunks present a Japanese caller.
		{"0081312345678", Number, "+81312345678", "0312345678", "03-1234-5678"},
		{"00819012345678", Number, "+819012345678", "09012345678", "090-1234-5678"},
		// Another country's in that form is not read: 0033 is France
		// (+33) or NTT Communications' carrier code before a number.
		{"0033312345678", Invalid, "", "", "0033312345678（形式不明）"},
		{"0012125550123", Invalid, "", "", "0012125550123（形式不明）"},
		{"819012345678", Number, "+819012345678", "09012345678", "090-1234-5678"},
		{"0612345678", Number, "+81612345678", "0612345678", "06-1234-5678"},
		{"09012345678", Number, "+819012345678", "09012345678", "090-1234-5678"},
		{"08012345678", Number, "+818012345678", "08012345678", "080-1234-5678"},
		{"07012345678", Number, "+817012345678", "07012345678", "070-1234-5678"},
		{"05012345678", Number, "+815012345678", "05012345678", "050-1234-5678"},
		{"0120123456", Number, "+81120123456", "0120123456", "0120-123-456"},
		{"0180993000", Number, "+81180993000", "0180993000", "0180-993-000"}, // テレドーム: libphonenumber has no 0180
		// 11 digits the library's data does not have (a block newer than
		// it): grouped 3-4-4 all the same.
		{"06012345678", Number, "+816012345678", "06012345678", "060-1234-5678"},
		{"05001234567", Number, "+815001234567", "05001234567", "050-0123-4567"},
		{"08001234567", Number, "+818001234567", "08001234567", "0800-123-4567"},
		{"0570123456", Number, "+81570123456", "0570123456", "0570-123-456"},
		{"0451234567", Number, "+81451234567", "0451234567", "045-123-4567"},
		{"0920471234", Number, "+81920471234", "0920471234", "0920-47-1234"}, // 壱岐: 0920, not 福岡 092
		{"0924711234", Number, "+81924711234", "0924711234", "092-471-1234"},
		// Area codes of 4 and 5 digits, grouped as written (they read
		// 099-512-3456 and 046-712-3456 before).
		{"0995123456", Number, "+81995123456", "0995123456", "0995-12-3456"}, // 霧島
		{"0467123456", Number, "+81467123456", "0467123456", "0467-12-3456"}, // 茅ヶ崎
		{"0499221234", Number, "+81499221234", "0499221234", "04992-2-1234"}, // 伊豆大島
		{"0126721234", Number, "+81126721234", "0126721234", "01267-2-1234"}, // 岩見沢
		{"0980221234", Number, "+81980221234", "0980221234", "09802-2-1234"}, // 南大東
		{"0112345678", Number, "+81112345678", "0112345678", "011-234-5678"},
		{"0422123456", Number, "+81422123456", "0422123456", "042-212-3456"},
		{"０３－１２３４－５６７８", Number, "+81312345678", "0312345678", "03-1234-5678"},
		{" 03-1234-5678 ", Number, "+81312345678", "0312345678", "03-1234-5678"},
		{"+12125550123", Number, "+12125550123", "+12125550123", "+12125550123"},
		{"010442071234567", Number, "+442071234567", "+442071234567", "+442071234567"},
		{"P", Withheld, "", "", "非通知"},
		{"anonymous", Withheld, "", "", "非通知"},
		{"Anonymous", Withheld, "", "", "非通知"},
		{"private", Withheld, "", "", "非通知"},
		{"非通知", Withheld, "", "", "非通知"},
		{"O", Unavailable, "", "", "表示圏外"},
		{"unavailable", Unavailable, "", "", "表示圏外"},
		{"unknown", Unavailable, "", "", "表示圏外"},
		{"", Unavailable, "", "", "表示圏外"},
		{"表示圏外", Unavailable, "", "", "表示圏外"},
		{"C", Payphone, "", "", "公衆電話"},
		{"公衆電話", Payphone, "", "", "公衆電話"},
		{"312345678", Invalid, "", "", "312345678（形式不明）"},
		{"031234567", Invalid, "", "", "031234567（形式不明）"},
		{"031234567890", Invalid, "", "", "031234567890（形式不明）"},
		{"0901234567", Invalid, "", "", "0901234567（形式不明）"},
		{"0012345678", Invalid, "", "", "0012345678（形式不明）"},
		{"0101234567", Invalid, "", "", "0101234567（形式不明）"},
		{"+0312345678", Invalid, "", "", "+0312345678（形式不明）"},
		// shown as it came only when short and printable
		{"123456789012345678901234567890123", Invalid, "", "", "番号不明"},
		{"50\x0701", Invalid, "", "", "番号不明"},
		{"+1234567", Invalid, "", "", "+1234567（形式不明）"},
		{"+1234567890123456", Invalid, "", "", "+1234567890123456（形式不明）"},
		{"+8131234567", Invalid, "", "", "+8131234567（形式不明）"},
		{"sip:0312345678@trunk", Invalid, "", "", "sip:0312345678@trunk（形式不明）"},
		{"03+12345678", Invalid, "", "", "03+12345678（形式不明）"},
		{"110", Invalid, "", "", "110（形式不明）"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			c := ParseCallerID(tt.raw)
			if c.Kind != tt.kind || c.E164 != tt.e164 || c.Raw != tt.raw {
				t.Fatalf("ParseCallerID(%q) = %+v, want kind %v e164 %q", tt.raw, c, tt.kind, tt.e164)
			}
			if got := c.National(); got != tt.national {
				t.Errorf("National() = %q, want %q", got, tt.national)
			}
			if got := c.Display(); got != tt.display {
				t.Errorf("Display() = %q, want %q", got, tt.display)
			}
		})
	}
}

func TestNormalizeDID(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means an error is expected
	}{
		{"0312345678", "+81312345678"},
		{"+81312345678", "+81312345678"},
		{"81312345678", "+81312345678"},
		{"819012345678", "+819012345678"},
		{"0501234567 8", ""},
		{" 05012345678\n", "+815012345678"},
		{"0120123456", "+81120123456"},
		{"+12125550123", "+12125550123"},
		{"312345678", ""},
		{"8131234567", ""},
		{"8103123456789", ""},
		{"03-1234-5678", ""},
		{"anonymous", ""},
		{"+", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeDID(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("NormalizeDID(%q) = %q, %v; want error wrapping ErrInvalid", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeDID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestKindNames(t *testing.T) {
	tests := []struct {
		kind Kind
		name string
	}{
		{Invalid, "invalid"},
		{Number, "number"},
		{Withheld, "withheld"},
		{Unavailable, "unavailable"},
		{Payphone, "payphone"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", int(tt.kind), got, tt.name)
		}
		got, err := ParseKind(tt.name)
		if err != nil || got != tt.kind {
			t.Errorf("ParseKind(%q) = %v, %v; want %v", tt.name, got, err, tt.kind)
		}
		var k Kind
		text, err := tt.kind.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%v): %v", tt.kind, err)
		}
		if err := k.UnmarshalText(text); err != nil || k != tt.kind {
			t.Errorf("text round trip of %v = %v, %v", tt.kind, k, err)
		}
	}
	if got := Kind(42).String(); got != "Kind(42)" {
		t.Errorf("Kind(42).String() = %q", got)
	}
	if _, err := Kind(-1).MarshalText(); !errors.Is(err, ErrInvalid) {
		t.Errorf("MarshalText(Kind(-1)) err = %v, want ErrInvalid", err)
	}
	if _, err := ParseKind("Number"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseKind(%q) err = %v, want ErrInvalid", "Number", err)
	}
}

func TestZeroCallerIDIsInvalid(t *testing.T) {
	var c CallerID
	if c.Kind != Invalid || c.National() != "" || c.Display() != "番号不明" {
		t.Fatalf("zero CallerID = %+v national %q display %q", c, c.National(), c.Display())
	}
}

// BenchmarkDisplay: a caller ID parsed and shown as operators read it
// (screen pops, relay messages, CSV rows).
func BenchmarkDisplay(b *testing.B) {
	for b.Loop() {
		if ParseCallerID("0467123456").Display() != "0467-12-3456" {
			b.Fatal("wrong display")
		}
	}
}

// TestSpellings: the forms one caller's number arrives in, as received
// first; none for a caller with no number.
func TestSpellings(t *testing.T) {
	tests := []struct {
		raw  string
		want []string
	}{
		{"0312345678", []string{"0312345678", "+81312345678", "81312345678"}},
		{"+81312345678", []string{"+81312345678", "81312345678", "0312345678"}},
		{"81312345678", []string{"81312345678", "+81312345678", "0312345678"}},
		{"+12125550123", []string{"+12125550123", "12125550123"}},
		{"anonymous", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := ParseCallerID(tt.raw).Spellings(); !slices.Equal(got, tt.want) {
			t.Errorf("Spellings(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// TestDomestic: only a Japanese number is called back.
func TestDomestic(t *testing.T) {
	for raw, want := range map[string]bool{"0312345678": true, "+819012345678": true, "+12125550123": false, "anonymous": false, "5001": false, "": false} {
		if got := ParseCallerID(raw).Domestic(); got != want {
			t.Errorf("Domestic(%q) = %v", raw, got)
		}
	}
}

// TestMasked: a number for a log keeps its last four digits.
func TestMasked(t *testing.T) {
	for in, want := range map[string]string{"09055554444": "*******4444", "+81312345678": "+*******5678", "03-1234-5678": "**-****-5678", "5001": "5001", "anonymous": "anonymous", "": ""} {
		if got := Masked(in); got != want {
			t.Errorf("Masked(%q) = %q, want %q", in, got, want)
		}
	}
}
