package audio

// G.711 μ-law (ITU-T G.711, the 16-bit "biased" formulation used by
// Asterisk and Sun's reference code): the magnitude is clipped to 32635,
// a bias of 0x84 is added, the position of the highest set bit above bit 7
// gives the 3-bit segment, the next four bits the mantissa, and the whole
// byte is inverted. Positive zero encodes as 0xFF.

const (
	ulawBias = 0x84
	ulawClip = 32635
)

// ULaw encodes one 16-bit linear sample as a G.711 μ-law byte.
func ULaw(s int16) byte {
	v := int(s)
	var sign byte
	if v < 0 {
		v = -v
		sign = 0x80
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias
	exp := byte(7)
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte(v>>(exp+3)) & 0x0F
	return ^(sign | exp<<4 | mant)
}

// ULawDecode expands a G.711 μ-law byte to a 16-bit linear sample.
// The result is the centre of the quantisation interval; the largest
// magnitude is 32124.
func ULawDecode(b byte) int16 {
	b = ^b
	exp := (b >> 4) & 0x07
	mant := int(b & 0x0F)
	v := ((mant << 3) + ulawBias) << exp
	v -= ulawBias
	if b&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}
