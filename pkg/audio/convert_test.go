package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/internal/golden"
)

// decodeOutput reads Convert's output back as 8 kHz PCM.
func decodeOutput(t *testing.T, format string, b []byte) []int16 {
	t.Helper()
	switch format {
	case FormatSLN:
		if len(b)%2 != 0 {
			t.Fatalf("odd sln length %d", len(b))
		}
		s := make([]int16, len(b)/2)
		for i := range s {
			s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return s
	case FormatULaw:
		s := make([]int16, len(b))
		for i, c := range b {
			s[i] = ULawDecode(c)
		}
		return s
	default:
		if err := validateWAV(bytes.NewReader(b)); err != nil {
			t.Fatalf("output WAV is not 8 kHz mono 16-bit: %v", err)
		}
		p, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return p.Samples
	}
}

func TestConvertWAV(t *testing.T) {
	inputs := []struct {
		name     string
		file     []byte
		rate, ch int
		amp      float64
	}{
		{"44.1k stereo 16-bit", pcmWAV(44100, 16, sine(44100, 1000, 0.5, 22050), sine(44100, 1000, 0.5, 22050)), 44100, 2, 0.5},
		{"48k mono 24-bit", pcmWAV(48000, 24, sine(48000, 1000, 0.25, 24000)), 48000, 1, 0.25},
		{"8k mono 8-bit", pcmWAV(8000, 8, sine(8000, 1000, 0.5, 4000)), 8000, 1, 0.5},
	}
	tolerance := map[string]float64{FormatSLN: 0.1, FormatWAV: 0.1, FormatULaw: 0.3}
	for _, in := range inputs {
		for _, format := range []string{FormatSLN, FormatULaw, FormatWAV} {
			t.Run(in.name+" to "+format, func(t *testing.T) {
				var out bytes.Buffer
				info, err := Convert(bytes.NewReader(in.file), in.name, &out, format)
				if err != nil {
					t.Fatal(err)
				}
				want := Info{InRate: in.rate, InChannels: in.ch, Duration: 500 * time.Millisecond}
				if info.InRate != want.InRate || info.InChannels != want.InChannels || info.Duration != want.Duration {
					t.Errorf("info %+v, want %+v", info, want)
				}
				if math.Abs(dB(info.Peak/in.amp)) > 0.3 {
					t.Errorf("peak %.3f (%.1f dBFS), want about %.3f", info.Peak, info.PeakDBFS(), in.amp)
				}
				s := decodeOutput(t, format, out.Bytes())
				if len(s) != 4000 {
					t.Fatalf("got %d samples, want 4000 (0.5 s at 8 kHz)", len(s))
				}
				if g := dB(toneLevel(t, s, 8000, 1000, 400, 3200) / in.amp); math.Abs(g) > tolerance[format] {
					t.Errorf("1 kHz level %.3f dB off, want ±%v", g, tolerance[format])
				}
			})
		}
	}
}

func TestConvertErrors(t *testing.T) {
	wav := pcmWAV(8000, 16, sine(8000, 1000, 0.5, 80))
	tests := []struct {
		name   string
		in     []byte
		format string
		want   error
	}{
		{"bad output format", wav, "mp3", ErrOutputFormat},
		{"garbage input", []byte("hello, this is not audio"), FormatSLN, ErrUnknownFormat},
		{"empty input", nil, FormatSLN, ErrUnknownFormat},
		{"float wav", riff(chunk{"fmt ", fmtChunk(wavFloat, 1, 8000, 32)}, chunk{"data", make([]byte, 8)}), FormatWAV, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Convert(bytes.NewReader(tc.in), "greeting.bin", &out, tc.format)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", out.Len())
			}
		})
	}
}

type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestEncodersReportWriteErrors(t *testing.T) {
	p := sinePCM(8000, 1000, 0.5, 8000)
	for name, enc := range map[string]func(w interface{ Write([]byte) (int, error) }, p PCM) error{
		"sln":  func(w interface{ Write([]byte) (int, error) }, p PCM) error { return EncodeSLN(w, p) },
		"ulaw": func(w interface{ Write([]byte) (int, error) }, p PCM) error { return EncodeULaw(w, p) },
		"wav":  func(w interface{ Write([]byte) (int, error) }, p PCM) error { return EncodeWAV8k(w, p) },
	} {
		if err := enc(failWriter{}, p); !errors.Is(err, errWrite) {
			t.Errorf("%s: err = %v, want %v", name, err, errWrite)
		}
	}
}

// Encoders resample input that is not already at 8 kHz.
func TestEncodersResample(t *testing.T) {
	p := sinePCM(16000, 1000, 0.5, 1600)
	var sln, ulaw, wav bytes.Buffer
	if err := EncodeSLN(&sln, p); err != nil {
		t.Fatal(err)
	}
	if err := EncodeULaw(&ulaw, p); err != nil {
		t.Fatal(err)
	}
	if err := EncodeWAV8k(&wav, p); err != nil {
		t.Fatal(err)
	}
	if sln.Len() != 1600 || ulaw.Len() != 800 || wav.Len() != 44+1600 {
		t.Errorf("lengths sln %d ulaw %d wav %d, want 1600, 800, 1644", sln.Len(), ulaw.Len(), wav.Len())
	}
}

// The WAV writer's bytes are pinned by a golden file (header layout and
// sample byte order). Run with -update to rewrite it.
func TestEncodeWAV8kGolden(t *testing.T) {
	var out bytes.Buffer
	if err := EncodeWAV8k(&out, PCM{Rate: 8000, Samples: []int16{0, 1, -1, 32767, -32768, 0x1234}}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "six_samples_8k.wav.golden"), out.Bytes())
}
