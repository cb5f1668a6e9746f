package relaytest

import (
	"context"
	"errors"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// send delivers one message with net/smtp, using STARTTLS when asked.
func send(t *testing.T, s *SMTP, startTLS bool, user, pass string, msg string) error {
	t.Helper()
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if startTLS {
		cfg := s.ClientTLSConfig()
		cfg.ServerName = "127.0.0.1"
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	}
	if user != "" {
		if err := c.Auth(smtp.PlainAuth("", user, pass, "127.0.0.1")); err != nil {
			return err
		}
	}
	if err := c.Mail("from@example.jp"); err != nil {
		return err
	}
	if err := c.Rcpt("to@example.jp"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

const b64Mail = "Subject: =?UTF-8?b?5Luu5ZCN?=\r\nContent-Transfer-Encoding: base64\r\n\r\n5pys\r\n5paH\r\n"

func TestSMTPCapturesAndDecodes(t *testing.T) {
	tests := []struct {
		name      string
		opts      SMTPOptions
		startTLS  bool
		user      string
		msg       string
		wantTLS   bool
		wantAuth  string
		wantSubj  string
		wantBody  string
		wantError string
	}{
		{"starttls and auth", SMTPOptions{Username: "u", Password: "pw"}, true, "u", b64Mail, true, "u", "仮名", "本文", ""},
		{"plain text", SMTPOptions{NoSTARTTLS: true}, false, "", "Subject: hi\r\n\r\nbody\r\n", false, "", "hi", "body\n", ""},
		{"quoted-printable", SMTPOptions{NoSTARTTLS: true}, false, "", "Subject: q\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n", false, "", "q", "a=b\n", ""},
		{"wrong password", SMTPOptions{Username: "u", Password: "pw"}, true, "u-bad", b64Mail, false, "", "", "", "535"},
		{"auth only after tls", SMTPOptions{Username: "u", Password: "pw"}, false, "u", b64Mail, false, "", "", "", "530"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := StartSMTP(t, tt.opts)
			err := send(t, s, tt.startTLS, tt.user, "pw", tt.msg)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("send = %v, want an error containing %q", err, tt.wantError)
				}
				if n := len(s.Mails()); n != 0 {
					t.Fatalf("%d mails captured after a refused session", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			m := s.Next(t)
			if m.TLS != tt.wantTLS || m.AuthUser != tt.wantAuth || m.From != "from@example.jp" || len(m.To) != 1 {
				t.Errorf("captured %+v", m)
			}
			subj, body, err := m.Decode()
			if err != nil || subj != tt.wantSubj || body != tt.wantBody {
				t.Errorf("Decode = %q, %q, %v; want %q, %q", subj, body, err, tt.wantSubj, tt.wantBody)
			}
		})
	}
}

func TestSMTPNextInOrderAndBounded(t *testing.T) {
	s := StartSMTP(t, SMTPOptions{NoSTARTTLS: true})
	for _, subj := range []string{"one", "two"} {
		if err := send(t, s, false, "", "", "Subject: "+subj+"\r\n\r\nx\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"one", "two"} {
		if subj, _, _ := s.Next(t).Decode(); subj != want {
			t.Fatalf("Next subject %q, want %q", subj, want)
		}
	}
	if n := len(s.Mails()); n != 2 {
		t.Fatalf("Mails has %d, want 2", n)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.NextContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NextContext with no mail = %v, want deadline exceeded", err)
	}
}

func TestDecodeRejectsUnknownEncoding(t *testing.T) {
	m := Mail{Data: []byte("Subject: x\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbody\r\n")}
	if _, _, err := m.Decode(); err == nil {
		t.Fatal("Decode accepted an unknown transfer encoding")
	}
}
