package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TeamsSender posts to a Microsoft Teams incoming webhook (Destination.URL,
// e.g. a Workflows "when a webhook request is received" URL) a message
// with one Adaptive Card: the subject in bold, then one block per line of
// the text, and a button opening the message's link when it has one.
// The blocks are RichTextBlocks of a TextRun, which Teams shows as they
// are written: a TextBlock reads Markdown, so a caller's purpose written
// "[請求書はこちら](https://…)" was a link whose words the caller chose, and
// **…**, "- " and "1. " changed what the client read (and one line break
// there is no break: the lines of a message ran together in one block).
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
	Schema  string        `json:"$schema"`
	Type    string        `json:"type"`
	Version string        `json:"version"`
	Body    []teamsBlock  `json:"body"`
	Actions []teamsAction `json:"actions,omitempty"`
}

// teamsBlock is a RichTextBlock of one TextRun: plain text, no Markdown.
type teamsBlock struct {
	Type    string     `json:"type"`
	Spacing string     `json:"spacing,omitempty"`
	Inlines []teamsRun `json:"inlines"`
}

type teamsRun struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Weight string `json:"weight,omitempty"`
}

// teamsAction is an Action.OpenUrl button (a TextRun's URL is no link).
type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// teamsOpenTitle is the link button's words.
const teamsOpenTitle = "伝言を開く"

// Send posts m.
func (s *TeamsSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.URL == "" {
		return fmt.Errorf("relay: teams %q: no URL: %w", d.Name, ErrPermanent)
	}
	body, err := teamsPayload(m)
	if err != nil {
		return fmt.Errorf("relay: teams: encode: %w", err)
	}
	return s.http.postChecked(ctx, "teams", d.URL, "application/json", body, nil, m, d, teamsDelivered)
}

// teamsMaxPayload bounds the card's JSON. Teams takes about 28 KB: a
// connector answers 413 for more (dead-lettered), and a Workflows webhook
// answers 202 and drops the post later (counted delivered, never seen).
const teamsMaxPayload = 25_000

// teamsPayload is m's card, its text made to fit (fitText: its longest
// values shortened, saying so, every labelled line kept) the longest
// that fits teamsMaxPayload: a block's JSON costs more than its text, and
// unevenly (many short lines cost more than one long one), so the length
// is searched for, not worked out.
func teamsPayload(m Message) ([]byte, error) {
	card := func(limit int) ([]byte, error) {
		mm := m
		mm.Text = fitText(m.Text, m, limit, utf8.RuneLen)
		c := teamsCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json",
			Type: "AdaptiveCard", Version: "1.4", Body: teamsBlocks(mm)}
		if m.Link != "" {
			c.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: teamsOpenTitle, URL: m.Link}}
		}
		return json.Marshal(teamsMessage{Type: "message", Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive", Content: c,
		}}})
	}
	body, err := card(len(m.Text))
	if err != nil || len(body) <= teamsMaxPayload {
		return body, err
	}
	// The longest cut that fits, between nothing kept (the subject and
	// the note) and the whole text.
	lo, hi := 0, len(m.Text)
	best, err := card(0)
	if err != nil {
		return nil, err
	}
	if len(best) > teamsMaxPayload {
		return nil, fmt.Errorf("the card's subject alone is %d bytes, over %d: %w", len(best), teamsMaxPayload, ErrPermanent)
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		b, err := card(mid)
		if err != nil {
			return nil, err
		}
		if len(b) <= teamsMaxPayload {
			lo, best = mid, b
		} else {
			hi = mid - 1
		}
	}
	return best, nil
}

// teamsFailure finds the HTTP status an Office 365 connector quotes when it
// answers 200 for a message it could not deliver: "Webhook message
// delivery failed with error: Microsoft Teams endpoint returned HTTP error
// 429 with ContextId ...".
var teamsFailure = regexp.MustCompile(`(?i)delivery failed.*?HTTP error (\d{3})`)

// teamsDelivered reads a 2xx answer's body. A connector answers 200 "1"
// for a message delivered and 200 with "...delivery failed..." for one
// that was not (Microsoft's documented behaviour, not an HTTP error);
// Workflows answer 202 with no body. A quoted 429 or 5xx is tried again,
// any other failure (400, 413: the card is refused) is permanent.
func teamsDelivered(body []byte) error {
	text := strings.TrimSpace(string(body))
	if text == "" || text == "1" || !strings.Contains(strings.ToLower(text), "delivery failed") {
		return nil
	}
	if m := teamsFailure.FindStringSubmatch(text); m != nil {
		code, _ := strconv.Atoi(m[1])
		if code == http.StatusTooManyRequests || code/100 == 5 {
			return fmt.Errorf("answered 200 but %s", text)
		}
	}
	return fmt.Errorf("answered 200 but %s: %w", text, ErrPermanent)
}

// teamsBlocks are the card's blocks: the subject in bold (the text's
// first line when it carries the subject, as the default template's
// does), then a block per line, an empty line making a gap before the
// next.
func teamsBlocks(m Message) []teamsBlock {
	lines := strings.Split(strings.TrimRight(m.Text, "\n"), "\n")
	var blocks []teamsBlock
	block := func(text, weight, spacing string) teamsBlock {
		return teamsBlock{Type: "RichTextBlock", Spacing: spacing, Inlines: []teamsRun{{Type: "TextRun", Text: text, Weight: weight}}}
	}
	boldFirst := m.Subject != "" && strings.Contains(lines[0], m.Subject)
	if m.Subject != "" && !boldFirst {
		blocks = append(blocks, block(m.Subject, "Bolder", ""))
	}
	gap := m.Subject != "" && !boldFirst // after a subject block of its own
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			gap = true
			continue
		}
		spacing, weight := "None", ""
		if gap && len(blocks) > 0 {
			spacing = "Medium"
		}
		if i == 0 && boldFirst {
			weight = "Bolder"
		}
		gap = false
		blocks = append(blocks, block(l, weight, spacing))
	}
	return blocks
}
