package audio

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestConvertMP3(t *testing.T) {
	tests := []struct {
		file    string
		rate    int
		ch      int
		seconds float64
		amp     float64 // expected 1 kHz level of the mono mix
	}{
		{"tone1k_16000_mono.mp3", 16000, 1, 1.0, 0.5},
		{"tone1k_44100_stereo.mp3", 44100, 2, 0.5, 0.375},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := Decode(bytes.NewReader(data), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if p.Rate != tc.rate {
				t.Errorf("rate %d, want %d", p.Rate, tc.rate)
			}
			var out bytes.Buffer
			info, err := Convert(bytes.NewReader(data), tc.file, &out, FormatSLN)
			if err != nil {
				t.Fatal(err)
			}
			if info.InRate != tc.rate || info.InChannels != tc.ch {
				t.Errorf("info %+v, want %d Hz, %d ch", info, tc.rate, tc.ch)
			}
			// MP3 adds encoder delay and padding (a few frames of 1152 samples).
			if d := info.Duration.Seconds(); d < tc.seconds || d > tc.seconds+0.15 {
				t.Errorf("duration %.3f s, want %.1f s plus < 0.15 s of padding", d, tc.seconds)
			}
			s := decodeOutput(t, FormatSLN, out.Bytes())
			if g := dB(toneLevel(t, s, 8000, 1000, 1200, 2400) / tc.amp); math.Abs(g) > 1 {
				t.Errorf("1 kHz level %.2f dB off, want ±1", g)
			}
		})
	}
}

func TestDecodeMP3Errors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"ID3 tag only", []byte("ID3\x03\x00\x00\x00\x00\x00\x00")},
		{"frame sync then garbage", []byte{0xFF, 0xFB, 0x90, 0x00, 1, 2, 3}},
		{"empty", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMP3(bytes.NewReader(tc.in))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want kind
	}{
		{"wav", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), kindWAV},
		{"riff avi", []byte("RIFF\x00\x00\x00\x00AVI LIST"), kindUnknown},
		{"id3", []byte("ID3\x04"), kindMP3},
		{"mpeg1 layer3 frame", []byte{0xFF, 0xFB, 0x90, 0x64}, kindMP3},
		{"mpeg2 layer3 mono frame", []byte{0xFF, 0xF3, 0x40, 0xC4}, kindMP3},
		{"layer 2 frame", []byte{0xFF, 0xFD, 0x90, 0x64}, kindUnknown},
		{"bad bitrate", []byte{0xFF, 0xFB, 0xF0, 0x64}, kindUnknown},
		{"ogg", []byte("OggS\x00\x02"), kindUnknown},
		{"short", []byte{0xFF}, kindUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sniff(tc.in); got != tc.want {
				t.Errorf("sniff = %v, want %v", got, tc.want)
			}
		})
	}
}
