package relay

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"
)

// HeaderMailIdempotencyKey repeats the idempotency key in mail headers.
const HeaderMailIdempotencyKey = "X-Toritsugi-Idempotency-Key"

// attachment is a file a mail carries (a voicemail's recording).
type attachment struct {
	name, contentType string
	data              []byte
}

// buildMail renders an RFC 5322 message: UTF-8 text body in base64, the
// subject RFC 2047 encoded, and a Message-ID derived from the idempotency
// key; with att, a multipart/mixed of the text and the file, in base64.
func buildMail(from *mail.Address, to []*mail.Address, m Message, dest string, now time.Time, att *attachment) ([]byte, error) {
	key := IdempotencyKey(m.ID, dest)
	// The subject is always safe: the word encoder encodes control
	// characters. The key goes into a header as it is.
	if strings.ContainsAny(key, "\r\n") {
		return nil, fmt.Errorf("idempotency key contains a line break: %w", ErrPermanent)
	}
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = foldEncoded(a.String())
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	// A value of encoded-words: a word a line, and an address after them
	// on a line of its own (foldEncoded), the first on a line of its own
	// when it would not fit after the name: RFC 2047 bounds a line with
	// encoded-words to 76 characters.
	words := func(k, v string) {
		if first, _, _ := strings.Cut(v, "\r\n"); strings.Contains(first, "=?") && len(k)+2+len(first) > 76 {
			v = "\r\n " + v
		}
		h(k, v)
	}
	words("From", foldEncoded(from.String()))
	words("To", strings.Join(tos, ",\r\n "))
	subject := m.Subject
	if m.Urgent && !strings.HasPrefix(subject, urgentMark) {
		subject = urgentMark + subject // seen in the inbox's list
	}
	words("Subject", foldEncoded(mime.BEncoding.Encode("UTF-8", subject)))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", MessageID(key, from.Address))
	// An automatic message (RFC 3834): a client's out-of-office reply
	// does not answer it.
	h("Auto-Submitted", "auto-generated")
	h("MIME-Version", "1.0")
	h(HeaderMailIdempotencyKey, key)
	// Text lines end in CRLF before the encoding too (RFC 2045 6.8).
	text := []byte(strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n"))
	if att == nil {
		h("Content-Type", "text/plain; charset=UTF-8")
		h("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
		writeBase64(&b, text)
		return b.Bytes(), nil
	}
	// The boundary, made from the key, begins "=_", which no base64 text
	// holds: it cannot occur in a part.
	boundary := "=_toritsugi_" + hex.EncodeToString(sha256Sum(key)[:12])
	h("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": boundary}))
	b.WriteString("\r\nThis is a MIME message.\r\n")
	part := func(hdr ...string) {
		b.WriteString("\r\n--" + boundary + "\r\n")
		for i := 0; i+1 < len(hdr); i += 2 {
			h(hdr[i], hdr[i+1])
		}
		h("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n")
	}
	part("Content-Type", "text/plain; charset=UTF-8")
	writeBase64(&b, text)
	part("Content-Type", mime.FormatMediaType(att.contentType, map[string]string{"name": att.name}),
		"Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": att.name}))
	writeBase64(&b, att.data)
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// writeBase64 writes data in base64, in lines of 76 characters (RFC 2045),
// 57 bytes a line, straight into b: a recording of 10 MiB is not first
// a string of 14 MB.
func writeBase64(b *bytes.Buffer, data []byte) {
	if len(data) == 0 {
		b.WriteString("\r\n")
		return
	}
	b.Grow(base64.StdEncoding.EncodedLen(len(data)) + (len(data)/57+1)*2)
	var line [76]byte
	for len(data) > 0 {
		n := min(57, len(data))
		base64.StdEncoding.Encode(line[:], data[:n])
		b.Write(line[:base64.StdEncoding.EncodedLen(n)])
		b.WriteString("\r\n")
		data = data[n:]
	}
}

// sha256Sum is the SHA-256 of s.
func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// MessageID returns the mail Message-ID for an idempotency key:
// "<key@domain>" with characters outside RFC 5322 atext (and '.', '=')
// written as =XX, so distinct keys give distinct ids. The domain is taken
// from the sender address.
func MessageID(key, fromAddr string) string {
	domain := "toritsugi.invalid"
	if i := strings.LastIndexByte(fromAddr, '@'); i >= 0 && i < len(fromAddr)-1 {
		domain = fromAddr[i+1:]
	}
	var b strings.Builder
	b.WriteByte('<')
	for i := 0; i < len(key); i++ {
		c := key[i]
		if isAtext(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	b.WriteByte('@')
	b.WriteString(domain)
	b.WriteByte('>')
	return b.String()
}

func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/?^_`{|}~", c) >= 0
}

// foldEncoded puts each encoded-word of an RFC 2047 header value on a line
// of its own (CRLF, space), and an address's <addr-spec> after them on a
// line of its own too: the encoder writes them on one line, and a subject
// of some 200 Japanese characters (company and name may be 200 each)
// passed RFC 5322's 998-octet limit for a line; the last word of a
// sender's name and its <address> made a line of 113 characters, over
// RFC 2047's 76 for a line with encoded-words. An encoded-word holds no
// space nor '<' ("?= <" is where the name ends).
func foldEncoded(v string) string {
	if !strings.HasPrefix(v, "=?") {
		return v
	}
	v = strings.ReplaceAll(v, "?= =?", "?=\r\n =?")
	return strings.ReplaceAll(v, "?= <", "?=\r\n <")
}
