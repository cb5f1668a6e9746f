package relaytest

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"
)

// sessionTimeout bounds one SMTP session, so a stuck client cannot hold
// the server past the test.
const sessionTimeout = 10 * time.Second

// session serves one connection until QUIT or an error.
func (s *SMTP) session(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(sessionTimeout))
	tp := textproto.NewConn(conn)
	reply := func(format string, args ...any) { _ = tp.PrintfLine(format, args...) }
	reply("220 relaytest.invalid ESMTP")
	var cur Mail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"relaytest.invalid"}
			if !cur.TLS && !s.opts.NoSTARTTLS {
				lines = append(lines, "STARTTLS")
			}
			if s.opts.Username != "" && (cur.TLS || s.opts.NoSTARTTLS) {
				lines = append(lines, "AUTH "+strings.Join(s.mechanisms(), " "))
			}
			if s.opts.MaxSize > 0 && s.opts.AdvertiseSize {
				lines = append(lines, fmt.Sprintf("SIZE %d", s.opts.MaxSize))
			}
			lines = append(lines, "8BITMIME")
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				reply("250%s%s", sep, l)
			}
		case "STARTTLS":
			if cur.TLS || s.opts.NoSTARTTLS {
				reply("503 5.5.1 STARTTLS not available")
				continue
			}
			reply("220 2.0.0 go ahead")
			tc := tls.Server(conn, s.tlsCfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn = tc
			tp = textproto.NewConn(tc)
			cur = Mail{TLS: true} // RFC 3207: forget everything from before TLS
		case "AUTH":
			if !cur.TLS && !s.opts.NoSTARTTLS {
				reply("530 5.7.0 must issue a STARTTLS command first")
				continue
			}
			mech, _, _ := strings.Cut(arg, " ")
			var user string
			var ok bool
			switch m := strings.ToUpper(mech); {
			case !s.offers(m):
				reply("504 5.7.4 Unrecognized authentication type")
				continue
			case m == "LOGIN":
				user, ok = s.authLogin(tp)
			default:
				user, ok = s.authPlain(arg)
			}
			if ok {
				cur.AuthUser = user
				reply("235 2.7.0 authenticated")
			} else {
				reply("535 5.7.8 authentication failed")
			}
		case "MAIL":
			cur.From = angle(arg)
			reply("250 2.1.0 ok")
		case "RCPT":
			if r, refused := s.opts.Refuse[angle(arg)]; refused {
				reply("%s", r)
				continue
			}
			cur.To = append(cur.To, angle(arg))
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			if s.opts.MaxSize > 0 && len(data) > s.opts.MaxSize {
				s.mu.Lock()
				s.tooLarge++
				s.mu.Unlock()
				cur = Mail{TLS: cur.TLS, AuthUser: cur.AuthUser}
				reply("552 5.3.4 Message size exceeds fixed maximum message size")
				continue
			}
			cur.Data = data
			s.record(cur)
			cur = Mail{TLS: cur.TLS, AuthUser: cur.AuthUser}
			reply("250 2.0.0 queued")
		case "RSET":
			cur = Mail{TLS: cur.TLS, AuthUser: cur.AuthUser}
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 not implemented")
		}
	}
}

// authPlain checks an "AUTH PLAIN <initial response>" argument against
// the configured credentials and returns the user.
func (s *SMTP) authPlain(arg string) (string, bool) {
	if s.opts.Username == "" {
		return "", false
	}
	mech, ir, _ := strings.Cut(arg, " ")
	raw, err := base64.StdEncoding.DecodeString(ir)
	parts := strings.Split(string(raw), "\x00")
	if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 ||
		parts[1] != s.opts.Username || parts[2] != s.opts.Password {
		return "", false
	}
	return parts[1], true
}

// mechanisms are the AUTH mechanisms the server offers.
func (s *SMTP) mechanisms() []string {
	if len(s.opts.AuthMechanisms) == 0 {
		return []string{"PLAIN"}
	}
	return s.opts.AuthMechanisms
}

func (s *SMTP) offers(mech string) bool {
	for _, m := range s.mechanisms() {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

// authLogin runs the AUTH LOGIN exchange (RFC 4954 style: base64
// "Username:" and "Password:" challenges) and checks the credentials.
func (s *SMTP) authLogin(tp *textproto.Conn) (string, bool) {
	ask := func(prompt string) (string, bool) {
		_ = tp.PrintfLine("334 %s", base64.StdEncoding.EncodeToString([]byte(prompt)))
		line, err := tp.ReadLine()
		if err != nil {
			return "", false
		}
		b, err := base64.StdEncoding.DecodeString(line)
		return string(b), err == nil
	}
	user, ok1 := ask("Username:")
	pass, ok2 := ask("Password:")
	return user, ok1 && ok2 && user == s.opts.Username && pass == s.opts.Password
}

// angle returns the address between '<' and '>' in a MAIL/RCPT argument.
func angle(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}
