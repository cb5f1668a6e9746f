package audio

import (
	"bytes"
	"fmt"
	"io"
)

// Decode sniffs the input's magic bytes and decodes it as WAV ("RIFF"…
// "WAVE") or MP3 (an "ID3" tag or an MPEG audio frame sync). name is used
// only in error messages. The result is mono at the source rate.
func Decode(r io.Reader, name string) (PCM, error) {
	p, _, err := decode(r, name)
	return p, err
}

// decode is Decode that also returns the source channel count.
func decode(r io.Reader, name string) (PCM, int, error) {
	data, err := readLimited(r)
	if err != nil {
		return PCM{}, 0, fmt.Errorf("%s: %w", name, err)
	}
	var (
		p  PCM
		ch int
	)
	switch sniff(data) {
	case kindWAV:
		p, ch, err = decodeWAV(bytes.NewReader(data))
	case kindMP3:
		p, ch, err = decodeMP3(data)
	default:
		err = fmt.Errorf("%w: want WAV or MP3", ErrUnknownFormat)
	}
	if err != nil {
		return PCM{}, 0, fmt.Errorf("%s: %w", name, err)
	}
	return p, ch, nil
}

type kind int

const (
	kindUnknown kind = iota
	kindWAV
	kindMP3
)

// sniff classifies data by its first bytes.
func sniff(data []byte) kind {
	switch {
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		return kindWAV
	case len(data) >= 3 && string(data[0:3]) == "ID3":
		return kindMP3
	case isMPEGHeader(data):
		return kindMP3
	}
	return kindUnknown
}

// readLimited reads all of r, failing with ErrTooLarge past MaxInputBytes.
func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading input: %w", err)
	}
	if len(data) > MaxInputBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxInputBytes)
	}
	return data, nil
}
