package sipphone

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDTMFTonePayloads(t *testing.T) {
	ev, err := DigitEvent('#')
	if err != nil || ev != 11 {
		t.Fatalf("DigitEvent(#) = %d, %v", ev, err)
	}
	got := DTMFTone(ev, 800, 160)
	want := []DTMFEvent{
		{11, false, 10, 160}, {11, false, 10, 320}, {11, false, 10, 480}, {11, false, 10, 640},
		{11, true, 10, 800}, {11, true, 10, 800}, {11, true, 10, 800},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	// Wire format (RFC 4733 section 2.3): event, E|R|volume, duration.
	if b := got[4].Marshal(); !reflect.DeepEqual(b, []byte{11, 0x80 | 10, 0x03, 0x20}) {
		t.Fatalf("end packet bytes % x", b)
	}
	back, err := ParseDTMFEvent(got[4].Marshal())
	if err != nil || back != got[4] {
		t.Fatalf("parse back %+v %v", back, err)
	}
}

func TestDigitEvents(t *testing.T) {
	for i, d := range "0123456789*#ABCD" {
		ev, err := DigitEvent(d)
		if err != nil || int(ev) != i || EventDigit(ev) != d {
			t.Errorf("%c -> %d (%v) -> %c", d, ev, err, EventDigit(ev))
		}
	}
	if _, err := DigitEvent('x'); !errors.Is(err, ErrDTMFDigit) {
		t.Errorf("x: %v", err)
	}
}

func TestRTPRoundTripAndErrors(t *testing.T) {
	p := RTPPacket{Marker: true, PayloadType: 101, Seq: 65535, Timestamp: 1 << 31, SSRC: 7, Payload: []byte{1, 2, 3, 4}}
	got, err := ParseRTP(p.Marshal())
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip %+v %v", got, err)
	}
	for _, b := range [][]byte{nil, make([]byte, 11), append([]byte{0x40}, make([]byte, 11)...), append([]byte{0x8f}, make([]byte, 11)...)} {
		if _, err := ParseRTP(b); !errors.Is(err, ErrRTP) {
			t.Errorf("ParseRTP(% x) = %v", b, err)
		}
	}
	if _, err := ParseDTMFEvent([]byte{1}); !errors.Is(err, ErrRTP) {
		t.Error("short event accepted")
	}
}

func TestDTMFOnTheWire(t *testing.T) {
	pbx := newTestPBX(t, "udp", nil, false)
	c := newTestCaller(t, "udp")
	res, err := c.Call(t.Context(), CallOptions{To: pbx.target("1"), From: "2", DTMF: "5", Hold: 500 * time.Millisecond})
	if err != nil || res.Media.DTMFSent != "5" {
		t.Fatalf("call %v sent %q", err, res.Media.DTMFSent)
	}
	var events []RTPPacket
	for _, p := range pbx.packets() {
		if p.PayloadType == PayloadTelephoneEvent {
			events = append(events, p)
		}
	}
	if len(events) != 7 || !events[0].Marker || events[1].Marker {
		t.Fatalf("got %d event packets (marker %v)", len(events), len(events) > 0 && events[0].Marker)
	}
	for i, p := range events {
		e, err := ParseDTMFEvent(p.Payload)
		if err != nil || e.Event != 5 || p.Timestamp != events[0].Timestamp || e.End != (i >= 4) {
			t.Errorf("packet %d: %+v ts %d", i, e, p.Timestamp)
		}
		if i > 0 && p.Seq != events[i-1].Seq+1 {
			t.Errorf("packet %d seq %d after %d", i, p.Seq, events[i-1].Seq)
		}
	}
}
