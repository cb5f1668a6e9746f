package audio

import (
	"encoding/binary"
	"math"
	"testing"
)

// sine returns n samples of amp·sin(2π·freq·i/rate), amp in full-scale units.
func sine(rate int, freq, amp float64, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
	}
	return s
}

// sinePCM is sine quantised to a mono PCM.
func sinePCM(rate int, freq, amp float64, n int) PCM {
	s := sine(rate, freq, amp, n)
	p := PCM{Rate: rate, Samples: make([]int16, n)}
	for i, v := range s {
		p.Samples[i] = clamp16(v * 32767)
	}
	return p
}

// encodeSamples packs interleaved channels (full-scale floats) as
// little-endian integer PCM of the given width.
func encodeSamples(bits int, chans ...[]float64) []byte {
	var out []byte
	for i := range chans[0] {
		for _, c := range chans {
			v := c[i]
			switch bits {
			case 8:
				out = append(out, byte(int(math.Round(v*127))+128))
			case 16:
				out = binary.LittleEndian.AppendUint16(out, uint16(int16(math.Round(v*32767))))
			case 24:
				x := int32(math.Round(v * 8388607))
				out = append(out, byte(x), byte(x>>8), byte(x>>16))
			case 32:
				out = binary.LittleEndian.AppendUint32(out, uint32(int32(math.Round(v*2147483647))))
			}
		}
	}
	return out
}

// fmtChunk builds a 16-byte "fmt " body.
func fmtChunk(tag uint16, channels, rate, bits int) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], tag)
	binary.LittleEndian.PutUint16(b[2:], uint16(channels))
	binary.LittleEndian.PutUint32(b[4:], uint32(rate))
	binary.LittleEndian.PutUint32(b[8:], uint32(rate*channels*bits/8))
	binary.LittleEndian.PutUint16(b[12:], uint16(channels*bits/8))
	binary.LittleEndian.PutUint16(b[14:], uint16(bits))
	return b
}

// extensibleFmt builds a 40-byte WAVE_FORMAT_EXTENSIBLE body for sub-format tag.
func extensibleFmt(sub uint16, channels, rate, bits int) []byte {
	b := fmtChunk(wavExtensible, channels, rate, bits)
	ext := make([]byte, 24)
	binary.LittleEndian.PutUint16(ext[0:], 22)           // cbSize
	binary.LittleEndian.PutUint16(ext[2:], uint16(bits)) // valid bits
	binary.LittleEndian.PutUint16(ext[8:], sub)          // GUID starts with the tag
	copy(ext[10:], "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71")
	return append(b, ext...)
}

type chunk struct {
	id   string
	body []byte
}

// riff assembles a RIFF/WAVE file from chunks, padding odd ones.
func riff(chunks ...chunk) []byte {
	out := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		out = append(out, c.id...)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(c.body)))
		out = append(out, c.body...)
		if len(c.body)%2 == 1 {
			out = append(out, 0)
		}
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// pcmWAV builds a plain PCM WAV from full-scale float channels.
func pcmWAV(rate, bits int, chans ...[]float64) []byte {
	return riff(
		chunk{"fmt ", fmtChunk(wavPCM, len(chans), rate, bits)},
		chunk{"data", encodeSamples(bits, chans...)},
	)
}

// toneLevel measures the amplitude (full-scale units) of freq in s[from:from+n]
// with the Goertzel algorithm; n should hold a whole number of periods.
func toneLevel(t *testing.T, s []int16, rate int, freq float64, from, n int) float64 {
	t.Helper()
	if from+n > len(s) {
		t.Fatalf("toneLevel: want %d samples from %d, have %d", n, from, len(s))
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range s[from : from+n] {
		s0 := float64(v)/32768 + coeff*s1 - s2
		s1, s2 = s0, s1
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(n)
}

func dB(ratio float64) float64 { return 20 * math.Log10(ratio) }
