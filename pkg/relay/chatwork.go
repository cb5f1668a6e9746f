package relay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ChatworkBaseURL is the Chatwork API base used when Destination.URL is
// empty.
const ChatworkBaseURL = "https://api.chatwork.com"

// ChatworkSender posts to POST {base}/v2/rooms/{RoomID}/messages with the
// X-ChatWorkToken header (Destination.Token) and a form body "body=...".
type ChatworkSender struct{ http httpPoster }

// Send posts m.
func (s *ChatworkSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.RoomID == "" || d.Token == "" {
		return fmt.Errorf("relay: chatwork %q: RoomID and Token are required: %w", d.Name, ErrPermanent)
	}
	base := apiBase(d, ChatworkBaseURL)
	target := base + "/v2/rooms/" + url.PathEscape(d.RoomID) + "/messages"
	text := chatworkEscape(plainText(m))
	if m.Subject != "" {
		title, body := chatworkTitle(m)
		text = "[info][title]" + chatworkEscape(title) + "[/title]" + chatworkEscape(body) + "[/info]"
	}
	form := url.Values{"body": {text}}
	hdr := http.Header{"X-Chatworktoken": {d.Token}}
	return s.http.post(ctx, "chatwork", target, "application/x-www-form-urlencoded",
		[]byte(form.Encode()), hdr, m, d)
}

// chatworkTitle is the title and body of m's [info] box: the text's first
// line, when it carries the subject (the default template's does), is the
// title, not shown again under it; otherwise the subject, over the whole
// text.
func chatworkTitle(m Message) (title, body string) {
	first, rest, _ := strings.Cut(m.Text, "\n")
	if strings.Contains(first, m.Subject) {
		return first, strings.TrimLeft(rest, "\n")
	}
	return m.Subject, m.Text
}

// chatworkEscape turns the square brackets of message text into their
// full-width forms, so text typed by callers or operators cannot become
// Chatwork tags ([toall], [To:id], [/info]).
func chatworkEscape(s string) string {
	return strings.NewReplacer("[", "［", "]", "］").Replace(s)
}
