package audio

import (
	"fmt"
	"io"
	"math"
	"time"
)

// Output formats accepted by Convert; each is also the file extension
// Asterisk expects.
const (
	FormatSLN  = "sln"
	FormatULaw = "ulaw"
	FormatWAV  = "wav"
)

// Info describes a conversion.
type Info struct {
	InRate     int           // source sample rate, Hz
	InChannels int           // source channel count before mixing to mono
	Duration   time.Duration // length of the source audio
	Peak       float64       // peak magnitude of the 8 kHz output, 0..1 of full scale
}

// PeakDBFS returns Peak in dB relative to full scale (−Inf for silence).
func (i Info) PeakDBFS() float64 { return 20 * math.Log10(i.Peak) }

// Convert decodes in (WAV or MP3, see Decode), mixes it to mono, resamples
// it to 8 kHz and writes it to out as format "sln", "ulaw" or "wav".
// name is used only in error messages.
func Convert(in io.Reader, name string, out io.Writer, format string) (Info, error) {
	var enc func(io.Writer, PCM) error
	switch format {
	case FormatSLN:
		enc = EncodeSLN
	case FormatULaw:
		enc = EncodeULaw
	case FormatWAV:
		enc = EncodeWAV8k
	default:
		return Info{}, fmt.Errorf("%w: %q (want sln, ulaw or wav)", ErrOutputFormat, format)
	}
	p, channels, err := decode(in, name)
	if err != nil {
		return Info{}, err
	}
	info := Info{
		InRate:     p.Rate,
		InChannels: channels,
		Duration:   time.Duration(len(p.Samples)) * time.Second / time.Duration(p.Rate),
	}
	p8 := Resample(p, AsteriskRate)
	info.Peak = peak(p8.Samples)
	if err := enc(out, p8); err != nil {
		return info, fmt.Errorf("%s: %w", name, err)
	}
	return info, nil
}

// peak returns the largest sample magnitude as a fraction of 32768.
func peak(s []int16) float64 {
	m := 0
	for _, v := range s {
		m = max(m, abs(int(v)))
	}
	return float64(m) / 32768
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
