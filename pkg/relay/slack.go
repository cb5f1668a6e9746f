package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// SlackSender posts to a Slack incoming webhook (Destination.URL) as
// {"text": subject + body, "mrkdwn": false}: what callers said is shown as
// written (with mrkdwn a purpose's *…* was bold, ~…~ struck through, and a
// struck-through word changes a message). Slack cuts a text of more than
// 40,000 characters; a longer one is made to fit here (fitText: its
// longest values shortened, saying so).
type SlackSender struct{ http httpPoster }

// slackMaxText is the longest text sent: Slack's 40,000 characters, less
// a margin for the escapes (&amp; counts as one character or as five).
const slackMaxText = 39_000

type slackPayload struct {
	Text   string `json:"text"`
	Mrkdwn bool   `json:"mrkdwn"`
}

// Send posts m.
func (s *SlackSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.URL == "" {
		return fmt.Errorf("relay: slack %q: no URL: %w", d.Name, ErrPermanent)
	}
	body, err := json.Marshal(slackPayload{Text: slackEscape(fitText(plainText(m), m, slackMaxText, oneUnit))})
	if err != nil {
		return fmt.Errorf("relay: slack: encode: %w", err)
	}
	return s.http.post(ctx, "slack", d.URL, "application/json", body, nil, m, d)
}

// slackEscape escapes the three characters Slack treats as control
// sequences, so text typed by callers or operators cannot become
// <!channel> mentions or links.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
