package sipphone

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrRTP is wrapped by RTP and RFC 4733 decoding errors.
var ErrRTP = errors.New("rtp")

const rtpHeaderLen = 12

// RTPPacket is an RTP (RFC 3550) packet without CSRCs or extensions on send.
type RTPPacket struct {
	Marker      bool
	PayloadType uint8
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32
	Payload     []byte
}

// Marshal encodes the packet.
func (p RTPPacket) Marshal() []byte {
	b := make([]byte, rtpHeaderLen+len(p.Payload))
	b[0] = 2 << 6
	b[1] = p.PayloadType & 0x7f
	if p.Marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], p.Seq)
	binary.BigEndian.PutUint32(b[4:], p.Timestamp)
	binary.BigEndian.PutUint32(b[8:], p.SSRC)
	copy(b[rtpHeaderLen:], p.Payload)
	return b
}

// ParseRTP decodes an RTP packet, skipping CSRCs, extension and padding.
// The payload aliases b.
func ParseRTP(b []byte) (RTPPacket, error) {
	if len(b) < rtpHeaderLen {
		return RTPPacket{}, fmt.Errorf("%w: short packet (%d bytes)", ErrRTP, len(b))
	}
	if b[0]>>6 != 2 {
		return RTPPacket{}, fmt.Errorf("%w: version %d", ErrRTP, b[0]>>6)
	}
	p := RTPPacket{
		Marker:      b[1]&0x80 != 0,
		PayloadType: b[1] & 0x7f,
		Seq:         binary.BigEndian.Uint16(b[2:]),
		Timestamp:   binary.BigEndian.Uint32(b[4:]),
		SSRC:        binary.BigEndian.Uint32(b[8:]),
	}
	off := rtpHeaderLen + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // extension
		if len(b) < off+4 {
			return RTPPacket{}, fmt.Errorf("%w: truncated extension", ErrRTP)
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > 0 { // padding
		end -= int(b[end-1])
	}
	if off > end {
		return RTPPacket{}, fmt.Errorf("%w: header longer than packet", ErrRTP)
	}
	p.Payload = b[off:end]
	return p, nil
}

// DTMFEvent is an RFC 4733 telephone-event payload.
type DTMFEvent struct {
	Event    uint8  // 0-9, 10 '*', 11 '#', 12-15 'A'-'D'
	End      bool   // E bit
	Volume   uint8  // power level in -dBm0, 0-63
	Duration uint16 // in timestamp units (8 kHz: 160 per 20 ms)
}

// Marshal encodes the four-byte event payload.
func (e DTMFEvent) Marshal() []byte {
	b := make([]byte, 4)
	b[0] = e.Event
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return b
}

// ParseDTMFEvent decodes an RFC 4733 event payload.
func ParseDTMFEvent(b []byte) (DTMFEvent, error) {
	if len(b) < 4 {
		return DTMFEvent{}, fmt.Errorf("%w: telephone-event payload of %d bytes", ErrRTP, len(b))
	}
	return DTMFEvent{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:]),
	}, nil
}

// ErrDTMFDigit reports a character that is not a DTMF digit.
var ErrDTMFDigit = errors.New("not a DTMF digit")

// DigitEvent maps a DTMF character (0-9 * # A-D) to its RFC 4733 event code.
func DigitEvent(d rune) (uint8, error) {
	switch {
	case d >= '0' && d <= '9':
		return uint8(d - '0'), nil
	case d == '*':
		return 10, nil
	case d == '#':
		return 11, nil
	case d >= 'A' && d <= 'D':
		return uint8(d-'A') + 12, nil
	case d >= 'a' && d <= 'd':
		return uint8(d-'a') + 12, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrDTMFDigit, d)
}

// EventDigit is the inverse of DigitEvent; unknown events map to '?'.
func EventDigit(e uint8) rune {
	switch {
	case e <= 9:
		return rune('0' + e)
	case e == 10:
		return '*'
	case e == 11:
		return '#'
	case e <= 15:
		return rune('A' + e - 12)
	}
	return '?'
}

// DTMFTone returns the payloads for one digit sent as packets every
// samplesPerPacket timestamp units over toneSamples: growing durations while
// the tone lasts, then three identical end packets (RFC 4733 section 2.5.1.4).
// All packets of the digit share the event's start timestamp; the first one
// carries the RTP marker bit.
func DTMFTone(event uint8, toneSamples, samplesPerPacket uint16) []DTMFEvent {
	if samplesPerPacket == 0 {
		samplesPerPacket = 160
	}
	if toneSamples < samplesPerPacket {
		toneSamples = samplesPerPacket
	}
	var out []DTMFEvent
	for d := samplesPerPacket; d < toneSamples; d += samplesPerPacket {
		out = append(out, DTMFEvent{Event: event, Volume: 10, Duration: d})
	}
	for range 3 {
		out = append(out, DTMFEvent{Event: event, End: true, Volume: 10, Duration: toneSamples})
	}
	return out
}
