package relay

import (
	"context"
	"encoding/json"
	"fmt"
)

// SlackSender posts to a Slack incoming webhook (Destination.URL) as
// {"text": subject + body}.
type SlackSender struct{ http httpPoster }

// Send posts m.
func (s *SlackSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.URL == "" {
		return fmt.Errorf("relay: slack %q: no URL: %w", d.Name, ErrPermanent)
	}
	body, err := json.Marshal(map[string]string{"text": plainText(m)})
	if err != nil {
		return fmt.Errorf("relay: slack: encode: %w", err)
	}
	return s.http.post(ctx, "slack", d.URL, "application/json", body, nil, m, d)
}
