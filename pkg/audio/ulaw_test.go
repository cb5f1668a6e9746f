package audio

import "testing"

func TestULawKnownVectors(t *testing.T) {
	enc := []struct {
		in   int16
		want byte
	}{
		{0, 0xFF},
		{-1, 0x7F}, // negative zero
		{8, 0xFE},
		{-8, 0x7E},
		{32767, 0x80},
		{32635, 0x80}, // clip level
		{-32768, 0x00},
		{-32767, 0x00},
		{1000, 0xCE},
		{-1000, 0x4E},
		{100, 0xF2},
		{16000, 0x90},
		{16500, 0x8F},
	}
	for _, tc := range enc {
		if got := ULaw(tc.in); got != tc.want {
			t.Errorf("ULaw(%d) = %#02x, want %#02x", tc.in, got, tc.want)
		}
	}
	dec := []struct {
		in   byte
		want int16
	}{
		{0xFF, 0},
		{0x7F, 0},
		{0x80, 32124},
		{0x00, -32124},
		{0xFE, 8},
		{0xF0, 120},
		{0xEF, 132},
		{0xCE, 988},
		{0x4E, -988},
		{0x90, 15996}, // 3999 in G.711 14-bit units
		{0x8F, 16764}, // 4191
	}
	for _, tc := range dec {
		if got := ULawDecode(tc.in); got != tc.want {
			t.Errorf("ULawDecode(%#02x) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// Every code decodes to a value that encodes back to the same code, except
// negative zero (0x7F), which is the same value as positive zero.
func TestULawCodeRoundTrip(t *testing.T) {
	for b := range 256 {
		got := ULaw(ULawDecode(byte(b)))
		want := byte(b)
		if b == 0x7F {
			want = 0xFF
		}
		if got != want {
			t.Errorf("ULaw(ULawDecode(%#02x)) = %#02x", b, got)
		}
	}
}

// Quantisation error is at most half a step of the sample's segment
// (steps are 8, 16, ..., 1024 in 16-bit units), plus the clipping above 32124.
func TestULawSampleRoundTripErrorBound(t *testing.T) {
	worst := 0
	for v := -32768; v <= 32767; v++ {
		s := int16(v)
		code := ULaw(s)
		back := int(ULawDecode(code))
		seg := int((^code >> 4) & 7)
		bound := 4 << seg
		if abs(v) > 32124 {
			bound = max(bound, abs(v)-32124)
		}
		if e := abs(back - v); e > bound {
			t.Fatalf("ULaw round trip of %d: got %d, error %d > %d", v, back, e, bound)
		}
		if v >= -32124 && v <= 32124 {
			worst = max(worst, abs(back-v))
		}
	}
	if worst > 512 {
		t.Errorf("worst in-range error %d, want ≤ 512", worst)
	}
	// Monotonic: a larger input never decodes smaller.
	prev := ULawDecode(ULaw(-32768))
	for v := -32767; v <= 32767; v++ {
		cur := ULawDecode(ULaw(int16(v)))
		if cur < prev {
			t.Fatalf("not monotonic at %d: %d < %d", v, cur, prev)
		}
		prev = cur
	}
}
