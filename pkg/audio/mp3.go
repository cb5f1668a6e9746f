package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"
)

// DecodeMP3 decodes an MPEG-1/2 layer III stream (optionally preceded by an
// ID3v2 tag) into mono PCM at the stream's rate. Stereo is averaged to mono.
func DecodeMP3(r io.Reader) (PCM, error) {
	data, err := readLimited(r)
	if err != nil {
		return PCM{}, err
	}
	p, _, err := decodeMP3(data)
	return p, err
}

// decodeMP3 decodes data and also returns the source channel count, read
// from the first frame header (go-mp3 always outputs two channels).
func decodeMP3(data []byte) (p PCM, channels int, err error) {
	channels, ok := mp3Channels(data)
	if !ok {
		return PCM{}, 0, fmt.Errorf("%w: no MPEG audio frame found", ErrMalformed)
	}
	// go-mp3 indexes its input from frame headers; a crafted file must
	// become an error, not take the process down.
	defer func() {
		if v := recover(); v != nil {
			p, channels, err = PCM{}, 0, fmt.Errorf("%w: MP3 decoder failed: %v", ErrMalformed, v)
		}
	}()
	d, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return PCM{}, 0, fmt.Errorf("%w: MP3: %w", ErrMalformed, err)
	}
	raw, err := io.ReadAll(io.LimitReader(d, 4*MaxInputBytes+1))
	if err != nil {
		return PCM{}, 0, fmt.Errorf("%w: MP3: %w", ErrMalformed, err)
	}
	if len(raw) > 4*MaxInputBytes {
		return PCM{}, 0, fmt.Errorf("%w: decoded MP3 exceeds %d bytes", ErrTooLarge, 4*MaxInputBytes)
	}
	frames := len(raw) / 4 // go-mp3 output: interleaved stereo int16 LE
	if frames == 0 {
		return PCM{}, 0, fmt.Errorf("%w: MP3 has no audio samples", ErrMalformed)
	}
	out := make([]int16, frames)
	for i := range out {
		l := int(int16(binary.LittleEndian.Uint16(raw[4*i:])))
		r := int(int16(binary.LittleEndian.Uint16(raw[4*i+2:])))
		out[i] = int16((l + r) >> 1) // floor of the mean; fits in int16
	}
	return PCM{Rate: d.SampleRate(), Samples: out}, channels, nil
}

// id3Size returns the total length of an ID3v2 tag at the start of data,
// or 0 if there is none.
func id3Size(data []byte) int {
	if len(data) < 10 || string(data[:3]) != "ID3" {
		return 0
	}
	n := 10 + (int(data[6]&0x7F)<<21 | int(data[7]&0x7F)<<14 | int(data[8]&0x7F)<<7 | int(data[9]&0x7F)) // syncsafe
	if data[5]&0x10 != 0 {                                                                               // footer present
		n += 10
	}
	return n
}

// mp3Channels finds the first plausible MPEG audio frame header after any
// ID3v2 tag and returns its channel count.
func mp3Channels(data []byte) (int, bool) {
	start := id3Size(data)
	for i := start; i+4 <= len(data); i++ {
		h := data[i : i+4]
		if !isMPEGHeader(h) {
			continue
		}
		if h[3]>>6 == 3 { // channel mode 11 = single channel
			return 1, true
		}
		return 2, true
	}
	return 0, false
}

// isMPEGHeader reports whether h starts with a valid MPEG audio layer III
// frame header: 11-bit sync, known version, layer III, bitrate index not
// "bad", sample-rate index not reserved.
func isMPEGHeader(h []byte) bool {
	if len(h) < 4 || h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		return false
	}
	version := (h[1] >> 3) & 3
	layer := (h[1] >> 1) & 3
	bitrate := h[2] >> 4
	rate := (h[2] >> 2) & 3
	return version != 1 && layer == 1 && bitrate != 15 && rate != 3
}
