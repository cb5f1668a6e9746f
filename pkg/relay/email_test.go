package relay

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay/relaytest"
)

func emailDest(addr string) Destination {
	return Destination{Name: "mail-sato", Type: TypeEmail, Addr: addr,
		From: "取次センター <relay@example.jp>", To: "sato@client.example, desk@client.example",
		Username: "relay@example.jp", Password: "p@ss"}
}

// startSMTP starts the test server accepting emailDest's credentials.
func startSMTP(t *testing.T, noSTARTTLS bool) *relaytest.SMTP {
	t.Helper()
	return relaytest.StartSMTP(t, relaytest.SMTPOptions{NoSTARTTLS: noSTARTTLS, Username: "relay@example.jp", Password: "p@ss"})
}

func TestEmailSTARTTLSAuthAndHeaders(t *testing.T) {
	srv := startSMTP(t, false)
	clock := newFakeClock()
	s := &EmailSender{TLSConfig: srv.ClientTLSConfig(), Clock: clock}
	m := testMessage("m-1")
	if err := s.Send(t.Context(), emailDest(srv.Addr), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.Next(t)
	if !got.TLS || got.AuthUser != "relay@example.jp" {
		t.Errorf("TLS=%v auth=%q, want TLS and relay@example.jp", got.TLS, got.AuthUser)
	}
	if got.From != "relay@example.jp" || strings.Join(got.To, ",") != "sato@client.example,desk@client.example" {
		t.Errorf("envelope from=%q to=%q", got.From, got.To)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	raw := msg.Header.Get("Subject")
	if !strings.HasPrefix(raw, "=?UTF-8?b?") {
		t.Errorf("Subject %q is not RFC 2047 encoded", raw)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil || subj != m.Subject {
		t.Errorf("Subject = %q (%v), want %q", subj, err, m.Subject)
	}
	if id := msg.Header.Get("Message-ID"); id != "<m-1/mail-sato@example.jp>" {
		t.Errorf("Message-ID = %q", id)
	}
	if k := msg.Header.Get(HeaderMailIdempotencyKey); k != "m-1/mail-sato" {
		t.Errorf("idempotency header = %q", k)
	}
	if a := msg.Header.Get("Auto-Submitted"); a != "auto-generated" { // no out-of-office replies (RFC 3834)
		t.Errorf("Auto-Submitted = %q", a)
	}
	if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "取次センター" {
		t.Errorf("From = %v (%v)", from, err)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(clock.Now()) {
		t.Errorf("Date = %v (%v), want %v", d, err, clock.Now())
	}
	// The text's lines end in CRLF, as RFC 2045 wants of a text body.
	body, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, msg.Body))
	if want := strings.ReplaceAll(m.Text, "\n", "\r\n"); err != nil || string(body) != want {
		t.Errorf("body = %q (%v), want %q", body, err, want)
	}
}

func TestEmailRequiresSTARTTLSUnlessInsecure(t *testing.T) {
	srv := startSMTP(t, true)
	s := &EmailSender{Clock: newFakeClock()}
	d := emailDest(srv.Addr)
	err := s.Send(t.Context(), d, testMessage("m-2"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send without STARTTLS = %v, want a STARTTLS error", err)
	}
	d.Insecure = true
	if err := s.Send(t.Context(), d, testMessage("m-2")); err != nil {
		t.Fatalf("Send insecure: %v", err)
	}
	if got := srv.Next(t); got.TLS || got.AuthUser != "relay@example.jp" {
		t.Errorf("TLS=%v auth=%q, want plain text with auth on localhost", got.TLS, got.AuthUser)
	}
}

func TestEmailErrors(t *testing.T) {
	srv := startSMTP(t, false)
	trusted := &EmailSender{TLSConfig: srv.ClientTLSConfig(), Clock: newFakeClock()}
	tests := []struct {
		name      string
		sender    *EmailSender
		edit      func(*Destination)
		permanent bool
		want      string
	}{
		{"untrusted cert", &EmailSender{Clock: newFakeClock()}, func(*Destination) {}, false, "STARTTLS"},
		{"bad password (535: permanent)", trusted, func(d *Destination) { d.Password = "nope" }, true, "AUTH PLAIN"},
		{"bad from", trusted, func(d *Destination) { d.From = "not an address" }, true, "From"},
		{"bad to", trusted, func(d *Destination) { d.To = "" }, true, "To"},
		{"bad addr", trusted, func(d *Destination) { d.Addr = "nohostport" }, true, "Addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := emailDest(srv.Addr)
			tt.edit(&d)
			err := tt.sender.Send(t.Context(), d, testMessage("m-3"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Send = %v, want error containing %q", err, tt.want)
			}
			if got := errors.Is(err, ErrPermanent); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
		})
	}
}

func TestMessageIDDistinct(t *testing.T) {
	tests := []struct{ key, want string }{
		{"m-1/mail", "<m-1/mail@example.jp>"},
		{"a.b/c d", "<a=2Eb/c=20d@example.jp>"},
		{"a=2Eb/c", "<a=3D2Eb/c@example.jp>"},
	}
	for _, tt := range tests {
		if got := MessageID(tt.key, "x@example.jp"); got != tt.want {
			t.Errorf("MessageID(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	if got := MessageID("k", "bad"); got != "<k@toritsugi.invalid>" {
		t.Errorf("MessageID without domain = %q", got)
	}
}

// TestEmailRefusedRecipients: a recipient the server refuses for good does
// not hold back the others (partly delivered, not retried); all refused is
// permanent; a temporary refusal retries everyone.
func TestEmailRefusedRecipients(t *testing.T) {
	const unknown, busy = "550 5.1.1 no such user", "450 4.2.1 mailbox busy, try later"
	tests := []struct {
		name      string
		refuse    map[string]string
		partly    bool
		permanent bool
		delivered []string // the recipients the mail reached
	}{
		{"one unknown", map[string]string{"desk@client.example": unknown}, true, false, []string{"sato@client.example"}},
		{"all unknown", map[string]string{"desk@client.example": unknown, "sato@client.example": unknown}, false, true, nil},
		{"one busy", map[string]string{"desk@client.example": busy}, false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := relaytest.StartSMTP(t, relaytest.SMTPOptions{Username: "relay@example.jp", Password: "p@ss", Refuse: tt.refuse, Wait: 200 * time.Millisecond})
			s := &EmailSender{TLSConfig: srv.ClientTLSConfig(), Clock: newFakeClock()}
			err := s.Send(t.Context(), emailDest(srv.Addr), testMessage("m-9"))
			if errors.Is(err, ErrPartlyDelivered) != tt.partly || errors.Is(err, ErrPermanent) != tt.permanent || (err == nil) {
				t.Fatalf("Send = %v; want partly %v, permanent %v", err, tt.partly, tt.permanent)
			}
			if tt.partly && !strings.Contains(err.Error(), "desk@client.example") {
				t.Errorf("the error does not name the refused recipient: %v", err)
			}
			mails := srv.Mails()
			var got []string
			if len(mails) == 1 {
				got = mails[0].To
			}
			if len(mails) > 1 || strings.Join(got, ",") != strings.Join(tt.delivered, ",") {
				t.Fatalf("%d mails to %v, want one to %v", len(mails), got, tt.delivered)
			}
		})
	}
}

// TestEmailAuthMechanisms: the sender uses the mechanism the server
// offers (Microsoft 365 and Exchange: LOGIN, not PLAIN); a server that
// offers none toritsugi speaks is refused for good without credentials
// being sent, as are wrong credentials.
func TestEmailAuthMechanisms(t *testing.T) {
	tests := []struct {
		name      string
		mechs     []string
		password  string
		wantUser  string
		wantErr   string
		permanent bool
	}{
		{"plain", []string{"PLAIN"}, "p@ss", "relay@example.jp", "", false},
		{"login only", []string{"LOGIN", "XOAUTH2"}, "p@ss", "relay@example.jp", "", false},
		{"plain preferred", []string{"LOGIN", "PLAIN"}, "p@ss", "relay@example.jp", "", false},
		{"login, wrong password", []string{"LOGIN"}, "nope", "", "AUTH LOGIN: 535", true},
		{"xoauth2 only", []string{"XOAUTH2"}, "p@ss", "", "the server offers XOAUTH2; toritsugi speaks PLAIN and LOGIN", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := relaytest.StartSMTP(t, relaytest.SMTPOptions{Username: "relay@example.jp", Password: "p@ss", AuthMechanisms: tt.mechs})
			s := &EmailSender{TLSConfig: srv.ClientTLSConfig(), Clock: newFakeClock()}
			d := emailDest(srv.Addr)
			d.Password = tt.password
			err := s.Send(t.Context(), d, testMessage("m-auth"))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if got := srv.Next(t); got.AuthUser != tt.wantUser {
					t.Errorf("authenticated as %q, want %q", got.AuthUser, tt.wantUser)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Send = %v, want an error containing %q", err, tt.wantErr)
			}
			if got := errors.Is(err, ErrPermanent); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if n := len(srv.Mails()); n != 0 {
				t.Errorf("%d mails delivered, want none", n)
			}
		})
	}
}

// TestLongHeadersFolded: a long Japanese subject, and senders' and
// recipients' names, long or short, before a long address, are folded:
// an encoded-word a line and the <address> on a line of its own, every
// line within RFC 2047's 76 characters (the first word on a line of its
// own when it would not fit after "Subject: "), and read back whole. The
// last word of a name and its address made lines of up to 113.
func TestLongHeadersFolded(t *testing.T) {
	m := testMessage("m-long-subject")
	m.Subject = strings.Repeat("株式会社ながいなまえの会社", 30) + " 山田様より"
	const sender = "relay-notifications@toritsugi-example.co.jp"
	for _, name := range []string{strings.Repeat("取次センター", 12), "取次センター", "取次", "株式会社テスト 受付センター（電話代行）",
		"ACME 受付センター 取次", "電話代行サービス取次センター東京本社第一受付"} {
		from := &mail.Address{Name: name, Address: sender}
		to := []*mail.Address{{Name: name, Address: "info@example.jp"}, {Name: strings.Repeat("株式会社ながいなまえ", 8), Address: "a@example.jp"},
			{Name: "総務部", Address: "b@example.jp"}}
		raw, err := buildMail(from, to, m, "d", time.Unix(0, 0), nil)
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if len(line) > 76 { // RFC 2047: a line with encoded-words
				t.Errorf("%s: header line of %d octets: %s", name, len(line), line)
			}
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || got != m.Subject {
			t.Errorf("subject read back %q (%v), want %q", got, err, m.Subject)
		}
		if got, err := msg.Header.AddressList("From"); err != nil || len(got) != 1 || *got[0] != *from {
			t.Errorf("From read back %v (%v), want %v", got, err, from)
		}
		got, err := msg.Header.AddressList("To")
		if err != nil || len(got) != len(to) {
			t.Fatalf("To read back %v (%v)", got, err)
		}
		for i := range to {
			if *got[i] != *to[i] {
				t.Errorf("To read back %v, want %v", got[i], to[i])
			}
		}
	}
}

// TestUrgentSubject: an urgent message's subject starts with 【至急】, as
// its text does: the client sees it in the inbox's list.
func TestUrgentSubject(t *testing.T) {
	for _, c := range []struct {
		urgent        bool
		subject, want string
	}{
		{true, "山田様より ACME 宛のお電話", "【至急】山田様より ACME 宛のお電話"},
		{true, "【至急】山田様より", "【至急】山田様より"},
		{false, "山田様より ACME 宛のお電話", "山田様より ACME 宛のお電話"},
	} {
		m := testMessage("m-urgent")
		m.Urgent, m.Subject = c.urgent, c.subject
		raw, err := buildMail(&mail.Address{Address: "relay@example.jp"}, []*mail.Address{{Address: "a@example.jp"}}, m, "d", time.Unix(0, 0), nil)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || got != c.want {
			t.Errorf("urgent %v: subject %q (%v), want %q", c.urgent, got, err, c.want)
		}
	}
}

func TestPermanentSMTP(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&textproto.Error{Code: 550, Msg: "5.1.1 no such user"}, true},
		{&textproto.Error{Code: 535, Msg: "5.7.8 authentication failed"}, true},
		{&textproto.Error{Code: 550, Msg: "5.4.5 Daily user sending limit exceeded"}, false},
		{&textproto.Error{Code: 451, Msg: "4.3.0 try later"}, false},
		{fmt.Errorf("RCPT: %w", &textproto.Error{Code: 554, Msg: "5.7.1 relay denied"}), true},
		{errNoSTARTTLS, true},
		{errors.New("dial: connection refused"), false},
	} {
		if got := permanentSMTP(tc.err); got != tc.want {
			t.Errorf("permanentSMTP(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestNoClearTextPasswordToAnotherHost: insecure lets a session go on
// without STARTTLS, but a password goes in clear text only to this host;
// to another (127.0.0.2 standing for one) the message fails for good,
// nothing sent.
func TestNoClearTextPasswordToAnotherHost(t *testing.T) {
	srv := relaytest.StartSMTP(t, relaytest.SMTPOptions{NoSTARTTLS: true, Username: "relay@example.jp", Password: "p@ss", Listen: "127.0.0.2:0"})
	s := &EmailSender{Clock: newFakeClock()}
	d := emailDest(srv.Addr)
	d.Insecure = true
	err := s.Send(t.Context(), d, testMessage("m-clear"))
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "not sent in clear text") {
		t.Fatalf("Send = %v, want a permanent refusal to send the password in clear text", err)
	}
	if n := len(srv.Mails()); n != 0 {
		t.Errorf("%d mails delivered, want none", n)
	}
}

// TestInsecureTakesAnUnverifiedCertificate: Debian's Postfix on this host
// offers STARTTLS with its self-signed certificate. insecure: true allows a
// session without TLS, so it allows that one too (every mail used to be
// retried for a day, then dead-lettered); the password then goes only to
// this host, as over a session without TLS. A certificate that verifies
// takes a password anywhere, insecure or not.
func TestInsecureTakesAnUnverifiedCertificate(t *testing.T) {
	local := startSMTP(t, false)
	other := relaytest.StartSMTP(t, relaytest.SMTPOptions{Username: "relay@example.jp", Password: "p@ss", Listen: "127.0.0.2:0"})
	untrusted := &EmailSender{Clock: newFakeClock()} // the system's roots: the test certificate is unknown
	tests := []struct {
		name    string
		sender  *EmailSender
		srv     *relaytest.SMTP
		noAuth  bool
		wantErr string
	}{
		{"self-signed on this host", untrusted, local, false, ""},
		{"self-signed elsewhere, no password", untrusted, other, true, ""},
		{"self-signed elsewhere, a password", untrusted, other, false, "password is not sent to another host"},
		{"verified elsewhere, a password", &EmailSender{TLSConfig: other.ClientTLSConfig(), Clock: newFakeClock()}, other, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := emailDest(tt.srv.Addr)
			d.Insecure = true
			if tt.noAuth {
				d.Username, d.Password = "", ""
			}
			err := tt.sender.Send(t.Context(), d, testMessage("m-tls"))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Send = %v, want a permanent error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send = %v", err)
			}
			if got := tt.srv.Next(t); !got.TLS {
				t.Errorf("delivered without TLS, want STARTTLS")
			}
		})
	}
}

// TestHeloName: the EHLO names this host when its name is fully
// qualified, else the sender's domain: relays that require a fully
// qualified name refused "localhost" with a 5xx, and every mail was
// dead-lettered.
func TestHeloName(t *testing.T) {
	defer func(h func() (string, error)) { hostname = h }(hostname)
	for _, c := range []struct{ host, from, want string }{
		{"pbx.example.co.jp", "受付 <uketsuke@answer.example.jp>", "pbx.example.co.jp"},
		{"pbx.example.co.jp.", "uketsuke@answer.example.jp", "pbx.example.co.jp"},
		{"pbx", "受付 <uketsuke@answer.example.jp>", "answer.example.jp"},
		{"", "uketsuke@answer.example.jp", "answer.example.jp"},
		{"pbx", "uketsuke@localhost", "localhost"},
		{"localhost.localdomain", "uketsuke@answer.example.jp", "answer.example.jp"},
		{"PBX.Example.CO.JP", "uketsuke@answer.example.jp", "PBX.Example.CO.JP"},
		{"pbx.local", "uketsuke@answer.example.jp", "answer.example.jp"},
		{"192.168.1.10", "uketsuke@answer.example.jp", "answer.example.jp"},
		{"pbx", "not an address", "localhost"},
	} {
		hostname = func() (string, error) { return c.host, nil }
		if got := heloName(c.from); got != c.want {
			t.Errorf("host %q, from %q: %q, want %q", c.host, c.from, got, c.want)
		}
	}
}

// TestVoicemailRecordingAttached: a voicemail's mail carries its recording
// as a WAV attachment (multipart/mixed, base64), its text unchanged; a
// recording Asterisk no longer has, or one too large, is said in the text
// instead; one that could not be read is an error, tried again.
func TestVoicemailRecordingAttached(t *testing.T) {
	srv := startSMTP(t, false)
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), bytes.Repeat([]byte{0, 1, 2, 0xff}, 5000)...)
	var asked []string
	clock := newFakeClock()
	s := &EmailSender{TLSConfig: srv.ClientTLSConfig(), Clock: clock, Recordings: func(_ context.Context, name string) ([]byte, error) {
		asked = append(asked, name)
		switch name {
		case "vm-1":
			return wav, nil
		case "vm-big":
			return make([]byte, MaxAttachment+1), nil
		case "vm-down":
			return nil, errors.New("dial tcp 127.0.0.1:8088: connection refused")
		}
		return nil, fmt.Errorf("%w: 404", ErrNoRecording)
	}}
	m := testMessage("vm-msg")
	m.Kind, m.Recording = KindVoicemail, "vm-1"
	m.CreatedAt = time.Date(2026, 11, 30, 5, 12, 0, 0, time.UTC)
	if err := s.Send(t.Context(), emailDest(srv.Addr), m); err != nil {
		t.Fatal(err)
	}
	text, got, name := mailParts(t, srv.Next(t).Data)
	if want := strings.ReplaceAll(m.Text, "\n", "\r\n"); text != want {
		t.Errorf("text %q, want %q", text, want)
	}
	if !bytes.Equal(got, wav) {
		t.Errorf("attachment of %d bytes, want the recording's %d", len(got), len(wav))
	}
	if name != "voicemail-20261130-1412.wav" {
		t.Errorf("file name %q, want the time it was left in Japan", name)
	}

	// Asterisk down: tried again for an hour after the message was left,
	// then the text goes without the recording, saying so.
	m.Recording, m.CreatedAt = "vm-down", clock.Now().Add(-30*time.Minute)
	if err := s.Send(t.Context(), emailDest(srv.Addr), m); err == nil || errors.Is(err, ErrPermanent) {
		t.Fatalf("recording unreadable: %v, want an error tried again", err)
	}
	// The notice's recording line says what became of it; a text without
	// one (a client's own template) gets it after the text.
	for _, c := range []struct {
		recording, text, want string
		created               time.Time
	}{
		{"vm-gone", "留守番電話\n" + RecordingLine + "\n受付日時: x\n", "留守番電話\n録音: " + noRecordingNote + "\n受付日時: x\n", clock.Now()},
		{"vm-big", "留守番電話\n", "留守番電話\n\n録音: " + tooLargeNote + "\n", clock.Now()},
		{"vm-down", "留守番電話\n" + RecordingLine + "\n", "留守番電話\n録音: " + unreadableNote + "\n", clock.Now().Add(-61 * time.Minute)},
	} {
		m.Recording, m.Text, m.CreatedAt = c.recording, c.text, c.created
		if err := s.Send(t.Context(), emailDest(srv.Addr), m); err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(srv.Next(t).Data))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, msg.Body))
		if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" || string(body) != strings.ReplaceAll(c.want, "\n", "\r\n") {
			t.Errorf("%s: %s %q, want %q", c.recording, ct, body, c.want)
		}
	}
	if want := "vm-1,vm-down,vm-gone,vm-big,vm-down"; strings.Join(asked, ",") != want {
		t.Fatalf("asked for %v, want %s", asked, want)
	}
	// attached: the line names the file
	m.Recording, m.Text = "vm-1", "留守番電話\n"+RecordingLine+"\n"
	if err := s.Send(t.Context(), emailDest(srv.Addr), m); err != nil {
		t.Fatal(err)
	}
	if text, got, _ := mailParts(t, srv.Next(t).Data); !strings.HasPrefix(text, "留守番電話\r\n録音: あり（添付の音声ファイル voicemail-") || !bytes.Equal(got, wav) {
		t.Errorf("text %q and %d bytes attached: the text does not name the attached file", text, len(got))
	}
}

// mailParts are the text, the WAV attachment and its file name of a
// multipart mail.
func mailParts(t *testing.T, raw []byte) (text string, wav []byte, name string) {
	t.Helper()
	parts, err := relaytest.Mail{Data: raw}.Parts()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		switch {
		case strings.HasPrefix(p.ContentType, "audio/wav"):
			wav, name = p.Body, p.FileName
		case p.ContentType == "text/plain; charset=UTF-8":
			text = string(p.Body)
		default:
			t.Fatalf("part of type %q", p.ContentType)
		}
	}
	return text, wav, name
}

// TestWriteBase64Lines: base64 in lines of 76 characters, the last one
// shorter, every line ending in CRLF, decoding to what was written.
func TestWriteBase64Lines(t *testing.T) {
	for _, n := range []int{0, 1, 56, 57, 58, 114, 1000} {
		data := bytes.Repeat([]byte{0xfb, 0xef, 0x01}, n)[:n]
		var b bytes.Buffer
		writeBase64(&b, data)
		out := b.String()
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("%d bytes: %q does not end in CRLF", n, out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > 76 || (i < len(lines)-1 && len(l) != 76) {
				t.Fatalf("%d bytes: line %d of %d characters", n, i, len(l))
			}
		}
		got, err := base64.StdEncoding.DecodeString(strings.Join(lines, ""))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: decoded %d (%v)", n, len(got), err)
		}
	}
}

// BenchmarkBuildMailWithRecording: a voicemail's mail with a recording of
// MaxAttachment bytes, built; bytes allocated per mail (-benchmem).
func BenchmarkBuildMailWithRecording(b *testing.B) {
	att := &attachment{name: "voicemail-20261130-1412.wav", contentType: "audio/wav", data: bytes.Repeat([]byte{1, 2, 3, 4}, MaxAttachment/4)}
	m := testMessage("vm")
	from, to := &mail.Address{Address: "relay@example.jp"}, []*mail.Address{{Address: "a@example.jp"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildMail(from, to, m, "d", time.Unix(0, 0), att); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVoicemailTooLargeForTheServerGoesWithoutItsRecording: a voicemail
// whose mail with its recording is over what the mail server takes still
// reaches the client, without the recording, its recording line saying
// it was too large to attach: when the server's EHLO says so (SIZE), it
// is sent so at once; when the server refuses it at the end of DATA
// (552 5.3.4, a limit it did not advertise), it is sent again without the
// recording, once. A mail with nothing to leave out (no attachment) that
// is refused so is a dead letter, sent once. Before, such a mail was
// refused and dead-lettered, notice and all.
func TestVoicemailTooLargeForTheServerGoesWithoutItsRecording(t *testing.T) {
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), bytes.Repeat([]byte{0, 1, 2, 0xff}, 50_000)...) // 200 kB: ~270 kB in base64
	vm := testMessage("vm-msg")
	vm.Kind, vm.Recording, vm.Text = KindVoicemail, "vm-1", "【留守番電話】留守番電話（03-1234-5678）\n\n"+RecordingLine+"\n受付日時: 2026/04/01 09:15\n"
	withoutIt := strings.ReplaceAll("【留守番電話】留守番電話（03-1234-5678）\n\n録音: "+tooLargeNote+"\n受付日時: 2026/04/01 09:15\n", "\n", "\r\n")
	for _, tc := range []struct {
		name      string
		max       int
		advertise bool
		attached  bool // the mail arrives with the recording
		tooLarge  int  // mails the server refused as too large
	}{
		{"under the advertised SIZE", 1 << 20, true, true, 0},
		{"over the advertised SIZE", 100_000, true, false, 0},
		{"refused at the end of DATA", 100_000, false, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := relaytest.StartSMTP(t, relaytest.SMTPOptions{Username: "relay@example.jp", Password: "p@ss", MaxSize: tc.max, AdvertiseSize: tc.advertise})
			s := &EmailSender{TLSConfig: srv.ClientTLSConfig(), Clock: newFakeClock(),
				Recordings: func(context.Context, string) ([]byte, error) { return wav, nil }}
			if err := s.Send(t.Context(), emailDest(srv.Addr), vm); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Next(t)
			if tc.attached {
				if text, data, _ := mailParts(t, got.Data); !bytes.Equal(data, wav) || !strings.Contains(text, "録音: あり（添付の音声ファイル ") {
					t.Errorf("text %q with %d bytes attached; want the recording attached", text, len(data))
				}
			} else {
				msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, msg.Body))
				if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" || string(body) != withoutIt {
					t.Errorf("%s %q; want the text saying %s", ct, body, tooLargeNote)
				}
			}
			if n := srv.TooLarge(); n != tc.tooLarge {
				t.Errorf("the server refused %d mails as too large, want %d", n, tc.tooLarge)
			}
			if n := len(srv.Mails()); n != 1 {
				t.Errorf("%d mails accepted, want 1", n)
			}
		})
	}

	// Nothing to leave out: permanent, not sent again.
	srv := relaytest.StartSMTP(t, relaytest.SMTPOptions{Username: "relay@example.jp", Password: "p@ss", MaxSize: 100})
	s := &EmailSender{TLSConfig: srv.ClientTLSConfig(), Clock: newFakeClock(),
		Recordings: func(context.Context, string) ([]byte, error) { return wav, nil }}
	if err := s.Send(t.Context(), emailDest(srv.Addr), testMessage("m-text")); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "5.3.4 Message size exceeds") {
		t.Errorf("a text too large: %v, want permanent with the server's answer", err)
	}
	if n := srv.TooLarge(); n != 1 {
		t.Errorf("a text too large was sent %d times, want once", n)
	}
}
