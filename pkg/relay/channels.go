package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"
)

// ChannelOptions configure the built-in channels.
type ChannelOptions struct {
	// HTTPClient for the HTTP channels; nil means a client with no
	// overall timeout (each attempt is bounded by its context).
	HTTPClient *http.Client
	// TLSConfig is cloned for SMTP STARTTLS (ServerName is filled in);
	// nil means system roots.
	TLSConfig *tls.Config
	// Clock stamps mail Date and webhook timestamps; nil means the
	// system clock.
	Clock Clock
	// HeloName is the SMTP EHLO name; empty means this host's name if
	// fully qualified, else the sender address's domain.
	HeloName string
	// Recordings reads a voicemail's recording, which mail carries
	// attached; nil: none is attached.
	Recordings RecordingFunc
}

// Channels returns the built-in senders keyed by destination type.
func Channels(opts ChannelOptions) map[string]Sender {
	if opts.HTTPClient == nil {
		// Never follow redirects: a 301/302/303 would turn the POST into a
		// GET without a body, whose 2xx would count as delivered, and would
		// carry tokens and signatures to another host. A 3xx is an error.
		opts.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	h := httpPoster{client: opts.HTTPClient}
	return map[string]Sender{
		TypeEmail:     &EmailSender{TLSConfig: opts.TLSConfig, Clock: opts.Clock, HeloName: opts.HeloName, Recordings: opts.Recordings},
		TypeSlack:     &SlackSender{http: h},
		TypeChatwork:  &ChatworkSender{http: h},
		TypeTeams:     &TeamsSender{http: h},
		TypeLine:      &LineSender{http: h},
		TypeLineWorks: &LineWorksSender{http: h, tokens: &lineWorksTokens{client: opts.HTTPClient, clock: opts.Clock, url: LineWorksTokenURL}},
		TypeWebhook:   &WebhookSender{http: h, clock: opts.Clock},
	}
}

// maxErrBody is how much of a failed response body goes into the error.
const maxErrBody = 512

// StatusError is an HTTP answer other than 2xx; delivery errors wrap it.
// Header is the answer's (a channel may read it: LINE's 409).
type StatusError struct {
	Code   int
	Header http.Header
}

func (e *StatusError) Error() string { return "HTTP " + strconv.Itoa(e.Code) }

// httpPoster does one POST with the headers every HTTP channel sends.
type httpPoster struct{ client *http.Client }

// post sends body to target with the Idempotency-Key header. Non-2xx
// answers are errors; 3xx (redirects are not followed: the URL is wrong)
// and 4xx other than 408, 425 and 429 wrap ErrPermanent.
// Errors name only the scheme and host of target, since webhook URLs are
// secrets.
func (h httpPoster) post(ctx context.Context, channel, target, contentType string, body []byte,
	hdr http.Header, m Message, d Destination) error {
	return h.postChecked(ctx, channel, target, contentType, body, hdr, m, d, nil)
}

// postChecked is post, with accepted (if not nil) to read a 2xx answer's
// body: a service that answers 200 for a message it did not deliver
// (Teams connectors) says so there.
func (h httpPoster) postChecked(ctx context.Context, channel, target, contentType string, body []byte,
	hdr http.Header, m Message, d Destination, accepted func(body []byte) error) error {
	where := redact(target)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("relay: %s %s: build request: %w: %w", channel, where, ErrPermanent, stripURL(err))
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Idempotency-Key", IdempotencyKey(m.ID, d.Name))
	req.Header.Set("User-Agent", "toritsugi-relay/1")
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("relay: %s %s: %w", channel, where, stripURL(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		if accepted == nil {
			return nil
		}
		if err := accepted(snippet); err != nil {
			return fmt.Errorf("relay: %s %s: %w", channel, where, err)
		}
		return nil
	}
	err = fmt.Errorf("relay: %s %s: %w: %s", channel, where, &StatusError{Code: resp.StatusCode, Header: resp.Header},
		strings.TrimSpace(string(snippet)))
	if permanentStatus(resp.StatusCode) {
		return fmt.Errorf("%w: %w", err, ErrPermanent)
	}
	return err
}

// permanentStatus reports an HTTP answer that retrying cannot change: a
// 3xx (redirects are not followed: the URL is wrong) or a 4xx other than
// 408, 425 and 429.
func permanentStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return code/100 == 4 || code/100 == 3
}

// RedactURL keeps the scheme and host of a URL: a webhook URL's path is
// its secret, and goes into no log or error message.
func RedactURL(target string) string { return redact(target) }

// redact keeps the scheme and host of a URL.
func redact(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return "(invalid url)"
	}
	return u.Scheme + "://" + u.Host
}

// stripURL drops the full URL net/http puts in its errors, keeping the
// cause.
func stripURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// plainText is the subject line followed by the body, for chat channels;
// the body alone when its first line already carries the subject (the
// default template's does).
func plainText(m Message) string {
	first, _, _ := strings.Cut(m.Text, "\n")
	switch {
	case m.Subject == "" || strings.Contains(first, m.Subject):
		return m.Text
	case m.Text == "":
		return m.Subject
	}
	return m.Subject + "\n\n" + m.Text
}

// apiBase is the destination's API base (Destination.URL, for another
// host or a test), or def, without a trailing slash.
func apiBase(d Destination, def string) string {
	if base := strings.TrimRight(d.URL, "/"); base != "" {
		return base
	}
	return def
}

// cutText is text cut to at most limit units, each character counting
// units(r) of them, saying so, with link (the message in the console)
// when there is one: chat APIs refuse longer texts. It cuts between
// characters.
func cutText(text, link string, limit int, units func(rune) int) string {
	length := func(s string) int {
		n := 0
		for _, r := range s {
			n += units(r)
		}
		return n
	}
	if length(text) <= limit {
		return text
	}
	note := "\n…（長いため省略しました）"
	if link != "" {
		note = "\n…（長いため省略しました。全文: " + link + "）"
	}
	room, used := max(limit-length(note), 0), 0
	for i, r := range text {
		if used += units(r); used > room {
			return text[:i] + note
		}
	}
	return text + note // not reached: text is longer than limit
}

// oneUnit counts every character as one (LINE WORKS).
func oneUnit(rune) int { return 1 }

// utf16Units counts a character in UTF-16 code units, as LINE does: an
// emoji or a rare kanji outside the BMP counts two.
func utf16Units(r rune) int { return max(utf16.RuneLen(r), 1) }
