// Package relaytest provides test helpers for code that delivers relay
// messages: a small SMTP server on 127.0.0.1 that captures what it is sent.
//
// StartSMTP starts the server for one test and stops it at cleanup:
//
//	srv := relaytest.StartSMTP(t, relaytest.SMTPOptions{Username: "u@example.jp", Password: "pw"})
//	sender := &relay.EmailSender{TLSConfig: srv.ClientTLSConfig()}
//	... send to srv.Addr ...
//	m := srv.Next(t)          // the first mail, or the test fails after a timeout
//	subject, body, err := m.Decode()
//
// The server speaks EHLO, STARTTLS (with a self-signed certificate for
// 127.0.0.1 and localhost, trusted by CertPool), AUTH PLAIN and LOGIN, MAIL, RCPT,
// DATA, RSET, NOOP and QUIT: enough for net/smtp, not a general server.
package relaytest
