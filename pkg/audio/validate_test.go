package audio

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	p := sinePCM(8000, 1000, 0.5, 800)
	var good bytes.Buffer
	if err := EncodeWAV8k(&good, p); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if err := os.Mkdir(filepath.Join(dir, "adir.sln"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("bare.ulaw", []byte{0xFF, 0xFE})
	tests := []struct {
		name string
		path string
		want error // nil for valid
	}{
		{"wav 8k mono 16-bit", write("ok.wav", good.Bytes()), nil},
		{"sln", write("ok.sln", []byte{1, 0, 2, 0}), nil},
		{"ulaw", write("ok.ulaw", []byte{0xFF, 0x80, 0x00}), nil},
		{"upper-case extension", write("OK.WAV", good.Bytes()), nil},
		{"no extension finds .ulaw", filepath.Join(dir, "bare"), nil},
		{"wav at 16k", write("hi.wav", pcmWAV(16000, 16, sine(16000, 1000, 0.5, 160))), ErrNotPlayable},
		{"stereo wav", write("st.wav", pcmWAV(8000, 16, sine(8000, 1000, 0.5, 80), sine(8000, 1000, 0.5, 80))), ErrNotPlayable},
		{"8-bit wav", write("b8.wav", pcmWAV(8000, 8, sine(8000, 1000, 0.5, 80))), ErrNotPlayable},
		{"float wav", write("fl.wav", riff(chunk{"fmt ", fmtChunk(wavFloat, 1, 8000, 32)}, chunk{"data", make([]byte, 8)})), ErrNotPlayable},
		{"wav without samples", write("empty.wav", riff(chunk{"fmt ", fmtChunk(wavPCM, 1, 8000, 16)}, chunk{"data", nil})), ErrNotPlayable},
		{"mp3 extension", write("x.mp3", []byte("ID3")), ErrNotPlayable},
		{"wav renamed to sln", write("renamed.sln", good.Bytes()), ErrNotPlayable},
		{"mp3 renamed to ulaw", write("renamed.ulaw", []byte("ID3\x03\x00\x00\x00\x00\x00\x00")), ErrNotPlayable},
		{"odd-length sln", write("odd.sln", []byte{1, 2, 3}), ErrNotPlayable},
		{"empty sln", write("empty.sln", nil), ErrNotPlayable},
		{"directory", filepath.Join(dir, "adir.sln"), ErrNotPlayable},
		{"missing file", filepath.Join(dir, "nope.wav"), fs.ErrNotExist},
		{"missing sound name", filepath.Join(dir, "nope"), fs.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.path)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// Everything Convert writes passes Validate.
func TestConvertOutputValidates(t *testing.T) {
	dir := t.TempDir()
	in := pcmWAV(44100, 16, sine(44100, 440, 0.5, 4410), sine(44100, 440, 0.5, 4410))
	for _, format := range []string{FormatSLN, FormatULaw, FormatWAV} {
		var out bytes.Buffer
		if _, err := Convert(bytes.NewReader(in), "in.wav", &out, format); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "greeting."+format)
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Validate(path); err != nil {
			t.Errorf("%s: %v", format, err)
		}
	}
}
