package audio

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestDecodeWAVFormats(t *testing.T) {
	const freq = 1000
	tests := []struct {
		name    string
		file    []byte
		rate    int
		n       int
		amp     float64 // expected mono amplitude
		tolDB   float64
		channel int
	}{
		{"44.1k stereo 16-bit", pcmWAV(44100, 16, sine(44100, freq, 0.5, 22050), sine(44100, freq, 0.25, 22050)), 44100, 22050, 0.375, 0.05, 2},
		{"48k mono 24-bit", pcmWAV(48000, 24, sine(48000, freq, 0.7, 24000)), 48000, 24000, 0.7, 0.05, 1},
		{"8k mono 8-bit", pcmWAV(8000, 8, sine(8000, freq, 0.5, 4000)), 8000, 4000, 0.5, 0.3, 1},
		{"16k stereo 32-bit", pcmWAV(16000, 32, sine(16000, freq, 0.5, 8000), sine(16000, freq, 0.5, 8000)), 16000, 8000, 0.5, 0.05, 2},
		{"extensible 24-bit", riff(
			chunk{"fmt ", extensibleFmt(wavPCM, 1, 48000, 24)},
			chunk{"data", encodeSamples(24, sine(48000, freq, 0.5, 4800))},
		), 48000, 4800, 0.5, 0.05, 1},
		{"odd LIST chunk before fmt, fact after", riff(
			chunk{"LIST", []byte("INFOabc")},
			chunk{"fmt ", fmtChunk(wavPCM, 1, 8000, 16)},
			chunk{"fact", []byte{1, 2, 3, 4}},
			chunk{"data", encodeSamples(16, sine(8000, freq, 0.5, 800))},
		), 8000, 800, 0.5, 0.05, 1},
		{"opposite channels cancel", pcmWAV(8000, 16, sine(8000, freq, 0.5, 800), sine(8000, freq, -0.5, 800)), 8000, 800, 0, 0, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ch, err := decodeWAV(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if p.Rate != tc.rate || len(p.Samples) != tc.n || ch != tc.channel {
				t.Fatalf("got %d Hz, %d samples, %d ch; want %d Hz, %d, %d ch", p.Rate, len(p.Samples), ch, tc.rate, tc.n, tc.channel)
			}
			// 0.05 s holds a whole number of 1 kHz periods at every rate.
			got := toneLevel(t, p.Samples, p.Rate, freq, 0, p.Rate/20)
			if tc.amp == 0 {
				if got > 1e-4 {
					t.Errorf("level %.6f, want silence", got)
				}
				return
			}
			if g := dB(got / tc.amp); math.Abs(g) > tc.tolDB {
				t.Errorf("level %.3f dB off, want within ±%v", g, tc.tolDB)
			}
		})
	}
}

func TestDecodeWAVTruncatedAndStreamed(t *testing.T) {
	full := pcmWAV(8000, 16, sine(8000, 1000, 0.5, 100), sine(8000, 1000, 0.5, 100))
	tests := []struct {
		name string
		file []byte
		want int
	}{
		{"data cut mid-frame", full[:len(full)-3], 99},
		{"streamed size 0xFFFFFFFF", patchDataSize(full, 0xFFFFFFFF), 100},
		{"streamed size 0", patchDataSize(full, 0), 100},
		{"size smaller than data", patchDataSize(full, 40), 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodeWAV(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Samples) != tc.want {
				t.Errorf("got %d samples, want %d", len(p.Samples), tc.want)
			}
		})
	}
}

// patchDataSize overwrites the size of the data chunk built by pcmWAV.
func patchDataSize(file []byte, size uint32) []byte {
	out := append([]byte(nil), file...)
	i := bytes.Index(out, []byte("data")) + 4
	out[i], out[i+1], out[i+2], out[i+3] = byte(size), byte(size>>8), byte(size>>16), byte(size>>24)
	return out
}

func TestDecodeWAVErrors(t *testing.T) {
	data := encodeSamples(16, sine(8000, 1000, 0.5, 10))
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"float", riff(chunk{"fmt ", fmtChunk(wavFloat, 1, 8000, 32)}, chunk{"data", data}), ErrUnsupported},
		{"MS ADPCM", riff(chunk{"fmt ", fmtChunk(wavADPCM, 1, 8000, 4)}, chunk{"data", data}), ErrUnsupported},
		{"IMA ADPCM", riff(chunk{"fmt ", fmtChunk(wavIMAADPCM, 1, 8000, 4)}, chunk{"data", data}), ErrUnsupported},
		{"extensible float", riff(chunk{"fmt ", extensibleFmt(wavFloat, 1, 8000, 32)}, chunk{"data", data}), ErrUnsupported},
		{"12-bit", riff(chunk{"fmt ", fmtChunk(wavPCM, 1, 8000, 12)}, chunk{"data", data}), ErrUnsupported},
		{"zero channels", riff(chunk{"fmt ", fmtChunk(wavPCM, 0, 8000, 16)}, chunk{"data", data}), ErrUnsupported},
		{"rate 0", riff(chunk{"fmt ", fmtChunk(wavPCM, 1, 0, 16)}, chunk{"data", data}), ErrUnsupported},
		{"short extensible", riff(chunk{"fmt ", fmtChunk(wavExtensible, 1, 8000, 16)}, chunk{"data", data}), ErrMalformed},
		{"tiny fmt", riff(chunk{"fmt ", []byte{1, 0}}, chunk{"data", data}), ErrMalformed},
		{"data before fmt", riff(chunk{"data", data}, chunk{"fmt ", fmtChunk(wavPCM, 1, 8000, 16)}), ErrMalformed},
		{"no data chunk", riff(chunk{"fmt ", fmtChunk(wavPCM, 1, 8000, 16)}), ErrMalformed},
		{"no fmt chunk", riff(), ErrMalformed},
		{"no samples", riff(chunk{"fmt ", fmtChunk(wavPCM, 2, 8000, 16)}, chunk{"data", []byte{1, 2}}), ErrMalformed},
		{"short header", []byte("RIFF"), ErrMalformed},
		{"not WAVE", []byte("RIFF\x04\x00\x00\x00AVI LIST"), ErrUnknownFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeWAV(bytes.NewReader(tc.file))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDecodeWAVFloatErrorIsClear(t *testing.T) {
	file := riff(chunk{"fmt ", fmtChunk(wavFloat, 1, 8000, 32)}, chunk{"data", make([]byte, 8)})
	_, err := Decode(bytes.NewReader(file), "hello.wav")
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
	const want = "hello.wav: audio: unsupported encoding: WAV is IEEE float; re-export it as integer PCM"
	if err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}
