package audio

import (
	"encoding/binary"
	"fmt"
	"io"
)

// DecodeWAV decodes a RIFF/WAVE file holding integer PCM (8-bit unsigned,
// 16/24/32-bit signed, any rate from 1 kHz to 384 kHz, 1 to 8 channels,
// plain or WAVE_FORMAT_EXTENSIBLE) into mono PCM at the file's rate.
// Channels are averaged. Float, ADPCM, A-law and other encodings are
// rejected with ErrUnsupported. A data chunk shorter than declared is
// decoded up to the last whole frame.
func DecodeWAV(r io.Reader) (PCM, error) {
	p, _, err := decodeWAV(r)
	return p, err
}

// decodeWAV is DecodeWAV that also returns the source channel count.
func decodeWAV(r io.Reader) (PCM, int, error) {
	f, size, err := readWAVHeader(r)
	if err != nil {
		return PCM{}, 0, err
	}
	limit := int64(MaxInputBytes) + 1
	if !unknownDataSize(size) && int64(size) < limit {
		limit = int64(size)
	}
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return PCM{}, 0, fmt.Errorf("%w: reading samples: %w", ErrMalformed, err)
	}
	if len(data) > MaxInputBytes {
		return PCM{}, 0, fmt.Errorf("%w: more than %d bytes of samples", ErrTooLarge, MaxInputBytes)
	}
	frames := len(data) / f.frameBytes()
	if frames == 0 {
		return PCM{}, 0, fmt.Errorf("%w: WAV has no audio samples", ErrMalformed)
	}
	return PCM{Rate: f.rate, Samples: mixPCM(data, f, frames)}, f.channels, nil
}

// mixPCM converts interleaved integer PCM to mono int16 by averaging the
// channels of each frame (computed in float64, then rounded and clamped).
func mixPCM(data []byte, f wavFormat, frames int) []int16 {
	width := f.bits / 8
	out := make([]int16, frames)
	pos := 0
	for i := range out {
		var sum float64
		for range f.channels {
			sum += sampleAt(data[pos:pos+width], f.bits)
			pos += width
		}
		out[i] = clamp16(sum / float64(f.channels))
	}
	return out
}

// sampleAt decodes one little-endian sample, scaled to the int16 range
// (a 24-bit sample keeps its low bits as a fraction).
func sampleAt(b []byte, bits int) float64 {
	switch bits {
	case 8:
		return float64(int(b[0])-128) * 256
	case 16:
		return float64(int16(binary.LittleEndian.Uint16(b)))
	case 24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / 256
	default: // 32
		return float64(int32(binary.LittleEndian.Uint32(b))) / 65536
	}
}
