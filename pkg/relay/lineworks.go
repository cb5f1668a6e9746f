package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// LineWorksBaseURL is the LINE WORKS API 2.0 base used when
// Destination.URL is empty.
const LineWorksBaseURL = "https://www.worksapis.com/v1.0"

// LineWorksSender sends a text message through the LINE WORKS bot API
// 2.0 with "Authorization: Bearer <access token>":
//
//	POST {base}/bots/{BotID}/channels/{RoomID}/messages   (RoomID set)
//	POST {base}/bots/{BotID}/users/{To}/messages          (otherwise)
//	{"content":{"type":"text","text":"<subject>\n\n<text>"}}
//
// The access token comes from the service account (JWT) flow when
// Destination.ClientID is set (cached, renewed before it expires, and
// once more when the API answers 401), or is Destination.Token as given.
type LineWorksSender struct {
	http   httpPoster
	tokens *lineWorksTokens
}

type lineWorksBody struct {
	Content lineWorksContent `json:"content"`
}

type lineWorksContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Send posts m.
func (s *LineWorksSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.BotID == "" || (d.Token == "" && d.ClientID == "") || (d.RoomID == "" && d.To == "") {
		return fmt.Errorf("relay: lineworks %q: BotID, a token or ClientID, and RoomID or To are required: %w", d.Name, ErrPermanent)
	}
	base := apiBase(d, LineWorksBaseURL)
	target := base + "/bots/" + url.PathEscape(d.BotID)
	if d.RoomID != "" {
		target += "/channels/" + url.PathEscape(d.RoomID) + "/messages"
	} else {
		target += "/users/" + url.PathEscape(d.To) + "/messages"
	}
	body, err := json.Marshal(lineWorksBody{Content: lineWorksContent{Type: "text", Text: lineWorksText(m)}})
	if err != nil {
		return fmt.Errorf("relay: lineworks: encode: %w", err)
	}
	if d.ClientID == "" {
		return s.post(ctx, d, m, target, body, d.Token)
	}
	tok, fresh, err := s.tokens.token(ctx, d)
	if err != nil {
		return err
	}
	err = s.post(ctx, d, m, target, body, tok)
	var se *StatusError
	if fresh || !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
		return err
	}
	// The cached token was refused (revoked, or the clock is off): get a
	// new one and try once more; a refusal then is the answer.
	s.tokens.forget(d, tok)
	if tok, _, err = s.tokens.token(ctx, d); err != nil {
		return err
	}
	return s.post(ctx, d, m, target, body, tok)
}

func (s *LineWorksSender) post(ctx context.Context, d Destination, m Message, target string, body []byte, tok string) error {
	hdr := http.Header{"Authorization": {"Bearer " + tok}}
	return s.http.post(ctx, "lineworks", target, "application/json", body, hdr, m, d)
}

// lineWorksMaxText is the most characters a LINE WORKS text message may
// hold ("Maximum length: 2,000 characters"); a longer one is refused
// (400), which would dead-letter it. LINE WORKS does not say how it
// counts: counted here in UTF-16 code units (an emoji two), as LINE
// counts, which is never more than it takes either way.
const lineWorksMaxText = 2000

// lineWorksText is m as plain text made to fit lineWorksMaxText
// (fitText: its longest values shortened, marked, every labelled line
// kept). Angle brackets are shown full-width: LINE WORKS reads
// <m userId="all"> in a bot's text as a mention of the whole room (and
// of one member by their id or mail address), and the text holds what
// callers and operators typed, and caller ids of unknown form as they
// came.
func lineWorksText(m Message) string {
	return lineWorksEscape(fitText(plainText(m), m, lineWorksMaxText, utf16Units))
}

func lineWorksEscape(s string) string {
	return strings.NewReplacer("<", "＜", ">", "＞").Replace(s)
}
