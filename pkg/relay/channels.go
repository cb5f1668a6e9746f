package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
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
// Header and Body (its first maxErrBody bytes, trimmed) are the answer's
// (a channel may read them: LINE's 409 and 429).
type StatusError struct {
	Code   int
	Header http.Header
	Body   string
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
	answer := strings.TrimSpace(string(snippet))
	err = fmt.Errorf("relay: %s %s: %w: %s", channel, where, &StatusError{Code: resp.StatusCode, Header: resp.Header, Body: answer}, answer)
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

// fitText is text made to fit limit units, each character counting
// units(r) of them, for a chat API that refuses a longer text (or drops
// it: Teams). When it is longer, the longest values are shortened, at
// their end, marked with longNote: each value of m.Lines (an intake's
// answers, located in text under their labels; a multi-line answer is
// one value), and each other line of text (the header, the footer, a
// client's own template's lines). They are shortened evenly: each value
// longer than a bound is cut to it, the bound the largest that lets the
// text fit, so that every labelled line, the header and the footer
// arrive, and the values after a long answer (折返し希望日時, 緊急度,
// 受付日時) are not lost with its end. Only when that cannot fit (too
// many lines for the limit) is the text cut at its end (cutText).
func fitText(text string, m Message, limit int, units func(rune) int) string {
	total := measure(text, units)
	if total <= limit {
		return text
	}
	note := longNote(m.Link)
	n := measure(note, units)
	spans := textSpans(text, m.Lines)
	lens := make([]int, len(spans))
	longest := 0
	for i, s := range spans {
		lens[i] = measure(text[s.from:s.to], units)
		longest = max(longest, lens[i])
	}
	// size is the text's length with every value longer than bound cut
	// to at most bound (note included); it grows with bound.
	size := func(bound int) int {
		t := total
		for _, l := range lens {
			if l > bound {
				t -= l - bound
			}
		}
		return t
	}
	if size(n) > limit {
		return cutText(text, m.Link, limit, units)
	}
	lo, hi := n, longest // size(lo) fits, size(hi) = total does not
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; size(mid) <= limit {
			lo = mid
		} else {
			hi = mid
		}
	}
	var b strings.Builder
	prev := 0
	for i, s := range spans {
		if lens[i] <= lo {
			continue
		}
		b.WriteString(text[prev:s.from])
		b.WriteString(strings.TrimRightFunc(head(text[s.from:s.to], lo-n, units), unicode.IsSpace))
		b.WriteString(note)
		prev = s.to
	}
	b.WriteString(text[prev:])
	return b.String()
}

// longNote ends a value fitText shortened, with link (the message in the
// console) when there is one.
func longNote(link string) string {
	if link != "" {
		return "…（長いため省略しました。全文: " + link + "）"
	}
	return "…（長いため省略しました）"
}

// span is text[from:to].
type span struct{ from, to int }

// textSpans are the values fitText may shorten, in the order of text:
// the values of lines found in text (after "label: ", as the default
// template writes them, else anywhere), and the lines of text outside
// them. The longest values are looked for first, so that a short one
// ("はい") is not found inside a long one.
func textSpans(text string, lines []Line) []span {
	lines = slices.Clone(lines)
	slices.SortStableFunc(lines, func(a, b Line) int { return len(b.Value) - len(a.Value) })
	var vals []span
	free := func(s span) bool {
		for _, v := range vals {
			if s.from < v.to && v.from < s.to {
				return false
			}
		}
		return true
	}
	for _, l := range lines {
		if l.Value == "" {
			continue
		}
		if i := strings.Index(text, l.Label+": "+l.Value); l.Label != "" && i >= 0 {
			if s := (span{i + len(l.Label) + 2, i + len(l.Label) + 2 + len(l.Value)}); free(s) {
				vals = append(vals, s)
				continue
			}
		}
		if i := strings.Index(text, l.Value); i >= 0 {
			if s := (span{i, i + len(l.Value)}); free(s) {
				vals = append(vals, s)
			}
		}
	}
	slices.SortFunc(vals, func(a, b span) int { return a.from - b.from })
	var out []span
	lineSpans := func(from, to int) {
		for from < to {
			end := strings.IndexByte(text[from:to], '\n')
			if end < 0 {
				end = to - from
			}
			if end > 0 {
				out = append(out, span{from, from + end})
			}
			from += end + 1
		}
	}
	prev := 0
	for _, v := range vals {
		lineSpans(prev, v.from)
		out = append(out, v)
		prev = v.to
	}
	lineSpans(prev, len(text))
	return out
}

// head is the longest beginning of s of at most room units.
func head(s string, room int, units func(rune) int) string {
	used := 0
	for i, r := range s {
		if used += units(r); used > room {
			return s[:i]
		}
	}
	return s
}

// measure is s's length in units, each character counting units(r).
func measure(s string, units func(rune) int) int {
	n := 0
	for _, r := range s {
		n += units(r)
	}
	return n
}

// cutText is text cut to at most limit units, each character counting
// units(r) of them, saying so, with link (the message in the console)
// when there is one: fitText's last resort. It cuts between characters.
func cutText(text, link string, limit int, units func(rune) int) string {
	if measure(text, units) <= limit {
		return text
	}
	note := "\n" + longNote(link)
	return head(text, max(limit-measure(note, units), 0), units) + note
}

// oneUnit counts every character as one (Slack).
func oneUnit(rune) int { return 1 }

// utf16Units counts a character in UTF-16 code units, as LINE does: an
// emoji or a rare kanji outside the BMP counts two.
func utf16Units(r rune) int { return max(utf16.RuneLen(r), 1) }
