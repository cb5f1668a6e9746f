package sipphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

const (
	samplesPerPacket = 160 // 20 ms at 8 kHz
	packetInterval   = 20 * time.Millisecond
	dtmfToneSamples  = 800 // 100 ms tones
	dtmfGapPackets   = 3   // 60 ms of audio between digits
)

// MediaMode selects what an RTP session transmits.
type MediaMode int

const (
	// MediaSilence sends 20 ms PCMU/PCMA silence packets.
	MediaSilence MediaMode = iota
	// MediaTone sends a 20 ms packets of a 400 Hz-ish square tone.
	MediaTone
	// MediaEcho sends nothing of its own and reflects every packet received.
	MediaEcho
)

// MediaStats summarises one RTP session.
type MediaStats struct {
	Sent         int
	Received     int
	FirstRecvAt  time.Time // zero when nothing arrived
	DTMFSent     string
	DTMFReceived string
}

// RTPSession is a minimal RTP endpoint over UDP: a sender ticking every
// 20 ms and a receiver counting packets and decoding RFC 4733 events.
type RTPSession struct {
	conn  *net.UDPConn
	clock Clock
	log   *slog.Logger
	ssrc  uint32

	mu       sync.Mutex
	remote   netip.AddrPort
	audioPT  uint8
	eventPT  uint8
	stats    MediaStats
	lastDTMF uint32 // timestamp of the last decoded event
	gotDTMF  bool
	firstCh  chan struct{}

	digits chan string
}

// ListenRTP opens an RTP session on host with an ephemeral port.
func ListenRTP(host netip.Addr, clock Clock, log *slog.Logger) (*RTPSession, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(host, 0)))
	if err != nil {
		return nil, fmt.Errorf("listen rtp: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RTPSession{
		conn:    conn,
		clock:   clockOr(clock),
		log:     log,
		ssrc:    rand.Uint32(),
		audioPT: PayloadPCMU,
		eventPT: PayloadTelephoneEvent,
		firstCh: make(chan struct{}),
		digits:  make(chan string, 4),
	}, nil
}

// LocalAddr is the address to advertise in SDP.
func (s *RTPSession) LocalAddr() netip.AddrPort {
	return s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// SetRemote points the sender at the peer's SDP and picks payload types.
func (s *RTPSession) SetRemote(sd SessionDescription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remote = sd.Addr
	if c, ok := sd.AudioCodec(); ok {
		s.audioPT = c.Payload
	}
	if c, ok := sd.Codec("telephone-event"); ok {
		s.eventPT = c.Payload
	}
}

// FirstPacket is closed when the first RTP packet is received.
func (s *RTPSession) FirstPacket() <-chan struct{} { return s.firstCh }

// SendDTMF queues digits (0-9 * # A-D) to be sent as RFC 4733 events.
func (s *RTPSession) SendDTMF(digits string) error {
	for _, d := range digits {
		if _, err := DigitEvent(d); err != nil {
			return err
		}
	}
	s.digits <- digits
	return nil
}

// Stats returns a snapshot of the counters.
func (s *RTPSession) Stats() MediaStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close releases the socket; Run returns soon after.
func (s *RTPSession) Close() error { return s.conn.Close() }

// Run sends and receives until ctx ends or the socket is closed.
func (s *RTPSession) Run(ctx context.Context, mode MediaMode) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		_ = s.conn.SetReadDeadline(time.Now())
	}()
	var wg sync.WaitGroup
	if mode != MediaEcho {
		wg.Go(func() { s.sendLoop(ctx, mode) })
	}
	err := s.recvLoop(mode == MediaEcho)
	cancel()
	wg.Wait()
	if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (s *RTPSession) recvLoop(echo bool) error {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return fmt.Errorf("rtp read: %w", err)
		}
		pkt, err := ParseRTP(buf[:n])
		if err != nil {
			s.log.Debug("dropping non-RTP packet", "from", from, "err", err)
			continue
		}
		s.account(pkt)
		if echo {
			if _, err := s.conn.WriteToUDPAddrPort(buf[:n], from); err == nil {
				s.mu.Lock()
				s.stats.Sent++
				s.mu.Unlock()
			}
		}
	}
}

func (s *RTPSession) account(pkt RTPPacket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Received++
	if s.stats.FirstRecvAt.IsZero() {
		s.stats.FirstRecvAt = s.clock.Now()
		close(s.firstCh)
	}
	if pkt.PayloadType != s.eventPT {
		return
	}
	ev, err := ParseDTMFEvent(pkt.Payload)
	if err != nil || !ev.End {
		return
	}
	if s.gotDTMF && s.lastDTMF == pkt.Timestamp {
		return // retransmitted end packet
	}
	s.gotDTMF, s.lastDTMF = true, pkt.Timestamp
	s.stats.DTMFReceived += string(EventDigit(ev.Event))
}

// sendLoop is the only writer of seq/timestamp: audio and DTMF interleave.
func (s *RTPSession) sendLoop(ctx context.Context, mode MediaMode) {
	t := time.NewTicker(packetInterval)
	defer t.Stop()
	var (
		seq     = uint16(rand.Uint32())
		ts      = rand.Uint32()
		pending []RTPPacket // queued DTMF packets, one per tick
		queue   []rune
		gap     int
	)
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-s.digits:
			queue = append(queue, []rune(d)...)
			continue
		case <-t.C:
		}
		s.mu.Lock()
		remote, audioPT, eventPT := s.remote, s.audioPT, s.eventPT
		s.mu.Unlock()
		ts += samplesPerPacket
		if !remote.IsValid() {
			continue
		}
		if len(pending) == 0 && len(queue) > 0 && gap == 0 {
			ev, _ := DigitEvent(queue[0])
			for i, e := range DTMFTone(ev, dtmfToneSamples, samplesPerPacket) {
				pending = append(pending, RTPPacket{Marker: i == 0, PayloadType: eventPT, Timestamp: ts, Payload: e.Marshal()})
			}
			s.mu.Lock()
			s.stats.DTMFSent += string(queue[0])
			s.mu.Unlock()
			queue = queue[1:]
			gap = dtmfGapPackets
		}
		var pkt RTPPacket
		switch {
		case len(pending) > 0:
			pkt, pending = pending[0], pending[1:]
		default:
			if gap > 0 {
				gap--
			}
			pkt = RTPPacket{PayloadType: audioPT, Timestamp: ts, Payload: audioPayload(mode, audioPT, ts)}
		}
		pkt.Seq, pkt.SSRC = seq, s.ssrc
		seq++
		if _, err := s.conn.WriteToUDPAddrPort(pkt.Marshal(), remote); err != nil {
			s.log.Debug("rtp write failed", "err", err)
			continue
		}
		s.mu.Lock()
		s.stats.Sent++
		s.mu.Unlock()
	}
}

// audioPayload returns 20 ms of G.711 silence or a coarse square tone.
func audioPayload(mode MediaMode, pt uint8, ts uint32) []byte {
	silence := byte(0xff) // PCMU zero
	if pt == PayloadPCMA {
		silence = 0xd5
	}
	b := make([]byte, samplesPerPacket)
	for i := range b {
		b[i] = silence
		if mode == MediaTone && ((ts+uint32(i))/10)%2 == 0 { // 400 Hz square
			b[i] = silence ^ 0x40
		}
	}
	return b
}
