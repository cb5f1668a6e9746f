package relay

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// LineBaseURL is the LINE Messaging API base used when Destination.URL is
// empty.
const LineBaseURL = "https://api.line.me"

// lineMaxText is the longest text message LINE accepts, in UTF-16 code
// units (LINE's "character counting in a text").
const lineMaxText = 5000

// LineSender pushes a text message through the LINE Messaging API (a LINE
// Official Account's bot): POST {base}/v2/bot/message/push to
// Destination.To (a user, group or room id), with the channel access
// token (Destination.Token) as bearer. Each attempt carries the same
// X-Line-Retry-Key, derived from the entry's idempotency key: LINE
// executes a request once per key (for 24 hours), and answers a retry of
// one it accepted with 409 and the accepted request's id
// (X-Line-Accepted-Request-Id), which is a delivery; a 409 without it is
// an error. A 429 saying the account's monthly limit is reached is
// permanent: the message is dead-lettered at once with LINE's reason, not
// held (with the destination's other messages) as a rate limit would be.
type LineSender struct{ http httpPoster }

type linePush struct {
	To       string        `json:"to"`
	Messages []lineMessage `json:"messages"`
}

type lineMessage struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Send pushes m.
func (s *LineSender) Send(ctx context.Context, d Destination, m Message) error {
	if d.To == "" || d.Token == "" {
		return fmt.Errorf("relay: line %q: To and Token are required: %w", d.Name, ErrPermanent)
	}
	base := apiBase(d, LineBaseURL)
	body, err := json.Marshal(linePush{To: d.To, Messages: []lineMessage{{Type: "text", Text: fitText(plainText(m), m, lineMaxText, utf16Units)}}})
	if err != nil {
		return fmt.Errorf("relay: line: encode: %w", err)
	}
	hdr := http.Header{
		"Authorization":    {"Bearer " + d.Token},
		"X-Line-Retry-Key": {lineRetryKey(IdempotencyKey(m.ID, d.Name))},
	}
	err = s.http.post(ctx, "line", base+"/v2/bot/message/push", "application/json", body, hdr, m, d)
	var se *StatusError
	switch {
	case errors.As(err, &se) && se.Code == http.StatusConflict && se.Header.Get("X-Line-Accepted-Request-Id") != "":
		return nil // an earlier attempt with this retry key was accepted: not sent twice
	case errors.As(err, &se) && se.Code == http.StatusTooManyRequests && lineMonthlyLimit(se.Body):
		return fmt.Errorf("%w (the LINE Official Account's messages for this month are used up: "+
			"raise its plan in LINE Official Account Manager, or retry the dead letters next month): %w", err, ErrPermanent)
	}
	return err
}

// lineMonthlyLimit reports whether a 429's body is LINE's "You have
// reached your monthly limit." (the account's free or target number of
// messages this month is used up): no retry within hours can succeed,
// unlike a 429 for a rate limit.
func lineMonthlyLimit(body string) bool {
	var answer struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal([]byte(body), &answer)
	return strings.Contains(strings.ToLower(answer.Message), "monthly limit")
}

// lineRetryKey is the UUID (hexadecimal, 8-4-4-4-12, version 4 and RFC
// 4122 variant bits set) LINE takes as X-Line-Retry-Key, the same for
// every attempt of one outbox entry: the first 16 bytes of key's SHA-256.
func lineRetryKey(key string) string {
	h := sha256.Sum256([]byte(key))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
