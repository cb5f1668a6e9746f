package relaytest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Mail is one message the server accepted at the end of DATA.
type Mail struct {
	// From and To are the envelope addresses (MAIL FROM, RCPT TO).
	From string
	To   []string
	// Data is the message as received, without the final dot.
	Data []byte
	// TLS reports whether the session had switched to TLS (STARTTLS).
	TLS bool
	// AuthUser is the user that authenticated with AUTH, if any.
	AuthUser string
}

// Decode parses Data: the subject with RFC 2047 words decoded and the
// body with its Content-Transfer-Encoding (base64, quoted-printable or
// none) undone.
func (m Mail) Decode() (subject, body string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return "", "", fmt.Errorf("relaytest: parse mail: %w", err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return "", "", fmt.Errorf("relaytest: decode Subject: %w", err)
	}
	var r io.Reader = msg.Body
	switch cte := strings.ToLower(strings.TrimSpace(msg.Header.Get("Content-Transfer-Encoding"))); cte {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, msg.Body) // skips CR and LF
	case "quoted-printable":
		r = quotedprintable.NewReader(msg.Body)
	case "", "7bit", "8bit", "binary":
	default:
		return "", "", fmt.Errorf("relaytest: unknown Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", "", fmt.Errorf("relaytest: decode body: %w", err)
	}
	return subject, string(b), nil
}
