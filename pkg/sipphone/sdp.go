package sipphone

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Payload types offered by the phone.
const (
	PayloadPCMU           uint8 = 0
	PayloadPCMA           uint8 = 8
	PayloadTelephoneEvent uint8 = 101
)

// ErrSDP is wrapped by every SDP parse error.
var ErrSDP = errors.New("sdp")

// Codec is one rtpmap entry of an audio media line.
type Codec struct {
	Payload uint8
	Name    string // e.g. "PCMU", "telephone-event"
	Rate    int    // clock rate in Hz
}

// SessionDescription is the subset of SDP (RFC 4566) the phone needs: where to
// send audio and which payload types the peer accepts, in preference order.
type SessionDescription struct {
	SessionID uint64
	Version   uint64
	// Addr is the audio RTP address (connection address and media port).
	Addr      netip.AddrPort
	Codecs    []Codec
	Direction string // sendrecv, sendonly, recvonly or inactive
}

// DefaultCodecs is the offer made by Caller: PCMU, PCMA and telephone-event.
func DefaultCodecs() []Codec {
	return []Codec{
		{Payload: PayloadPCMU, Name: "PCMU", Rate: 8000},
		{Payload: PayloadPCMA, Name: "PCMA", Rate: 8000},
		{Payload: PayloadTelephoneEvent, Name: "telephone-event", Rate: 8000},
	}
}

// Codec returns the codec with the given name (case-insensitive).
func (s SessionDescription) Codec(name string) (Codec, bool) {
	for _, c := range s.Codecs {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Codec{}, false
}

// AudioCodec returns the first non telephone-event codec, the one to send.
func (s SessionDescription) AudioCodec() (Codec, bool) {
	for _, c := range s.Codecs {
		if !strings.EqualFold(c.Name, "telephone-event") {
			return c, true
		}
	}
	return Codec{}, false
}

// Marshal renders the description as an SDP body with CRLF line endings.
func (s SessionDescription) Marshal() []byte {
	ip := s.Addr.Addr().Unmap()
	ipver := "IP4"
	if ip.Is6() {
		ipver = "IP6"
	}
	dir := s.Direction
	if dir == "" {
		dir = "sendrecv"
	}
	var b strings.Builder
	w := func(format string, a ...any) {
		fmt.Fprintf(&b, format, a...)
		b.WriteString("\r\n")
	}
	w("v=0")
	w("o=toritsugi-phone %d %d IN %s %s", s.SessionID, s.Version, ipver, ip)
	w("s=toritsugi-phone")
	w("c=IN %s %s", ipver, ip)
	w("t=0 0")
	pts := make([]string, 0, len(s.Codecs))
	for _, c := range s.Codecs {
		pts = append(pts, strconv.Itoa(int(c.Payload)))
	}
	w("m=audio %d RTP/AVP %s", s.Addr.Port(), strings.Join(pts, " "))
	for _, c := range s.Codecs {
		w("a=rtpmap:%d %s/%d", c.Payload, c.Name, c.Rate)
		if strings.EqualFold(c.Name, "telephone-event") {
			w("a=fmtp:%d 0-16", c.Payload)
		}
	}
	w("a=ptime:20")
	w("a=%s", dir)
	return []byte(b.String())
}

// staticCodecs are the RFC 3551 payload types a peer may list without rtpmap.
var staticCodecs = map[uint8]Codec{
	0:  {Payload: 0, Name: "PCMU", Rate: 8000},
	8:  {Payload: 8, Name: "PCMA", Rate: 8000},
	9:  {Payload: 9, Name: "G722", Rate: 8000},
	18: {Payload: 18, Name: "G729", Rate: 8000},
}

// ParseSDP reads the first audio media section of an SDP body. Media-level
// c= lines override the session-level one. Unknown lines are ignored.
func ParseSDP(body []byte) (SessionDescription, error) {
	var (
		sd         SessionDescription
		sessConn   netip.Addr
		mediaConn  netip.Addr
		port       int
		inAudio    bool
		seenAudio  bool
		order      []uint8
		rtpmaps    = map[uint8]Codec{}
		sawVersion bool
	)
	for _, raw := range strings.Split(string(body), "\n") {
		line := strings.TrimRight(raw, "\r")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		key, val := line[0], line[2:]
		switch key {
		case 'v':
			sawVersion = true
		case 'o':
			f := strings.Fields(val)
			if len(f) >= 3 {
				sd.SessionID, _ = strconv.ParseUint(f[1], 10, 64)
				sd.Version, _ = strconv.ParseUint(f[2], 10, 64)
			}
		case 'c':
			addr, err := parseConnection(val)
			if err != nil {
				return SessionDescription{}, err
			}
			switch {
			case inAudio:
				mediaConn = addr
			case !seenAudio:
				sessConn = addr
			}
		case 'm':
			if seenAudio {
				inAudio = false
				continue
			}
			f := strings.Fields(val)
			if len(f) < 3 || f[0] != "audio" {
				inAudio = false
				continue
			}
			p, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
			if err != nil || p < 0 || p > 65535 {
				return SessionDescription{}, fmt.Errorf("%w: bad media port %q", ErrSDP, f[1])
			}
			port, inAudio, seenAudio = p, true, true
			for _, pt := range f[3:] {
				n, err := strconv.ParseUint(pt, 10, 8)
				if err != nil || n > 127 {
					return SessionDescription{}, fmt.Errorf("%w: bad payload type %q", ErrSDP, pt)
				}
				order = append(order, uint8(n))
			}
		case 'a':
			if !inAudio && seenAudio {
				continue
			}
			name, rest, _ := strings.Cut(val, ":")
			switch name {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				if inAudio || sd.Direction == "" {
					sd.Direction = name
				}
			case "rtpmap":
				if c, ok := parseRTPMap(rest); ok && inAudio {
					rtpmaps[c.Payload] = c
				}
			}
		}
	}
	if !sawVersion {
		return SessionDescription{}, fmt.Errorf("%w: missing v= line", ErrSDP)
	}
	if !seenAudio {
		return SessionDescription{}, fmt.Errorf("%w: no audio media", ErrSDP)
	}
	conn := mediaConn
	if !conn.IsValid() {
		conn = sessConn
	}
	if !conn.IsValid() {
		return SessionDescription{}, fmt.Errorf("%w: no connection address", ErrSDP)
	}
	sd.Addr = netip.AddrPortFrom(conn, uint16(port))
	for _, pt := range order {
		if c, ok := rtpmaps[pt]; ok {
			sd.Codecs = append(sd.Codecs, c)
		} else if c, ok := staticCodecs[pt]; ok {
			sd.Codecs = append(sd.Codecs, c)
		} else {
			sd.Codecs = append(sd.Codecs, Codec{Payload: pt})
		}
	}
	if sd.Direction == "" {
		sd.Direction = "sendrecv"
	}
	return sd, nil
}

func parseConnection(val string) (netip.Addr, error) {
	f := strings.Fields(val)
	if len(f) < 3 || f[0] != "IN" {
		return netip.Addr{}, fmt.Errorf("%w: bad connection line %q", ErrSDP, val)
	}
	host := strings.SplitN(f[2], "/", 2)[0] // strip multicast TTL
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: bad connection address %q: %w", ErrSDP, host, err)
	}
	return addr, nil
}

func parseRTPMap(rest string) (Codec, bool) {
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(rest), " ")
	if !ok {
		return Codec{}, false
	}
	pt, err := strconv.ParseUint(ptStr, 10, 8)
	if err != nil || pt > 127 {
		return Codec{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	c := Codec{Payload: uint8(pt), Name: parts[0]}
	if len(parts) > 1 {
		c.Rate, _ = strconv.Atoi(parts[1])
	}
	return c, true
}
