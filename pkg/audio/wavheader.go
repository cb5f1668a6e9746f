package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAVE format tags that matter to us (mmreg.h).
const (
	wavPCM        = 0x0001
	wavADPCM      = 0x0002
	wavFloat      = 0x0003
	wavALaw       = 0x0006
	wavMuLaw      = 0x0007
	wavIMAADPCM   = 0x0011
	wavMP3        = 0x0055
	wavExtensible = 0xFFFE
)

// wavFormat is the decoded "fmt " chunk. tag is the effective format tag
// (for WAVE_FORMAT_EXTENSIBLE, the sub-format's tag).
type wavFormat struct {
	tag      uint16
	channels int
	rate     int
	bits     int
}

// frameBytes is the size of one sample frame (all channels).
func (f wavFormat) frameBytes() int { return f.channels * f.bits / 8 }

// tagName names a format tag for error messages.
func tagName(tag uint16) string {
	switch tag {
	case wavPCM:
		return "PCM"
	case wavADPCM:
		return "MS ADPCM"
	case wavFloat:
		return "IEEE float"
	case wavALaw:
		return "A-law"
	case wavMuLaw:
		return "μ-law"
	case wavIMAADPCM:
		return "IMA ADPCM"
	case wavMP3:
		return "MPEG layer 3"
	default:
		return fmt.Sprintf("format tag 0x%04x", tag)
	}
}

// unknownDataSize reports whether a data chunk size is a placeholder left by
// a streaming writer, meaning "until end of file".
func unknownDataSize(n uint32) bool { return n == 0 || n == 0xFFFFFFFF }

// readWAVHeader reads the RIFF/WAVE header and chunks up to the start of the
// "data" chunk, leaving r positioned at the first sample byte. It returns
// the format and the declared data size (see unknownDataSize).
func readWAVHeader(r io.Reader) (wavFormat, uint32, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return wavFormat{}, 0, fmt.Errorf("%w: short RIFF header: %w", ErrMalformed, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return wavFormat{}, 0, fmt.Errorf("%w: not a RIFF/WAVE file", ErrUnknownFormat)
	}
	var (
		f       wavFormat
		haveFmt bool
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if errors.Is(err, io.EOF) && !haveFmt {
				return f, 0, fmt.Errorf("%w: no fmt chunk", ErrMalformed)
			}
			return f, 0, fmt.Errorf("%w: no data chunk: %w", ErrMalformed, err)
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			var err error
			if f, err = readFmtChunk(r, size); err != nil {
				return f, 0, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return f, 0, fmt.Errorf("%w: data chunk before fmt chunk", ErrMalformed)
			}
			return f, size, nil
		default:
			skip := int64(size) + int64(size&1) // chunks are word aligned
			if _, err := io.CopyN(io.Discard, r, skip); err != nil {
				return f, 0, fmt.Errorf("%w: truncated %q chunk: %w", ErrMalformed, id, err)
			}
		}
	}
}

// readFmtChunk parses a "fmt " chunk body of the given size and checks the
// values are ones DecodeWAV can handle.
func readFmtChunk(r io.Reader, size uint32) (wavFormat, error) {
	if size < 16 || size > 1024 {
		return wavFormat{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrMalformed, size)
	}
	b := make([]byte, int(size)+int(size&1))
	if _, err := io.ReadFull(r, b); err != nil {
		return wavFormat{}, fmt.Errorf("%w: truncated fmt chunk: %w", ErrMalformed, err)
	}
	f := wavFormat{
		tag:      binary.LittleEndian.Uint16(b[0:2]),
		channels: int(binary.LittleEndian.Uint16(b[2:4])),
		rate:     int(binary.LittleEndian.Uint32(b[4:8])),
		bits:     int(binary.LittleEndian.Uint16(b[14:16])),
	}
	if f.tag == wavExtensible {
		if size < 40 {
			return f, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes", ErrMalformed, size)
		}
		f.tag = binary.LittleEndian.Uint16(b[24:26]) // first bytes of the sub-format GUID
	}
	if f.tag != wavPCM {
		return f, fmt.Errorf("%w: WAV is %s; re-export it as integer PCM", ErrUnsupported, tagName(f.tag))
	}
	switch f.bits {
	case 8, 16, 24, 32:
	default:
		return f, fmt.Errorf("%w: %d-bit PCM (want 8, 16, 24 or 32)", ErrUnsupported, f.bits)
	}
	if f.channels < 1 || f.channels > 8 {
		return f, fmt.Errorf("%w: %d channels", ErrUnsupported, f.channels)
	}
	if f.rate < 1000 || f.rate > 384000 {
		return f, fmt.Errorf("%w: sample rate %d Hz", ErrUnsupported, f.rate)
	}
	return f, nil
}
