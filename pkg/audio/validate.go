package audio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// playableExts maps the extensions Asterisk uses for 8 kHz formats to the
// format they hold (format_sln, format_pcm, format_wav).
var playableExts = map[string]string{
	".sln":  FormatSLN,
	".raw":  FormatSLN,
	".ulaw": FormatULaw,
	".ul":   FormatULaw,
	".mu":   FormatULaw,
	".pcm":  FormatULaw,
	".wav":  FormatWAV,
}

// Validate checks that path is a greeting Asterisk can play as 8 kHz mono:
// a non-empty .sln (even length) or .ulaw file that is not a renamed WAV or
// MP3, or a .wav holding 16-bit PCM, mono, 8000 Hz with samples. Like an
// Asterisk sound name, a path without an extension is tried as .sln, .ulaw
// and .wav in that order. Errors wrap ErrNotPlayable, or fs.ErrNotExist
// when no file is found.
func Validate(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == "" {
		for _, e := range []string{".sln", ".ulaw", ".wav"} {
			err := Validate(path + e)
			if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return fmt.Errorf("greeting %s: no .sln, .ulaw or .wav file: %w", path, fs.ErrNotExist)
	}
	format, ok := playableExts[ext]
	if !ok {
		return fmt.Errorf("%w: %s: extension %q (want .sln, .ulaw or .wav; convert it first)", ErrNotPlayable, path, ext)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrNotPlayable, path)
	}
	if err := validateFile(f, st.Size(), format); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotPlayable, path, err)
	}
	return nil
}

// validateFile checks the content of an opened greeting of the given size.
func validateFile(r io.Reader, size int64, format string) error {
	if format == FormatWAV {
		return validateWAV(r)
	}
	if size == 0 {
		return errors.New("file is empty")
	}
	var head [12]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("reading: %w", err)
	}
	if k := sniff(head[:n]); k != kindUnknown {
		return fmt.Errorf("file is really %s, not raw %s; convert it", kindName(k), format)
	}
	if format == FormatSLN && size%2 != 0 {
		return fmt.Errorf("odd length %d for 16-bit samples", size)
	}
	return nil
}

// validateWAV checks for 16-bit PCM mono 8 kHz with at least one sample.
func validateWAV(r io.Reader) error {
	f, _, err := readWAVHeader(r)
	if err != nil {
		return err
	}
	if f.channels != 1 || f.rate != AsteriskRate || f.bits != 16 {
		return fmt.Errorf("WAV is %d Hz, %d channel(s), %d-bit; want 8000 Hz mono 16-bit", f.rate, f.channels, f.bits)
	}
	var b [2]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return errors.New("WAV has no audio samples")
	}
	return nil
}

func kindName(k kind) string {
	switch k {
	case kindWAV:
		return "WAV"
	case kindMP3:
		return "MP3"
	}
	return "unknown"
}
