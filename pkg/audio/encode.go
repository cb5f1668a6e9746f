package audio

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// to8k returns p's samples at AsteriskRate, resampling if needed.
func to8k(p PCM) []int16 {
	if p.Rate == AsteriskRate {
		return p.Samples
	}
	return Resample(p, AsteriskRate).Samples
}

// EncodeSLN writes p as Asterisk signed linear (.sln): headerless 16-bit
// little-endian samples at 8 kHz. p is resampled first if its Rate differs.
func EncodeSLN(w io.Writer, p PCM) error {
	bw := bufio.NewWriter(w)
	if err := writeLE16(bw, to8k(p)); err != nil {
		return fmt.Errorf("writing sln: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing sln: %w", err)
	}
	return nil
}

// EncodeULaw writes p as headerless G.711 μ-law (.ulaw) at 8 kHz, one byte
// per sample. p is resampled first if its Rate differs.
func EncodeULaw(w io.Writer, p PCM) error {
	s := to8k(p)
	buf := make([]byte, len(s))
	for i, v := range s {
		buf[i] = ULaw(v)
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("writing ulaw: %w", err)
	}
	return nil
}

// EncodeWAV8k writes p as a canonical 44-byte-header RIFF/WAVE file:
// PCM, mono, 16-bit, 8000 Hz. p is resampled first if its Rate differs.
func EncodeWAV8k(w io.Writer, p PCM) error {
	s := to8k(p)
	dataLen := uint32(2 * len(s))
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+dataLen)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)             // fmt chunk size
	binary.LittleEndian.PutUint16(h[20:], wavPCM)         // format tag
	binary.LittleEndian.PutUint16(h[22:], 1)              // channels
	binary.LittleEndian.PutUint32(h[24:], AsteriskRate)   // sample rate
	binary.LittleEndian.PutUint32(h[28:], 2*AsteriskRate) // byte rate
	binary.LittleEndian.PutUint16(h[32:], 2)              // block align
	binary.LittleEndian.PutUint16(h[34:], 16)             // bits per sample
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataLen)
	bw := bufio.NewWriter(w)
	if _, err := bw.Write(h[:]); err != nil {
		return fmt.Errorf("writing wav: %w", err)
	}
	if err := writeLE16(bw, s); err != nil {
		return fmt.Errorf("writing wav: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing wav: %w", err)
	}
	return nil
}

func writeLE16(w io.Writer, s []int16) error {
	var b [2]byte
	for _, v := range s {
		binary.LittleEndian.PutUint16(b[:], uint16(v))
		if _, err := w.Write(b[:]); err != nil {
			return err
		}
	}
	return nil
}
