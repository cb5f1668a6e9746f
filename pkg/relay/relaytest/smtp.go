package relaytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync"
	"testing"
	"time"
)

// DefaultWait is how long Next waits when SMTPOptions.Wait is zero.
const DefaultWait = 10 * time.Second

// SMTPOptions configure StartSMTP.
type SMTPOptions struct {
	// NoSTARTTLS makes the server not offer STARTTLS, so a client can only
	// talk plain text (to test Destination.Insecure).
	NoSTARTTLS bool
	// Username and Password are the only credentials AUTH accepts. With
	// an empty Username AUTH is not offered.
	Username string
	Password string
	// AuthMechanisms are the AUTH mechanisms offered, of PLAIN and LOGIN
	// (Microsoft 365 and Exchange offer LOGIN and not PLAIN); nil: PLAIN.
	AuthMechanisms []string
	// Listen is the address to listen on; "" means 127.0.0.1:0. Another
	// loopback address (127.0.0.2:0) stands for a server on another host.
	Listen string
	// Wait bounds Next; zero means DefaultWait.
	Wait time.Duration
	// Refuse maps recipient addresses to the reply their RCPT TO gets
	// instead of 250, e.g. "550 5.1.1 no such user".
	Refuse map[string]string
	// MaxSize, when positive, is the largest message accepted: a larger
	// one is refused at the end of DATA with "552 5.3.4" (and counted,
	// TooLarge). AdvertiseSize offers it in the EHLO (SIZE, RFC 1870), as
	// Postfix does; without it the limit is unsaid, as a relay's further
	// on is.
	MaxSize       int
	AdvertiseSize bool
}

// SMTP is a running test server. Its fields are read-only.
type SMTP struct {
	// Addr is "127.0.0.1:port", the value for Destination.Addr.
	Addr string
	// CertPool trusts the server's self-signed STARTTLS certificate.
	CertPool *x509.CertPool

	opts   SMTPOptions
	tlsCfg *tls.Config
	ln     net.Listener
	wg     sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	mails    []Mail
	tooLarge int           // mails refused as over MaxSize
	next     int           // index of the mail Next returns next
	arrived  chan struct{} // closed and replaced when a mail arrives
}

// StartSMTP starts a server on 127.0.0.1:0 for the test; it is stopped,
// and its sessions closed, when the test ends.
func StartSMTP(t testing.TB, opts SMTPOptions) *SMTP {
	t.Helper()
	if opts.Wait <= 0 {
		opts.Wait = DefaultWait
	}
	cert, pool := selfSigned(t, time.Now())
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		t.Fatalf("relaytest: listen: %v", err)
	}
	s := &SMTP{
		Addr: ln.Addr().String(), CertPool: pool, opts: opts, ln: ln,
		tlsCfg:  &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		conns:   map[net.Conn]struct{}{},
		arrived: make(chan struct{}),
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

// ClientTLSConfig returns a client configuration that trusts the server,
// for relay.EmailSender.TLSConfig or relay.ChannelOptions.TLSConfig.
func (s *SMTP) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.CertPool, MinVersion: tls.VersionTLS12}
}

// Mails returns a copy of every mail accepted so far, in order.
func (s *SMTP) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Mail, len(s.mails))
	copy(out, s.mails)
	return out
}

// Next returns the first mail not yet returned by Next, waiting for it;
// it fails the test if none arrives within SMTPOptions.Wait. Call it from
// the test's goroutine.
func (s *SMTP) Next(t testing.TB) Mail {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Wait)
	defer cancel()
	m, err := s.NextContext(ctx)
	if err != nil {
		t.Fatalf("relaytest: no mail reached %s within %v: %v", s.Addr, s.opts.Wait, err)
	}
	return m
}

// NextContext is Next bounded by ctx instead of failing a test; it returns
// ctx's error when ctx ends first.
func (s *SMTP) NextContext(ctx context.Context) (Mail, error) {
	for {
		s.mu.Lock()
		if s.next < len(s.mails) {
			m := s.mails[s.next]
			s.next++
			s.mu.Unlock()
			return m, nil
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return Mail{}, context.Cause(ctx)
		}
	}
}

// TooLarge is how many mails were refused as over SMTPOptions.MaxSize.
func (s *SMTP) TooLarge() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooLarge
}

func (s *SMTP) record(m Mail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mails = append(s.mails, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

func (s *SMTP) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.forget(c)
			s.session(c)
		}()
	}
}

func (s *SMTP) forget(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// close stops accepting, ends open sessions and waits for them.
func (s *SMTP) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
