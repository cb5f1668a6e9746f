package sipphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// ErrTransport reports an unsupported SIP transport name.
var ErrTransport = errors.New("unsupported transport (want udp or tcp)")

// EndpointConfig describes the local SIP side of a phone.
type EndpointConfig struct {
	// Transport is "udp" (default) or "tcp".
	Transport string
	// Listen is the local SIP address; default 127.0.0.1:0.
	Listen string
	// UserAgent is the User-Agent header value.
	UserAgent string
	Log       *slog.Logger
}

// endpoint owns one sipgo user agent, its server (listening on Listen) and
// client. Requests leave from the listening socket for UDP so that the
// Contact/Via address is the one the peer answers to.
type endpoint struct {
	ua        *sipgo.UserAgent
	srv       *sipgo.Server
	cli       *sipgo.Client
	transport string
	addr      netip.AddrPort
	log       *slog.Logger
	done      chan struct{}
	closer    func() error
}

func normTransport(t string) (string, error) {
	switch strings.ToLower(t) {
	case "", "udp":
		return "udp", nil
	case "tcp":
		return "tcp", nil
	}
	return "", fmt.Errorf("%w: %q", ErrTransport, t)
}

// newEndpoint listens and returns once the socket is bound. register adds
// the request handlers before serving starts.
func newEndpoint(ctx context.Context, cfg EndpointConfig, register func(*endpoint)) (*endpoint, error) {
	tr, err := normTransport(cfg.Transport)
	if err != nil {
		return nil, err
	}
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := cfg.UserAgent
	if name == "" {
		name = "toritsugi-phone"
	}
	var (
		pc net.PacketConn
		ln net.Listener
		la netip.AddrPort
	)
	lc := net.ListenConfig{}
	if tr == "udp" {
		pc, err = lc.ListenPacket(ctx, "udp", listen)
		if err == nil {
			la = pc.LocalAddr().(*net.UDPAddr).AddrPort()
		}
	} else {
		ln, err = lc.Listen(ctx, "tcp", listen)
		if err == nil {
			la = ln.Addr().(*net.TCPAddr).AddrPort()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listen sip %s %s: %w", tr, listen, err)
	}
	la = netip.AddrPortFrom(la.Addr().Unmap(), la.Port())
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(name), sipgo.WithUserAgentHostname(la.Addr().String()))
	if err != nil {
		closeListener(pc, ln)
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		closeListener(pc, ln)
		_ = ua.Close()
		return nil, fmt.Errorf("sip server: %w", err)
	}
	opts := []sipgo.ClientOption{sipgo.WithClientLogger(log), sipgo.WithClientHostname(la.Addr().String())}
	if tr == "udp" {
		opts = append(opts, sipgo.WithClientConnectionAddr(la.String()))
	}
	cli, err := sipgo.NewClient(ua, opts...)
	if err != nil {
		closeListener(pc, ln)
		_ = ua.Close()
		return nil, fmt.Errorf("sip client: %w", err)
	}
	e := &endpoint{ua: ua, srv: srv, cli: cli, transport: tr, addr: la, log: log, done: make(chan struct{})}
	if register != nil {
		register(e)
	}
	go func() {
		defer close(e.done)
		var err error
		if pc != nil {
			err = srv.ServeUDP(pc)
		} else {
			err = srv.ServeTCP(ln)
		}
		if err != nil && !errors.Is(err, net.ErrClosed) {
			log.Debug("sip serve ended", "err", err)
		}
	}()
	e.closer = func() error {
		err := ua.Close()
		closeListener(pc, ln)
		<-e.done
		return err
	}
	if tr == "udp" {
		if err := waitUDPServing(ctx, ua, la.String()); err != nil {
			_ = e.closer()
			return nil, err
		}
	}
	return e, nil
}

// waitUDPServing waits until sipgo has put the listening socket in its pool,
// so that requests leave from it instead of binding the same port again.
func waitUDPServing(ctx context.Context, ua *sipgo.UserAgent, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		if _, err := ua.TransportLayer().GetConnection("udp", addr); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sip udp listener %s not serving: %w", addr, ctx.Err())
		case <-t.C:
		}
	}
}

func closeListener(pc net.PacketConn, ln net.Listener) {
	if pc != nil {
		_ = pc.Close()
	}
	if ln != nil {
		_ = ln.Close()
	}
}

// contact is our Contact header for the given user.
func (e *endpoint) contact(user string) sip.ContactHeader {
	u := sip.Uri{Scheme: "sip", User: user, Host: e.addr.Addr().String(), Port: int(e.addr.Port())}
	if e.transport == "tcp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	return sip.ContactHeader{Address: u}
}

// Close stops the user agent and its listener.
func (e *endpoint) Close() error { return e.closer() }

// parseTarget accepts "sip:user@host:port", "user@host:port" or "host:port".
func parseTarget(target, transport string) (sip.Uri, error) {
	s := target
	if !strings.HasPrefix(s, "sip:") && !strings.HasPrefix(s, "sips:") {
		s = "sip:" + s
	}
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return sip.Uri{}, fmt.Errorf("parse sip uri %q: %w", target, err)
	}
	if u.Host == "" {
		return sip.Uri{}, fmt.Errorf("parse sip uri %q: no host", target)
	}
	if transport == "tcp" {
		if u.UriParams == nil {
			u.UriParams = sip.NewParams()
		}
		u.UriParams.Add("transport", "tcp")
	}
	return u, nil
}
