package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// LineWorksBaseURL is the LINE WORKS API 2.0 base used when
// Destination.URL is empty.
const LineWorksBaseURL = "https://www.worksapis.com/v1.0"

// LineWorksSender sends a text message through the LINE WORKS bot API
// 2.0 with "Authorization: Bearer <Destination.Token>":
//
//	POST {base}/bots/{BotID}/channels/{RoomID}/messages   (RoomID set)
//	POST {base}/bots/{BotID}/users/{To}/messages          (otherwise)
//	{"content":{"type":"text","text":"<subject>\n\n<text>"}}
//
// Token is an access token obtained elsewhere (the OAuth service-account
// flow is not part of this package).
type LineWorksSender struct{ http httpPoster }

type lineWorksBody struct {
	Content lineWorksContent `json:"content"`
}

type lineWorksContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Send posts m.
func (s *LineWorksSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.BotID == "" || d.Token == "" || (d.RoomID == "" && d.To == "") {
		return fmt.Errorf("relay: lineworks %q: BotID, Token and RoomID or To are required: %w", d.Name, ErrPermanent)
	}
	base := strings.TrimRight(d.URL, "/")
	if base == "" {
		base = LineWorksBaseURL
	}
	target := base + "/bots/" + url.PathEscape(d.BotID)
	if d.RoomID != "" {
		target += "/channels/" + url.PathEscape(d.RoomID) + "/messages"
	} else {
		target += "/users/" + url.PathEscape(d.To) + "/messages"
	}
	body, err := json.Marshal(lineWorksBody{Content: lineWorksContent{Type: "text", Text: plainText(m)}})
	if err != nil {
		return fmt.Errorf("relay: lineworks: encode: %w", err)
	}
	hdr := http.Header{"Authorization": {"Bearer " + d.Token}}
	return s.http.post(ctx, "lineworks", target, "application/json", body, hdr, m, d)
}
