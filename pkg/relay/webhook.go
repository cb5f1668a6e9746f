package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Webhook signing headers.
const (
	HeaderTimestamp = "X-Toritsugi-Timestamp"
	HeaderSignature = "X-Toritsugi-Signature"
)

// WebhookSender posts the Message as JSON to Destination.URL, signed with
// Destination.Secret (see Sign and VerifySignature).
type WebhookSender struct {
	http  httpPoster
	clock Clock
}

// Send posts m.
func (s *WebhookSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.URL == "" || d.Secret == "" {
		return fmt.Errorf("relay: webhook %q: URL and Secret are required: %w", d.Name, ErrPermanent)
	}
	m = m.InJapan() // +09:00, as the values' times
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("relay: webhook: encode: %w", err)
	}
	ts := strconv.FormatInt(s.clock.Now().Unix(), 10)
	hdr := http.Header{
		HeaderTimestamp: {ts},
		HeaderSignature: {Sign(d.Secret, ts, body)},
	}
	return s.http.post(ctx, "webhook", d.URL, "application/json", body, hdr, m, d)
}
