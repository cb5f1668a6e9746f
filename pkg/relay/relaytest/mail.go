package relaytest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
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

// Part is one part of a multipart mail, its body decoded.
type Part struct {
	ContentType string
	// FileName is an attachment's file name ("" for none).
	FileName string
	Body     []byte
}

// Parts parses a multipart/mixed Data into its parts, each in base64
// (as toritsugi writes them) decoded; an error for another kind of mail.
func (m Mail) Parts() ([]Part, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return nil, fmt.Errorf("relaytest: parse mail: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		return nil, fmt.Errorf("relaytest: Content-Type %q, not multipart/mixed (%v)", msg.Header.Get("Content-Type"), err)
	}
	var out []Part
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("relaytest: part: %w", err)
		}
		if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "base64" {
			return nil, fmt.Errorf("relaytest: part %q in %q, not base64", p.Header.Get("Content-Type"), cte)
		}
		body, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		if err != nil {
			return nil, fmt.Errorf("relaytest: decode part: %w", err)
		}
		out = append(out, Part{ContentType: p.Header.Get("Content-Type"), FileName: p.FileName(), Body: body})
	}
}
