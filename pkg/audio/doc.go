// Package audio converts administrator-supplied greeting files (WAV or MP3)
// into formats Asterisk plays at 8 kHz mono: signed linear (.sln), G.711
// μ-law (.ulaw) and 16-bit PCM WAV (.wav).
//
// The pipeline is Decode (by magic bytes) → mono PCM at the source rate →
// Resample to 8 kHz with a band-limited windowed-sinc filter → Encode*.
// Convert runs the whole pipeline; Validate checks a file that is already
// converted, at config load.
package audio

import (
	"errors"
	"math"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrUnknownFormat means the input is neither RIFF/WAVE nor MP3.
	ErrUnknownFormat = errors.New("audio: unknown input format")
	// ErrUnsupported means a recognised container holds an encoding we do
	// not decode (float, ADPCM, A-law, ...).
	ErrUnsupported = errors.New("audio: unsupported encoding")
	// ErrMalformed means the input is truncated or internally inconsistent.
	ErrMalformed = errors.New("audio: malformed input")
	// ErrTooLarge means the input exceeds MaxInputBytes.
	ErrTooLarge = errors.New("audio: input too large")
	// ErrOutputFormat means Convert was asked for a format other than
	// sln, ulaw or wav.
	ErrOutputFormat = errors.New("audio: unknown output format")
	// ErrNotPlayable means Validate found a file Asterisk cannot play as an
	// 8 kHz mono greeting.
	ErrNotPlayable = errors.New("audio: greeting not playable by Asterisk")
)

// MaxInputBytes bounds how much encoded input Decode reads (and how much
// sample data a WAV header may claim), so a hostile or broken file cannot
// exhaust memory. 64 MiB is over 6 minutes of 44.1 kHz stereo 16-bit audio.
const MaxInputBytes = 64 << 20

// AsteriskRate is the sample rate of every output format.
const AsteriskRate = 8000

// PCM is mono 16-bit linear audio at Rate samples per second.
type PCM struct {
	Rate    int
	Samples []int16
}

// clamp16 rounds v to the nearest integer and saturates it to int16.
func clamp16(v float64) int16 {
	v = math.Round(v)
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}
