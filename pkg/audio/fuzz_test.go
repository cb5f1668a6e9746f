package audio

import (
	"bytes"
	"os"
	"testing"
)

func FuzzDecodeWAV(f *testing.F) {
	f.Add(pcmWAV(8000, 16, sine(8000, 1000, 0.5, 16)))
	f.Add(pcmWAV(44100, 24, sine(44100, 1000, 0.5, 8), sine(44100, 1000, 0.5, 8)))
	f.Add(pcmWAV(8000, 8, sine(8000, 1000, 0.5, 8)))
	f.Add(riff(chunk{"fmt ", extensibleFmt(wavPCM, 2, 48000, 32)}, chunk{"data", make([]byte, 16)}))
	f.Add(riff(chunk{"LIST", []byte("odd")}, chunk{"fmt ", fmtChunk(wavFloat, 1, 8000, 32)}))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			return
		}
		if p.Rate < 1000 || len(p.Samples) == 0 {
			t.Fatalf("accepted WAV with rate %d and %d samples", p.Rate, len(p.Samples))
		}
		if len(p.Samples) > len(b) {
			t.Fatalf("%d samples from %d bytes", len(p.Samples), len(b))
		}
	})
}

// FuzzDecode covers sniffing and the MP3 path (go-mp3 panics become errors).
func FuzzDecode(f *testing.F) {
	mp3, err := os.ReadFile("testdata/tone1k_16000_mono.mp3")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mp3[:600])
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0})
	f.Add([]byte("ID3\x03\x00\x10\x00\x00\x00\x01\xff\xf3\x40\xc4"))
	f.Add(pcmWAV(8000, 16, sine(8000, 1000, 0.5, 16)))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(bytes.NewReader(b), "fuzz")
		if err == nil && (p.Rate <= 0 || len(p.Samples) == 0) {
			t.Fatalf("accepted input with rate %d and %d samples", p.Rate, len(p.Samples))
		}
	})
}
