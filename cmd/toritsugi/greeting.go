package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/audio"
)

// greeting converts a WAV or MP3 recording into a file Asterisk plays
// (8 kHz mono): toritsugi greeting IN OUT.sln|.ulaw|.wav
func greeting(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("greeting", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 2 {
		return usageError{"usage: toritsugi greeting IN.wav|IN.mp3 OUT.sln|OUT.ulaw|OUT.wav\n" +
			"  then copy OUT to /var/lib/asterisk/sounds/toritsugi/ and write greeting: sound:toritsugi/<name without extension>"}
	}
	in, out := fs.Arg(0), fs.Arg(1)
	format := strings.TrimPrefix(filepath.Ext(out), ".")
	switch format {
	case audio.FormatSLN, audio.FormatULaw, audio.FormatWAV:
	default:
		return usageError{fmt.Sprintf("greeting: %s: the output must end in .sln, .ulaw or .wav", out)}
	}
	src, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer src.Close()
	tmp := out + ".tmp"
	dst, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	info, err := audio.Convert(src, in, dst, format)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(fmt.Errorf("greeting: %w", err), os.Remove(tmp))
	}
	// Asterisk plays it as its own user: readable by all, whatever the
	// umask of who converted it (root's 077 on a hardened server made a
	// greeting nobody but root could read, and callers heard silence).
	if err := os.Chmod(tmp, 0o644); err != nil {
		return errors.Join(fmt.Errorf("greeting: %w", err), os.Remove(tmp))
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if err := audio.Validate(out); err != nil {
		return fmt.Errorf("greeting: the converted file does not check out: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %d Hz, %d channel(s), %s, peak %.1f dBFS → %s (8 kHz mono %s)\n",
		in, info.InRate, info.InChannels, info.Duration.Round(1e7), info.PeakDBFS(), out, format)
	return nil
}
