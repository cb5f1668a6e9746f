package relay

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EmailSender sends mail with net/smtp to Destination.Addr ("host:port",
// submission port 587 style): EHLO, STARTTLS when offered (required
// unless Destination.Insecure), AUTH PLAIN when Destination.Username is
// set, then one message to the comma-separated Destination.To. Implicit
// TLS (port 465) is not supported.
type EmailSender struct {
	// TLSConfig is cloned for STARTTLS with ServerName set to the host;
	// nil means system roots.
	TLSConfig *tls.Config
	// Clock stamps the Date header; nil means the system clock.
	Clock Clock
	// HeloName for EHLO; empty means heloName's choice.
	HeloName string
	// Recordings reads the recording a voicemail's message names, attached
	// to its mail; nil: none is attached.
	Recordings RecordingFunc
}

// Send delivers m. The Message-ID is derived from the idempotency key, so
// a resend after a crash carries the same Message-ID. A voicemail's mail
// the server will not take with its recording (over the SIZE its EHLO
// gives, or refused at the end of DATA as too large: 552, 5.3.4) goes
// without it, its recording line saying it was too large to attach.
func (s *EmailSender) Send(ctx context.Context, d Destination, m Message) error {
	from, err := mail.ParseAddress(d.From)
	if err != nil {
		return fmt.Errorf("relay: email %q: From: %w: %w", d.Name, ErrPermanent, err)
	}
	to, err := mail.ParseAddressList(d.To)
	if err != nil {
		return fmt.Errorf("relay: email %q: To: %w: %w", d.Name, ErrPermanent, err)
	}
	host, _, err := net.SplitHostPort(d.Addr)
	if err != nil {
		return fmt.Errorf("relay: email %q: Addr: %w: %w", d.Name, ErrPermanent, err)
	}
	clock := s.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	now, plain := clock.Now(), m
	att, err := s.voicemail(ctx, &m, now)
	if err != nil {
		return fmt.Errorf("relay: email %q: %w", d.Name, err)
	}
	msg, err := buildMail(from, to, m, d.Name, now, att)
	if err != nil {
		return fmt.Errorf("relay: email %q: %w", d.Name, err)
	}
	// The mail without its attachment, saying why: sent instead when the
	// server will not take the mail with it (its SIZE, or a refusal as too
	// large), so that the client still gets the notice.
	var small []byte
	if att != nil {
		sayRecording(&plain, tooLargeNote, true)
		if small, err = buildMail(from, to, plain, d.Name, now, nil); err != nil {
			return fmt.Errorf("relay: email %q: %w", d.Name, err)
		}
	}
	err = s.transact(ctx, d, host, from.Address, to, msg, small)
	if small != nil && errors.Is(err, errTooLarge) {
		// Refused as too large at the end of DATA (a limit the server did
		// not advertise, or a relay's behind it): once more without the
		// recording. Nothing was delivered, so nobody gets it twice.
		err = s.transact(ctx, d, host, from.Address, to, small, nil)
	}
	if err != nil {
		if errors.Is(err, ErrPartlyDelivered) {
			return fmt.Errorf("relay: email %q via %s: %w", d.Name, d.Addr, err)
		}
		if permanentSMTP(err) {
			// A 5xx reply (unknown recipient, refused sender, bad
			// credentials) will not change by retrying for hours: straight
			// to the dead letters, where an admin sees and retries it.
			return fmt.Errorf("relay: email %q via %s: %w: %w", d.Name, d.Addr, ErrPermanent, err)
		}
		return fmt.Errorf("relay: email %q via %s: %w", d.Name, d.Addr, err)
	}
	return nil
}

// voicemail is the attachment of m's recording, when it names one and the
// sender reads recordings. What became of it is said on the notice's
// recording line (RecordingLine): attached, or, with no attachment, why:
// Asterisk has it no more (the retention deleted it), it is over
// MaxAttachment (or, Send finds, the mail with it is over what the mail
// server takes), or Asterisk could not give it for recordingWait since
// the message was left (down, restarting: until then an error, tried
// again; after it the text goes without the recording, lest the client
// lose the notice with it).
func (s *EmailSender) voicemail(ctx context.Context, m *Message, now time.Time) (*attachment, error) {
	if m.Recording == "" || s.Recordings == nil {
		return nil, nil
	}
	rctx, cancel := context.WithTimeout(ctx, recordingReadTimeout)
	data, err := s.Recordings(rctx, m.Recording)
	cancel()
	switch {
	case errors.Is(err, ErrNoRecording):
		sayRecording(m, noRecordingNote, true)
	case err != nil && now.Sub(m.CreatedAt) < recordingWait:
		return nil, fmt.Errorf("reading the voicemail's recording %s: %w", m.Recording, err)
	case err != nil:
		sayRecording(m, unreadableNote, true)
	case len(data) > MaxAttachment:
		sayRecording(m, tooLargeNote, true)
	default:
		att := &attachment{name: voicemailFileName(*m), contentType: "audio/wav", data: data}
		sayRecording(m, "あり（添付の音声ファイル "+att.name+"）", false)
		return att, nil
	}
	return nil, nil
}

// RecordingLine is the line a voicemail's notice gives its recording (the
// desk's; a client's own template may leave it out); mail says there what
// became of the recording.
const RecordingLine = "録音: あり"

// sayRecording says what in m's text, on its RecordingLine; when the text
// has none (a client's own template), after it, if always.
func sayRecording(m *Message, what string, always bool) {
	if strings.Contains(m.Text, RecordingLine) {
		m.Text = strings.Replace(m.Text, RecordingLine, "録音: "+what, 1)
		return
	}
	if always {
		m.Text = strings.TrimRight(m.Text, "\n") + "\n\n録音: " + what + "\n"
	}
}

// What a voicemail's mail says of a recording it does not carry.
const (
	noRecordingNote = "見つかりませんでした（保存期間を過ぎて削除されたか、録音に失敗しました）"
	unreadableNote  = "電話システムから取り出せなかったため、添付していません"
	tooLargeNote    = "メールに添付するには大きすぎるため、添付していません"
)

// recordingWait is how long after a voicemail was left its mail waits
// for the recording while Asterisk cannot give it; recordingReadTimeout
// bounds one read, inside the send's own time.
const (
	recordingWait        = time.Hour
	recordingReadTimeout = 10 * time.Second
)

// voicemailFileName is the attached recording's file name: when the
// message was left, in Japan time (voicemail-20261130-1412.wav).
func voicemailFileName(m Message) string {
	return "voicemail-" + m.CreatedAt.In(jst).Format("20060102-1504") + ".wav"
}

// errNoSTARTTLS: the server offers no STARTTLS and plain text is not allowed.
var errNoSTARTTLS = errors.New("server does not offer STARTTLS (set insecure to allow plain text)")

// errClearText: a password would go to another host without TLS (the
// server did not offer STARTTLS, and insecure let the session go on).
var errClearText = errors.New("the server offers no STARTTLS: the password is not sent in clear text to another host")

// errUnverified: insecure is set and the server's certificate could not be
// verified (self-signed): the password goes only to this host.
var errUnverified = errors.New("the server's certificate is not verified (insecure): the password is not sent to another host")

// errAuthMechanism: the server offers no AUTH mechanism toritsugi speaks
// (PLAIN, LOGIN), or no AUTH at all while a username is configured.
var errAuthMechanism = errors.New("no AUTH mechanism in common")

// permanentSMTP reports a 5xx SMTP reply or a configuration the server
// refuses for good.
func permanentSMTP(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) {
		// 5.4.5 (RFC 3463: congestion), which Gmail and others answer when
		// a sending quota is used up, clears by itself within the day.
		return te.Code >= 500 && !strings.HasPrefix(te.Msg, "5.4.5")
	}
	return errors.Is(err, errNoSTARTTLS) || errors.Is(err, errAuthMechanism) || errors.Is(err, errClearText) || errors.Is(err, errUnverified)
}

// verifyPeer verifies a server's certificate chain for its name as a TLS
// client does by default, against roots (nil: the system's).
func verifyPeer(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: cs.ServerName, Roots: roots, Intermediates: inter})
	return err
}

// errTooLarge: the server refused the mail as too large at the end of
// DATA (552, or the enhanced code 5.3.4 with another reply code).
var errTooLarge = errors.New("the server refused the mail as too large")

// tooLargeReply reports an SMTP reply refusing a mail for its size: 552
// (RFC 5321: exceeded storage allocation, which servers answer for their
// size limit) or 5.3.4 (RFC 3463: message too big for system).
func tooLargeReply(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && (te.Code == 552 || strings.HasPrefix(te.Msg, "5.3.4"))
}

// sizeLimit is the largest mail the server takes, as its EHLO's SIZE
// says (RFC 1870); ok is false when it says none (or 0: no fixed limit).
func sizeLimit(c *smtp.Client) (n int, ok bool) {
	offered, param := c.Extension("SIZE")
	n, err := strconv.Atoi(strings.TrimSpace(param))
	return n, offered && err == nil && n > 0
}

// transact runs one SMTP session; ctx bounds and can abort all of it. A
// mail over the server's SIZE is sent as small instead when there is one
// (a voicemail's mail without its recording).
func (s *EmailSender) transact(ctx context.Context, d Destination, host, from string, to []*mail.Address, msg, small []byte) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", d.Addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	helo := s.HeloName
	if helo == "" {
		helo = heloName(d.From)
	}
	if err := c.Hello(helo); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	verified := false
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.TLSConfig != nil {
			cfg = s.TLSConfig.Clone()
		}
		cfg.ServerName = host
		if d.Insecure {
			// A session without TLS is allowed, so one whose certificate
			// cannot be verified is too (Debian's Postfix on this host
			// offers STARTTLS with its self-signed snakeoil certificate):
			// verified as usual, the outcome kept for AUTH below.
			cfg.InsecureSkipVerify = true
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				verified = verifyPeer(cs, cfg.RootCAs) == nil
				return nil
			}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
		if !d.Insecure {
			verified = true // StartTLS verified it
		}
	} else if !d.Insecure {
		return errNoSTARTTLS
	}
	if d.Username != "" && !isLocalhost(host) {
		if _, tlsOn := c.TLSConnectionState(); !tlsOn {
			return fmt.Errorf("AUTH: %w", errClearText)
		}
		if !verified {
			return fmt.Errorf("AUTH: %w", errUnverified)
		}
	}
	if d.Username != "" {
		mech, auth, err := chooseAuth(c, d, host)
		if err != nil {
			return err
		}
		if err := c.Auth(auth); err != nil {
			return fmt.Errorf("AUTH %s: %w", mech, err)
		}
	}
	if limit, ok := sizeLimit(c); ok && len(msg) > limit && small != nil {
		msg = small
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	// A recipient the server refuses for good (5xx: unknown user) does not
	// hold back the others; a transient refusal (4xx) retries them all.
	var refused []string
	var lastRefusal error
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			if !permanentSMTP(err) || len(to) == 1 {
				return fmt.Errorf("RCPT TO %s: %w", a.Address, err)
			}
			refused, lastRefusal = append(refused, a.Address), fmt.Errorf("RCPT TO %s: %w", a.Address, err)
		}
	}
	if len(refused) == len(to) {
		return lastRefusal // every recipient refused: permanent
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA write: %w", err)
	}
	if err := w.Close(); err != nil {
		if tooLargeReply(err) {
			return fmt.Errorf("DATA end: %w: %w", errTooLarge, err)
		}
		return fmt.Errorf("DATA end: %w", err)
	}
	if err := c.Quit(); err != nil {
		// The message was accepted at the end of DATA; a failed QUIT
		// does not make it undelivered.
		return partly(refused)
	}
	return partly(refused)
}

// partly is nil when no recipient was refused, else ErrPartlyDelivered
// naming the refused ones.
func partly(refused []string) error {
	if len(refused) == 0 {
		return nil
	}
	return fmt.Errorf("%w: refused by the server: %s", ErrPartlyDelivered, strings.Join(refused, ", "))
}

// chooseAuth picks PLAIN or LOGIN among the mechanisms the server offers
// (after STARTTLS): Microsoft 365 and Exchange offer LOGIN (and XOAUTH2),
// not PLAIN, and answer PLAIN with 504.
func chooseAuth(c *smtp.Client, d Destination, host string) (string, smtp.Auth, error) {
	ok, list := c.Extension("AUTH")
	if !ok {
		return "", nil, fmt.Errorf("AUTH: %w: the server offers no AUTH (username %q is set)", errAuthMechanism, d.Username)
	}
	offered := strings.Fields(strings.ToUpper(list))
	switch {
	case slices.Contains(offered, "PLAIN"):
		return "PLAIN", smtp.PlainAuth("", d.Username, d.Password, host), nil
	case slices.Contains(offered, "LOGIN"):
		return "LOGIN", &loginAuth{username: d.Username, password: d.Password, host: host}, nil
	}
	return "", nil, fmt.Errorf("AUTH: %w: the server offers %s; toritsugi speaks PLAIN and LOGIN", errAuthMechanism, list)
}

// loginAuth is the AUTH LOGIN exchange: the server asks for the user name,
// then the password (base64 challenges, decoded by net/smtp). Like
// smtp.PlainAuth, it sends them only over TLS or to localhost.
type loginAuth struct {
	username, password, host string
	step                     int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	a.step = 0
	return "LOGIN", nil, nil
}

// Next answers the challenges in order (their text varies: "Username:",
// "User Name", ...): the user name, then the password.
func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, errors.New("unexpected AUTH LOGIN challenge")
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}

// hostname is os.Hostname (a test's).
var hostname = os.Hostname

// heloName is the name the EHLO gives when none is set: this host's name
// when it is fully qualified, else the domain of the sender address, else
// "localhost". SMTP asks for a fully qualified name (RFC 5321 4.1.1.1),
// and relays that check it (Postfix's reject_non_fqdn_helo_hostname, a
// relay that accepts a customer by its domain) refused "localhost" with a
// 5xx: every mail was dead-lettered.
func heloName(from string) string {
	if h, err := hostname(); err == nil && qualified(h) {
		return strings.TrimSuffix(h, ".")
	}
	if a, err := mail.ParseAddress(from); err == nil {
		if _, domain, ok := strings.Cut(a.Address, "@"); ok && strings.Contains(domain, ".") {
			return domain
		}
	}
	return "localhost"
}

// qualified reports whether host is a name a relay can check: it has a
// dot, is no address, and is not a placeholder a system gives a host
// nobody named (localhost.localdomain, *.local).
func qualified(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if !strings.Contains(h, ".") || net.ParseIP(h) != nil {
		return false
	}
	for _, p := range []string{".localdomain", ".local", ".localhost", ".internal", ".lan", ".home.arpa"} {
		if strings.HasSuffix(h, p) {
			return false
		}
	}
	return true
}
