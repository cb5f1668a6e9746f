package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// SlackSender posts to a Slack incoming webhook (Destination.URL) as
// {"text": subject + body}.
type SlackSender struct{ http httpPoster }

// Send posts m.
func (s *SlackSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.URL == "" {
		return fmt.Errorf("relay: slack %q: no URL: %w", d.Name, ErrPermanent)
	}
	body, err := json.Marshal(map[string]string{"text": slackEscape(plainText(m))})
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
