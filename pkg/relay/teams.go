package relay

import (
	"context"
	"encoding/json"
	"fmt"
)

// TeamsSender posts to a Microsoft Teams incoming webhook (Destination.URL,
// e.g. a Workflows "when a webhook request is received" URL) a message
// with one Adaptive Card holding the subject (bold) and the text.
type TeamsSender struct{ http httpPoster }

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string      `json:"$schema"`
	Type    string      `json:"type"`
	Version string      `json:"version"`
	Body    []teamsText `json:"body"`
}

type teamsText struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Weight string `json:"weight,omitempty"`
	Wrap   bool   `json:"wrap"`
}

// Send posts m.
func (s *TeamsSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.URL == "" {
		return fmt.Errorf("relay: teams %q: no URL: %w", d.Name, ErrPermanent)
	}
	var blocks []teamsText
	if m.Subject != "" {
		blocks = append(blocks, teamsText{Type: "TextBlock", Text: m.Subject, Weight: "Bolder", Wrap: true})
	}
	blocks = append(blocks, teamsText{Type: "TextBlock", Text: m.Text, Wrap: true})
	msg := teamsMessage{Type: "message", Attachments: []teamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content: teamsCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json",
			Type: "AdaptiveCard", Version: "1.4", Body: blocks},
	}}}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("relay: teams: encode: %w", err)
	}
	return s.http.post(ctx, "teams", d.URL, "application/json", body, nil, m, d)
}
