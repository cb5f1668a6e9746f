package sipphone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// pbxRingStep spaces the PBX's 100, 180 and 200 so timings are distinct.
const pbxRingStep = 20 * time.Millisecond

// testPBX is a sipgo-based registrar and UAS standing in for Asterisk.
// INVITEs to user "busy" get 486; INVITEs to anyone else are answered with
// an RTP echo. When inviteAuth is set INVITEs must carry digest credentials.
type testPBX struct {
	t          *testing.T
	transport  string
	addr       netip.AddrPort
	realm      string
	users      map[string]string
	inviteAuth bool

	srv     *sipgo.Server
	cli     *sipgo.Client
	uas     *sipgo.DialogServerCache
	uac     *sipgo.DialogClientCache
	contact sip.ContactHeader

	mu       sync.Mutex
	contacts map[string]sip.Uri // registered user -> contact
	expires  map[string]int
	badAuth  int
	rtpIn    []RTPPacket
	regs     chan string
	ended    chan string // Call-ID of calls ended by BYE
	// reinvites are the directions the operators' re-INVITEs offered,
	// acks how many ACKs came for them.
	reinvites []string
	acks      int
}

func newTestPBX(t *testing.T, transport string, users map[string]string, inviteAuth bool) *testPBX {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testpbx"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p := &testPBX{
		t: t, transport: transport, realm: "toritsugi-test", users: users, inviteAuth: inviteAuth,
		contacts: map[string]sip.Uri{}, expires: map[string]int{},
		regs: make(chan string, 16), ended: make(chan string, 64),
	}
	p.srv, err = sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	var (
		serve  func() error
		closer func() error
	)
	if transport == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
		serve, closer = func() error { return p.srv.ServeUDP(pc) }, pc.Close
		p.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(p.addr.String()))
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.addr = ln.Addr().(*net.TCPAddr).AddrPort()
		serve, closer = func() error { return p.srv.ServeTCP(ln) }, ln.Close
		p.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	}
	if err != nil {
		t.Fatal(err)
	}
	u := sip.Uri{Scheme: "sip", User: "pbx", Host: "127.0.0.1", Port: int(p.addr.Port())}
	if transport == "tcp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	p.contact = sip.ContactHeader{Address: u}
	p.uas = sipgo.NewDialogServerCache(p.cli, p.contact)
	p.uac = sipgo.NewDialogClientCache(p.cli, p.contact)
	p.srv.OnRegister(p.onRegister)
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if p.uas.ReadAck(req, tx) != nil {
			p.mu.Lock()
			p.acks++ // of a re-INVITE (ours are read by the dialogs)
			p.mu.Unlock()
		}
	})
	p.srv.OnBye(p.onBye)
	done := make(chan struct{})
	go func() { defer close(done); _ = serve() }()
	t.Cleanup(func() { _ = ua.Close(); _ = closer(); <-done })
	return p
}

func (p *testPBX) target(user string) string {
	return fmt.Sprintf("sip:%s@%s", user, p.addr)
}

// authorized checks the Authorization header against the users table and
// answers 401 with a fresh challenge when it does not verify.
func (p *testPBX) authorized(req *sip.Request, tx sip.ServerTransaction) (string, bool) {
	chal := &digest.Challenge{Realm: p.realm, Nonce: sip.GenerateTagN(16), Algorithm: "MD5"}
	if h := req.GetHeader("Authorization"); h != nil {
		cred, err := digest.ParseCredentials(h.Value())
		if err == nil {
			pw, known := p.users[cred.Username]
			chal.Nonce = cred.Nonce
			want, err := digest.Digest(chal, digest.Options{Method: req.Method.String(), URI: cred.URI, Username: cred.Username, Password: pw, Cnonce: cred.Cnonce, Count: cred.Nc})
			if known && err == nil && want.Response == cred.Response {
				return cred.Username, true
			}
		}
		p.mu.Lock()
		p.badAuth++
		p.mu.Unlock()
		chal.Nonce = sip.GenerateTagN(16)
	}
	res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
	_ = tx.Respond(res)
	return "", false
}

func (p *testPBX) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	user, ok := p.authorized(req, tx)
	if !ok {
		return
	}
	exp := 3600
	if h := req.GetHeader("Expires"); h != nil {
		_, _ = fmt.Sscan(h.Value(), &exp)
	}
	p.mu.Lock()
	if exp == 0 {
		delete(p.contacts, user)
	} else {
		p.contacts[user] = req.Contact().Address
	}
	p.expires[user] = exp
	p.mu.Unlock()
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(exp)))
	_ = tx.Respond(res)
	p.regs <- fmt.Sprintf("%s:%d", user, exp)
}

func (p *testPBX) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		p.onReinvite(req, tx)
		return
	}
	if p.inviteAuth {
		if _, ok := p.authorized(req, tx); !ok {
			return
		}
	}
	dlg, err := p.uas.ReadInvite(req, tx)
	if err != nil {
		return
	}
	defer dlg.Close()
	if err := dlg.Respond(sip.StatusTrying, "Trying", nil); err != nil {
		p.t.Logf("respond 100: %v", err)
	}
	if req.Recipient.User == "busy" {
		_ = dlg.Respond(sip.StatusBusyHere, "Busy Here", nil)
		return
	}
	time.Sleep(pbxRingStep) // the far end takes a moment to ring and to pick up
	_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
	time.Sleep(pbxRingStep)
	offer, err := ParseSDP(req.Body())
	if err != nil {
		_ = dlg.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return
	}
	defer conn.Close()
	go p.echo(conn)
	answer := SessionDescription{SessionID: 7, Version: 1, Addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), Codecs: offer.Codecs}
	if err := dlg.RespondSDP(answer.Marshal()); err != nil {
		return
	}
	<-dlg.Context().Done()
	p.ended <- req.CallID().Value()
}

// onReinvite answers an operator's re-INVITE in a call the PBX rang: a
// hold (sendonly) is answered recvonly, as Asterisk does; it notes the
// direction offered.
func (p *testPBX) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	offer, err := ParseSDP(req.Body())
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
		return
	}
	dir := offer.Direction
	if dir == "" {
		dir = "sendrecv"
	}
	p.mu.Lock()
	p.reinvites = append(p.reinvites, dir)
	p.mu.Unlock()
	answer := SessionDescription{SessionID: 7, Version: 2, Addr: netip.MustParseAddrPort("127.0.0.1:40000"), Codecs: offer.Codecs, Direction: map[string]string{"sendonly": "recvonly"}[dir]}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", answer.Marshal())
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(&p.contact)
	_ = tx.Respond(res)
}

// echo reflects RTP and keeps a copy of every packet.
func (p *testPBX) echo(conn *net.UDPConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if pkt, err := ParseRTP(append([]byte(nil), buf[:n]...)); err == nil {
			p.mu.Lock()
			p.rtpIn = append(p.rtpIn, pkt)
			p.mu.Unlock()
		}
		_, _ = conn.WriteToUDPAddrPort(buf[:n], from)
	}
}

func (p *testPBX) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := p.uas.ReadBye(req, tx); err == nil {
		return
	}
	if err := p.uac.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	}
}

func (p *testPBX) packets() []RTPPacket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]RTPPacket(nil), p.rtpIn...)
}

// ringResult is what the PBX saw when it rang a registered operator.
type ringResult struct {
	codes  []int
	final  int
	byeErr error
	hungUp bool // the operator sent BYE
	rtp    int  // echoed packets received by the PBX side
}

// ring INVITEs a registered operator. onRinging runs on 180; canceling ctx
// sends CANCEL. For answered calls it waits for the operator's BYE (or
// sends one after hold when hold > 0).
func (p *testPBX) ring(ctx context.Context, user string, hold time.Duration, onRinging func()) (ringResult, error) {
	var rr ringResult
	p.mu.Lock()
	contact, ok := p.contacts[user]
	p.mu.Unlock()
	if !ok {
		return rr, fmt.Errorf("%s not registered", user)
	}
	rtp, err := ListenRTP(netip.MustParseAddr("127.0.0.1"), nil, nil)
	if err != nil {
		return rr, err
	}
	defer rtp.Close()
	offer := SessionDescription{SessionID: 1, Version: 1, Addr: rtp.LocalAddr(), Codecs: DefaultCodecs()}
	dlg, err := p.uac.Invite(ctx, contact, offer.Marshal(), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		return rr, err
	}
	defer dlg.Close()
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		rr.codes = append(rr.codes, r.StatusCode)
		if r.StatusCode == sip.StatusRinging && onRinging != nil {
			onRinging()
		}
		return nil
	}})
	if dlg.InviteResponse != nil {
		rr.final = dlg.InviteResponse.StatusCode
	}
	var dr *sipgo.ErrDialogResponse
	if errors.As(err, &dr) {
		return rr, nil
	}
	if err != nil {
		return rr, err
	}
	if err := dlg.Ack(ctx); err != nil {
		return rr, err
	}
	answer, err := ParseSDP(dlg.InviteResponse.Body())
	if err != nil {
		return rr, err
	}
	rtp.SetRemote(answer)
	mctx, stop := context.WithCancel(context.Background())
	mdone := make(chan struct{})
	go func() { defer close(mdone); _ = rtp.Run(mctx, MediaSilence) }()
	var holdC <-chan time.Time
	if hold > 0 {
		holdC = time.After(hold)
	}
	select {
	case <-dlg.Context().Done():
		rr.hungUp = true
	case <-holdC:
		rr.byeErr = dlg.Bye(context.Background())
	case <-ctx.Done():
	}
	stop()
	<-mdone
	rr.rtp = rtp.Stats().Received
	return rr, nil
}
