package relay

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/toritsugi/toritsugi/pkg/intake"
	"github.com/toritsugi/toritsugi/pkg/phone"
)

// captured is one request seen by an httptest receiver.
type captured struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

func receiver(t *testing.T, status int) (*httptest.Server, chan captured) {
	t.Helper()
	ch := make(chan captured, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- captured{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func TestHTTPChannels(t *testing.T) {
	clock := newFakeClock()
	m := testMessage("m-42")
	wantText := m.Subject + "\n\n" + m.Text
	tests := []struct {
		name  string
		dest  func(base string) Destination
		check func(t *testing.T, c captured)
	}{
		{"slack", func(b string) Destination {
			return Destination{Name: "slack-sales", Type: TypeSlack, URL: b + "/services/T0/B0/secret"}
		}, func(t *testing.T, c captured) {
			var got map[string]any
			mustJSON(t, c, &got)
			// mrkdwn off: what callers said is shown as written
			if c.Path != "/services/T0/B0/secret" || got["text"] != wantText || got["mrkdwn"] != false {
				t.Errorf("slack path=%s body=%v", c.Path, got)
			}
		}},
		{"chatwork", func(b string) Destination {
			return Destination{Name: "cw", Type: TypeChatwork, URL: b, RoomID: "12345", Token: "cw-token"}
		}, func(t *testing.T, c captured) {
			if c.Path != "/v2/rooms/12345/messages" || c.Header.Get("X-ChatWorkToken") != "cw-token" {
				t.Errorf("chatwork path=%s token=%q", c.Path, c.Header.Get("X-ChatWorkToken"))
			}
			if ct := c.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type = %q", ct)
			}
			form, err := url.ParseQuery(string(c.Body))
			want := "[info][title]" + m.Subject + "[/title]" + m.Text + "[/info]"
			if err != nil || form.Get("body") != want {
				t.Errorf("chatwork body = %q (%v)", form.Get("body"), err)
			}
		}},
		{"teams", func(b string) Destination {
			return Destination{Name: "teams", Type: TypeTeams, URL: b + "/workflows/abc"}
		}, func(t *testing.T, c captured) {
			var got teamsMessage
			mustJSON(t, c, &got)
			if got.Type != "message" || len(got.Attachments) != 1 {
				t.Fatalf("teams message = %+v", got)
			}
			a := got.Attachments[0]
			// A block per line: one line break in a block is no break.
			body := a.Content.Body
			if a.ContentType != "application/vnd.microsoft.card.adaptive" || a.Content.Type != "AdaptiveCard" ||
				len(body) != 3 || teamsRunOf(t, body[0]).Text != m.Subject || teamsRunOf(t, body[0]).Weight != "Bolder" ||
				teamsRunOf(t, body[1]).Text+"\n"+teamsRunOf(t, body[2]).Text != m.Text || body[2].Spacing != "None" {
				t.Errorf("teams card = %+v", a)
			}
			if len(a.Content.Actions) != 1 || a.Content.Actions[0].URL != m.Link {
				t.Errorf("actions %+v, want a button opening %s", a.Content.Actions, m.Link)
			}
		}},
		{"line", func(b string) Destination {
			return Destination{Name: "line-acme", Type: TypeLine, URL: b, To: "Cgroup0123", Token: "line-token"}
		}, func(t *testing.T, c captured) {
			var got linePush
			mustJSON(t, c, &got)
			if c.Path != "/v2/bot/message/push" || c.Header.Get("Authorization") != "Bearer line-token" ||
				got.To != "Cgroup0123" || len(got.Messages) != 1 || got.Messages[0].Type != "text" || got.Messages[0].Text != wantText {
				t.Errorf("line path=%s auth=%q body=%+v", c.Path, c.Header.Get("Authorization"), got)
			}
			if k := c.Header.Get("X-Line-Retry-Key"); k != lineRetryKey("m-42/line-acme") {
				t.Errorf("X-Line-Retry-Key = %q", k)
			}
		}},
		{"lineworks channel", func(b string) Destination {
			return Destination{Name: "lw", Type: TypeLineWorks, URL: b + "/v1.0", BotID: "bot1", RoomID: "room-9", Token: "lw-token"}
		}, func(t *testing.T, c captured) {
			var got lineWorksBody
			mustJSON(t, c, &got)
			if c.Path != "/v1.0/bots/bot1/channels/room-9/messages" || c.Header.Get("Authorization") != "Bearer lw-token" ||
				got.Content.Type != "text" || got.Content.Text != wantText {
				t.Errorf("lineworks path=%s auth=%q body=%+v", c.Path, c.Header.Get("Authorization"), got)
			}
		}},
		{"lineworks user", func(b string) Destination {
			return Destination{Name: "lw", Type: TypeLineWorks, URL: b, BotID: "bot1", To: "sato@corp", Token: "t"}
		}, func(t *testing.T, c captured) {
			if c.Path != "/bots/bot1/users/sato@corp/messages" {
				t.Errorf("lineworks user path = %s", c.Path)
			}
		}},
		{"webhook", func(b string) Destination {
			return Destination{Name: "hook", Type: TypeWebhook, URL: b + "/in", Secret: "s3cret"}
		}, func(t *testing.T, c captured) {
			ts, sig := c.Header.Get(HeaderTimestamp), c.Header.Get(HeaderSignature)
			if err := VerifySignature("s3cret", ts, c.Body, sig, clock.Now(), time.Minute); err != nil {
				t.Errorf("VerifySignature: %v (ts=%q sig=%q)", err, ts, sig)
			}
			if ts != "1775035800" {
				t.Errorf("timestamp = %q, want the fake clock's", ts)
			}
			var got Message
			mustJSON(t, c, &got)
			if got.ID != m.ID || got.Fields["company"] != "株式会社サンプル" || !got.CreatedAt.Equal(m.CreatedAt) {
				t.Errorf("webhook body = %+v", got)
			}
			// In Japan time, as the values' times, whatever the
			// machine's zone (UTC in a container).
			if !strings.Contains(string(c.Body), `"created_at":"`+m.CreatedAt.In(time.FixedZone("", 9*3600)).Format(time.RFC3339Nano)) {
				t.Errorf("webhook body %s: created_at not in Japan time", c.Body)
			}
		}},
	}
	senders := Channels(ChannelOptions{Clock: clock})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := receiver(t, http.StatusOK)
			d := tt.dest(srv.URL)
			if err := senders[d.Type].Send(t.Context(), d, m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			c := <-reqs
			if c.Method != http.MethodPost {
				t.Errorf("method = %s", c.Method)
			}
			if k := c.Header.Get("Idempotency-Key"); k != "m-42/"+d.Name {
				t.Errorf("Idempotency-Key = %q", k)
			}
			tt.check(t, c)
		})
	}
}

func mustJSON(t *testing.T, c captured, v any) {
	t.Helper()
	if ct := c.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if err := json.Unmarshal(c.Body, v); err != nil {
		t.Fatalf("decode %s: %v", c.Body, err)
	}
}

func TestHTTPStatusClassification(t *testing.T) {
	tests := []struct {
		status    int
		permanent bool
	}{
		{http.StatusBadRequest, true},
		{http.StatusUnauthorized, true},
		{http.StatusNotFound, true},
		{http.StatusRequestTimeout, false},
		{http.StatusTooManyRequests, false},
		{http.StatusInternalServerError, false},
		{http.StatusBadGateway, false},
	}
	s := Channels(ChannelOptions{Clock: newFakeClock()})[TypeSlack]
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv, _ := receiver(t, tt.status)
			err := s.Send(t.Context(), Destination{Name: "s", Type: TypeSlack, URL: srv.URL + "/hooks/SECRETPATH"}, testMessage("m"))
			if err == nil {
				t.Fatal("Send succeeded on an error status")
			}
			if got := errors.Is(err, ErrPermanent); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if strings.Contains(err.Error(), "SECRETPATH") {
				t.Errorf("error leaks the webhook URL: %v", err)
			}
		})
	}
}

func TestHTTPChannelsRejectIncompleteDestination(t *testing.T) {
	senders := Channels(ChannelOptions{})
	for _, d := range []Destination{
		{Name: "a", Type: TypeSlack},
		{Name: "b", Type: TypeTeams},
		{Name: "c", Type: TypeChatwork, RoomID: "1"},
		{Name: "d", Type: TypeLineWorks, BotID: "b", Token: "t"},
		{Name: "e", Type: TypeWebhook, URL: "http://127.0.0.1:1/"},
	} {
		if err := senders[d.Type].Send(t.Context(), d, testMessage("m")); !errors.Is(err, ErrPermanent) {
			t.Errorf("%s: Send = %v, want ErrPermanent", d.Type, err)
		}
	}
}

// TestTeamsBlocks: a message in the default template's form becomes a
// bold first line, a gap, and a block per line.
func TestTeamsBlocks(t *testing.T) {
	m := Message{Subject: "山田様より", Text: "【お電話承り】山田様より\n\n発信者: 03-1234-5678\n用件詳細: 一行目\n二行目\n"}
	var got []string
	for _, b := range teamsBlocks(m) {
		r := teamsRunOf(t, b)
		got = append(got, r.Weight+"|"+b.Spacing+"|"+r.Text)
	}
	want := []string{"Bolder|None|【お電話承り】山田様より", "|Medium|発信者: 03-1234-5678", "|None|用件詳細: 一行目", "|None|二行目"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("blocks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestChatworkSubjectShownOnce: the default template's first line, which
// carries the subject, is the [info] box's title, not shown again under a
// title of the subject; a text whose first line does not carry it keeps
// the subject as its title.
func TestChatworkSubjectShownOnce(t *testing.T) {
	tests := []struct {
		m                   Message
		wantTitle, wantBody string
	}{
		{Message{Subject: "山田様より", Text: "【お電話承り】山田様より\n\n発信者: 03-1234-5678\n用件: 見積もり"},
			"【お電話承り】山田様より", "発信者: 03-1234-5678\n用件: 見積もり"},
		{Message{Subject: "山田様より", Text: "発信者: 03-1234-5678\n用件: 見積もり"},
			"山田様より", "発信者: 03-1234-5678\n用件: 見積もり"},
	}
	for _, tt := range tests {
		if title, body := chatworkTitle(tt.m); title != tt.wantTitle || body != tt.wantBody {
			t.Errorf("%q: title %q body %q, want %q %q", tt.m.Text, title, body, tt.wantTitle, tt.wantBody)
		}
	}
}

// TestSlackTextCut: a text over Slack's 40,000 characters (which Slack
// cuts silently) is cut to fit, saying so, with the message's link.
func TestSlackTextCut(t *testing.T) {
	var got slackPayload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	m := testMessage("m-long")
	m.Text = strings.Repeat("伝言です。", 10_000) // 50,000 characters
	if err := Channels(ChannelOptions{})[TypeSlack].Send(t.Context(), Destination{Name: "s", Type: TypeSlack, URL: srv.URL}, m); err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(got.Text); n > slackMaxText || n < slackMaxText-100 || !strings.HasSuffix(got.Text, "全文: "+m.Link+"）") {
		t.Fatalf("%d characters, ending %q", n, got.Text[len(got.Text)-80:])
	}
}

// teamsRunOf is the one TextRun of a block, which must be a RichTextBlock.
func teamsRunOf(t *testing.T, b teamsBlock) teamsRun {
	t.Helper()
	if b.Type != "RichTextBlock" || len(b.Inlines) != 1 || b.Inlines[0].Type != "TextRun" {
		t.Fatalf("block %+v: want a RichTextBlock of one TextRun", b)
	}
	return b.Inlines[0]
}

// TestTeamsCallerMarkdownShownAsWritten: what a caller said is shown as
// written, never read as Markdown (a link whose words the caller chose,
// bold, a list): every block is a RichTextBlock of TextRuns, which Teams
// shows as plain text, and the message's link is a button.
func TestTeamsCallerMarkdownShownAsWritten(t *testing.T) {
	m := Message{Subject: "山田様より", Link: "https://console.example.jp/console/intakes/abc",
		Text: "【お電話承り】山田様より\n\n用件詳細: [【重要】請求書はこちら](https://evil.example/login) **至急**\n- 一\n1. 二\n"}
	body, err := teamsPayload(m)
	if err != nil {
		t.Fatal(err)
	}
	var got teamsMessage
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), `"TextBlock"`) {
		t.Fatalf("a TextBlock (Markdown) in %s", body)
	}
	c := got.Attachments[0].Content
	var lines []string
	for _, b := range c.Body {
		lines = append(lines, teamsRunOf(t, b).Text)
	}
	if want := []string{"【お電話承り】山田様より", "用件詳細: [【重要】請求書はこちら](https://evil.example/login) **至急**", "- 一", "1. 二"}; !slices.Equal(lines, want) {
		t.Fatalf("lines %q, want %q", lines, want)
	}
	if len(c.Actions) != 1 || c.Actions[0].Type != "Action.OpenUrl" || c.Actions[0].URL != m.Link {
		t.Fatalf("actions %+v, want a button opening %s", c.Actions, m.Link)
	}
}

// TestLineWorksTextCut: a text over LINE WORKS's 2,000 characters is cut
// to fit, with a note and the console link; a shorter one is sent whole.
func TestLineWorksTextCut(t *testing.T) {
	m := testMessage("m-long")
	if got := lineWorksText(m); got != plainText(m) {
		t.Errorf("a short message was changed: %q", got)
	}
	m.Text = strings.Repeat("伝言です。", 600) // 3,000 characters
	got := lineWorksText(m)
	if n := utf8.RuneCountInString(got); n != lineWorksMaxText {
		t.Errorf("cut to %d characters, want %d", n, lineWorksMaxText)
	}
	if !strings.HasSuffix(got, "全文: "+m.Link+"）") || !strings.HasPrefix(got, m.Subject) {
		t.Errorf("cut message starts %q, ends %q", got[:40], got[len(got)-80:])
	}
}

// TestRedirectIsPermanent: redirects are not followed, and a 3xx means the
// URL is wrong: retrying will not help.
func TestRedirectIsPermanent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/", http.StatusMovedPermanently)
	}))
	t.Cleanup(srv.Close)
	s := Channels(ChannelOptions{})[TypeSlack]
	err := s.Send(t.Context(), Destination{Name: "s", Type: TypeSlack, URL: srv.URL + "/hook"}, testMessage("m-3xx"))
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "HTTP 301") {
		t.Fatalf("Send = %v, want a permanent HTTP 301", err)
	}
}

// TestLineRetryKey: every attempt of one entry carries one retry key, a
// version-4 UUID in LINE's hexadecimal form; another entry has another.
func TestLineRetryKey(t *testing.T) {
	k := lineRetryKey("m-42/line-acme")
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuid.MatchString(k) || k != lineRetryKey("m-42/line-acme") || k == lineRetryKey("m-43/line-acme") {
		t.Fatalf("retry key %q", k)
	}
}

// TestLineAnswers: LINE's 409 to a retry key it accepted before (with the
// accepted request's id) is a delivery, not a second message; a 409
// without it, and a refused token, are permanent; a rate limit is tried
// again (a throttle), and the monthly limit (429 too) is permanent, with
// LINE's reason; a text over 5,000 UTF-16 units is cut, with the console
// link.
func TestLineAnswers(t *testing.T) {
	s := Channels(ChannelOptions{})[TypeLine]
	const monthly = `{"message":"You have reached your monthly limit."}`
	for _, tc := range []struct {
		status   int
		accepted string
		body     string
		want     string
	}{
		{http.StatusOK, "", "", "delivered"}, {http.StatusConflict, "b8a6d4c2-0000-4000-8000-000000000001", "", "delivered"},
		{http.StatusConflict, "", "", "permanent"}, {http.StatusUnauthorized, "", "", "permanent"},
		{http.StatusTooManyRequests, "", `{"message":"The API rate limit has been exceeded. Try again later."}`, "again"},
		{http.StatusTooManyRequests, "", monthly, "permanent"},
	} {
		status, want := tc.status, tc.want
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.accepted != "" {
				w.Header().Set("X-Line-Accepted-Request-Id", tc.accepted)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, cmp.Or(tc.body, `{"message":"x"}`))
		}))
		t.Cleanup(srv.Close)
		err := s.Send(t.Context(), Destination{Name: "l", Type: TypeLine, URL: srv.URL, To: "U1", Token: "t"}, testMessage("m"))
		got := "again"
		switch {
		case err == nil:
			got = "delivered"
		case errors.Is(err, ErrPermanent):
			got = "permanent"
		}
		if got != want {
			t.Errorf("HTTP %d (accepted id %q): %s (%v), want %s", status, tc.accepted, got, err, want)
		}
		// A throttle holds the destination's other messages back: the
		// monthly limit must not (nothing helps before the month turns).
		if _, limited := throttled(err, time.Now()); limited != (status == http.StatusTooManyRequests && want == "again") {
			t.Errorf("HTTP %d %s: throttled %v", status, tc.body, limited)
		}
		if tc.body == monthly && !strings.Contains(fmt.Sprint(err), "You have reached your monthly limit.") {
			t.Errorf("the monthly limit's error does not give LINE's reason: %v", err)
		}
	}
	// Counted as LINE counts: 🍎 is two UTF-16 units.
	for _, fill := range []string{"あ", "🍎"} {
		srv, reqs := receiver(t, http.StatusOK)
		m := testMessage("long")
		m.Text, m.Link = strings.Repeat(fill, 6000), "https://console.example/intakes/1"
		if err := s.Send(t.Context(), Destination{Name: "l", Type: TypeLine, URL: srv.URL, To: "U1", Token: "t"}, m); err != nil {
			t.Fatal(err)
		}
		var got linePush
		mustJSON(t, <-reqs, &got)
		if text := got.Messages[0].Text; len(utf16.Encode([]rune(text))) > lineMaxText || len(utf16.Encode([]rune(text))) < lineMaxText-1 || !strings.HasSuffix(text, m.Link+"）") {
			t.Errorf("a long text of %s: %d UTF-16 units, ending %q", fill, len(utf16.Encode([]rune(text))), text[len(text)-60:])
		}
	}
}

// TestTeamsConnectorAnswers: an Office 365 connector answers 200 for a
// message it did not deliver, saying so in the body (Microsoft documents
// this; it is not an HTTP error). Such a message is not delivered: tried
// again when Teams was busy (429, 5xx), dead when the card was refused
// (400, 413). "1" (a connector's success) and an empty 202 (Workflows)
// are delivered.
func TestTeamsConnectorAnswers(t *testing.T) {
	const failed = "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error %d with ContextId tcid=0,server=msgapi-production-jpe-01,cv=abc."
	for _, tc := range []struct {
		status    int
		body      string
		delivered bool
		permanent bool
	}{
		{http.StatusOK, "1", true, false},
		{http.StatusAccepted, "", true, false},
		{http.StatusOK, fmt.Sprintf(failed, 429), false, false},
		{http.StatusOK, fmt.Sprintf(failed, 502), false, false},
		{http.StatusOK, fmt.Sprintf(failed, 413), false, true},
		{http.StatusOK, fmt.Sprintf(failed, 400), false, true},
	} {
		t.Run(fmt.Sprintf("%d %.40s", tc.status, tc.body), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			err := Channels(ChannelOptions{Clock: newFakeClock()})[TypeTeams].Send(t.Context(),
				Destination{Name: "teams", Type: TypeTeams, URL: srv.URL + "/webhookb2/SECRET"}, testMessage("m"))
			if (err == nil) != tc.delivered || errors.Is(err, ErrPermanent) != tc.permanent {
				t.Fatalf("Send = %v; want delivered %v, permanent %v", err, tc.delivered, tc.permanent)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks the webhook URL: %v", err)
			}
		})
	}
}

// TestTeamsCardFitsItsLimit: a long message (a form's four long answers)
// makes a card Teams takes, under 28 KB, its text cut with the console's
// link; a short one is whole.
func TestTeamsCardFitsItsLimit(t *testing.T) {
	long := testMessage("m-long")
	long.Text = strings.Repeat("お客様のご用件：見積もりの件で折り返しのお電話をお願いしたいとのことです。\n", 400) // ~44,000 bytes
	body, err := teamsPayload(long)
	if err != nil || len(body) > teamsMaxPayload || !strings.Contains(string(body), "長いため省略しました。全文: "+long.Link) {
		t.Fatalf("long message: %d bytes (%v), want at most %d, cut with the link", len(body), err, teamsMaxPayload)
	}
	short := testMessage("m-short")
	body, err = teamsPayload(short)
	if err != nil || strings.Contains(string(body), "長いため省略") || !strings.Contains(string(body), "折返しをお願いします。") {
		t.Fatalf("short message: %s (%v), want it whole", body, err)
	}
}

// TestTeamsCardOfManyShortLinesFits: many short lines (each a block, its
// JSON costing more than its text) followed by a long paragraph still
// make a card that fits, not an error retried until dead-lettered.
func TestTeamsCardOfManyShortLinesFits(t *testing.T) {
	m := testMessage("m-lines")
	m.Text = strings.Repeat("・有\n", 380) + strings.Repeat("長い説明が続きます。", 1000)
	body, err := teamsPayload(m)
	if err != nil || len(body) > teamsMaxPayload || len(body) < teamsMaxPayload*9/10 {
		t.Fatalf("%d bytes (%v), want close to %d and under it", len(body), err, teamsMaxPayload)
	}
	if !utf8.Valid(body) || !strings.Contains(string(body), "長いため省略しました") {
		t.Fatalf("card not valid UTF-8 or not saying it was cut")
	}
}

// TestUpdatedAtInJapanTime: a correction's time (updated_at) is in Japan
// time as the call's is, in a webhook's body and to a client's own
// template, whatever the machine's zone: a body mixed +09:00 and Z, and a
// template's {{.UpdatedAt.Format "15:04"}} said 15:45 for 00:45.
func TestUpdatedAtInJapanTime(t *testing.T) {
	m := testMessage("m-fixed")
	m.UpdatedAt = time.Date(2026, 1, 4, 15, 45, 0, 0, time.UTC)
	text, err := Render(`{{.UpdatedAt.Format "01-02 15:04"}}`, m)
	if err != nil || text != "01-05 00:45" {
		t.Fatalf("template: %q (%v), want 01-05 00:45", text, err)
	}
	srv, reqs := receiver(t, http.StatusOK)
	if err := Channels(ChannelOptions{})[TypeWebhook].Send(t.Context(), Destination{Name: "hook", Type: TypeWebhook, URL: srv.URL, Secret: "s"}, m); err != nil {
		t.Fatal(err)
	}
	if body := string((<-reqs).Body); !strings.Contains(body, `"updated_at":"2026-01-05T00:45:00+09:00"`) {
		t.Fatalf("webhook body %s: updated_at not in Japan time", body)
	}
}

// TestLineWorksNoMentionFromTheText: what callers and operators typed,
// and a caller id of unknown form shown as it came, never becomes a LINE
// WORKS mention (<m userId="all"> is @All in a room, as <!channel> is in
// Slack and [toall] in Chatwork, which those channels escape).
func TestLineWorksNoMentionFromTheText(t *testing.T) {
	srv, ch := receiver(t, 201)
	m := testMessage("m-mention")
	m.Text = "発信者: " + phone.ParseCallerID(`<m userId="all">`).Display() + "\nご用件: <m userId=\"boss@acme.example\"> 至急"
	d := Destination{Name: "lw", Type: TypeLineWorks, URL: srv.URL, BotID: "b", RoomID: "r", Token: "t"}
	if err := Channels(ChannelOptions{})[TypeLineWorks].Send(t.Context(), d, m); err != nil {
		t.Fatal(err)
	}
	var got lineWorksBody
	if err := json.Unmarshal((<-ch).Body, &got); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(got.Content.Text, "<>") || !strings.Contains(got.Content.Text, `ご用件: ＜m userId="boss@acme.example"＞ 至急`) {
		t.Fatalf("LINE WORKS text %q: want the angle brackets full-width", got.Content.Text)
	}
}

// longIntake is an intake message of scope's preset, rendered by the
// default template, with answers as given (detail and guidance at most
// the form's 2,000 characters) and the rest those of an urgent request
// for a call back; lines given (a client's own script) replace the
// preset's answers.
func longIntake(t *testing.T, scope string, answers intake.Values, lines ...Line) Message {
	t.Helper()
	v := intake.Values{"company": "株式会社サンプル", "name": "山田太郎", "callback": "+819011112222", "purpose": "見積もりの件",
		"callback_needed": "yes", "callback_at": "2026-04-02T10:00:00+09:00", "urgency": "urgent"}
	maps.Copy(v, answers)
	if len(lines) == 0 {
		s, err := intake.Preset(scope)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range s.Answers(v) {
			lines = append(lines, Line{a.Label, a.Value})
		}
		lines = append(lines, Line{"受付", "op1001"})
	}
	m := Message{ID: "i1-v1", Kind: KindIntake, Subject: "株式会社サンプル 山田太郎 様より ACME 宛のお電話", Urgent: true,
		Fields: map[string]string{"caller": "090-1111-2222"}, Lines: lines, CreatedAt: time.Date(2026, 4, 1, 0, 15, 0, 0, time.UTC)}
	var err error
	if m.Text, err = Render("", m); err != nil {
		t.Fatal(err)
	}
	return m
}

// longAnswer is n characters of an operator's notes: lines of about 40
// characters, each with fill in it (an emoji counts two for LINE).
func longAnswer(n int, fill string) string {
	var b []rune
	for i := 0; len(b) < n; i++ {
		line := []rune(fmt.Sprintf("%d. 先日の見積書の件で、数量と納期%sについて確認したいとのことです。", i+1, fill))
		if len(b) > 0 {
			b = append(b, '\n')
		}
		b = append(b, line...)
	}
	return strings.TrimSpace(string(b[:n]))
}

// TestLongAnswerShortenedNotTheLinesAfterIt: a message over a channel's
// limit (a 用件詳細 at the form's 2,000 characters to LINE WORKS, which
// takes 2,000) arrives with every labelled line, the header and the
// footer; its longest answers are shortened, marked, and the answers
// after them (折返し希望日時, 緊急度, 受付, 受付日時) are there. The text
// was cut at its end, and the client never read when to call back nor
// that it was urgent.
func TestLongAnswerShortenedNotTheLinesAfterIt(t *testing.T) {
	const note = "…（長いため省略しました）"
	utf16Len := func(s string) int { return len(utf16.Encode([]rune(s))) }
	custom := []Line{{"会社名", "株式会社サンプル"}, {"経緯", longAnswer(2000, "")}, {"用件詳細", longAnswer(2000, "")},
		{"案内した内容", longAnswer(2000, "")}, {"備考", longAnswer(2000, "")}, {"折返し希望日時", "4月2日(木) 10:00"},
		{"緊急度", "至急"}, {"受付", "op1001"}}
	for _, tc := range []struct {
		name string
		dest Destination
		m    Message
		long []string // the labels of the answers shortened
		// text is what the client reads, checked within the limit.
		text func(t *testing.T, c captured) string
	}{
		{"lineworks", Destination{Name: "lw", Type: TypeLineWorks, BotID: "b", RoomID: "r", Token: "t"},
			longIntake(t, "standard", intake.Values{"detail": longAnswer(2000, "")}), []string{"用件詳細"},
			func(t *testing.T, c captured) string {
				var got lineWorksBody
				mustJSON(t, c, &got)
				if n := utf16Len(got.Content.Text); n > lineWorksMaxText {
					t.Errorf("%d characters, over LINE WORKS's %d", n, lineWorksMaxText)
				}
				return got.Content.Text
			}},
		{"line", Destination{Name: "l", Type: TypeLine, To: "U1", Token: "t"},
			longIntake(t, "guided", intake.Values{"detail": longAnswer(2000, strings.Repeat("🍎", 20)), "guidance": longAnswer(1900, strings.Repeat("🍎", 20))}), []string{"用件詳細", "案内した内容"},
			func(t *testing.T, c captured) string {
				var got linePush
				mustJSON(t, c, &got)
				if n := utf16Len(got.Messages[0].Text); n > lineMaxText {
					t.Errorf("%d UTF-16 units, over LINE's %d", n, lineMaxText)
				}
				return got.Messages[0].Text
			}},
		{"teams", Destination{Name: "tm", Type: TypeTeams},
			longIntake(t, "", nil, custom...), []string{"経緯", "用件詳細", "案内した内容", "備考"},
			func(t *testing.T, c captured) string {
				if len(c.Body) > teamsMaxPayload {
					t.Errorf("card of %d bytes, over %d", len(c.Body), teamsMaxPayload)
				}
				var got teamsMessage
				mustJSON(t, c, &got)
				var lines []string
				for _, b := range got.Attachments[0].Content.Body {
					lines = append(lines, teamsRunOf(t, b).Text)
				}
				return strings.Join(lines, "\n")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, reqs := receiver(t, http.StatusOK)
			tc.dest.URL = srv.URL
			if err := Channels(ChannelOptions{})[tc.dest.Type].Send(t.Context(), tc.dest, tc.m); err != nil {
				t.Fatal(err)
			}
			got := tc.text(t, <-reqs)
			first, _, _ := strings.Cut(tc.m.Text, "\n")
			if !strings.HasPrefix(got, first+"\n") || !strings.Contains(got, "発信者: 090-1111-2222\n") ||
				!strings.HasSuffix(strings.TrimRight(got, "\n"), "受付日時: 2026/04/01 09:15") {
				r := []rune(got)
				t.Errorf("header or footer lost: %q … %q", first, string(r[max(len(r)-100, 0):]))
			}
			for _, l := range tc.m.Lines {
				if !slices.Contains(tc.long, l.Label) {
					if !strings.Contains(got, l.Label+": "+l.Value+"\n") {
						t.Errorf("%s: %s is not there whole", l.Label, l.Value)
					}
					continue
				}
				// Shortened at its end: its beginning kept (a fair share of
				// the room, not a few characters), then the note.
				i := strings.Index(got, l.Label+": ")
				if i < 0 {
					t.Errorf("%s: the line is gone", l.Label)
					continue
				}
				kept, _, ok := strings.Cut(got[i+len(l.Label)+2:], note+"\n")
				if !ok || !strings.HasPrefix(l.Value, kept) || utf8.RuneCountInString(kept) < 200 {
					t.Errorf("%s: %d characters kept (a beginning of the value: %v), want the beginning and %s",
						l.Label, utf8.RuneCountInString(kept), strings.HasPrefix(l.Value, kept), note)
				}
			}
			if n := strings.Count(got, note); n != len(tc.long) {
				t.Errorf("%d notes, want one for each of %q", n, tc.long)
			}
		})
	}
}

// TestFitText: what fitText shortens. The longest values first, evenly
// (one a little over the bound loses its end too, one under it is
// whole); a value the template did not write after its label (a
// client's own template) is found where it is; lines of text that are
// no value are shortened as values are; when the lines alone are over
// the limit, the text is cut at its end.
func TestFitText(t *testing.T) {
	const note = "…（長いため省略しました）"
	a, b, c := strings.Repeat("あ", 300), strings.Repeat("い", 200), strings.Repeat("う", 50)
	m := Message{Lines: []Line{{"A", a}, {"B", b}, {"C", c}, {"D", "はい"}}}
	text := "見出し\nA: " + a + "\nD: はい\nB: " + b + "\nC: " + c + "\n末尾"
	// 574 characters, 174 over: A and B cut to 163 each, 150 of theirs
	// and the note's 13.
	got := fitText(text, m, 400, oneUnit)
	want := "見出し\nA: " + strings.Repeat("あ", 150) + note + "\nD: はい\nB: " + strings.Repeat("い", 150) + note + "\nC: " + c + "\n末尾"
	if utf8.RuneCountInString(want) != 400 || got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// A client's own template: the values under their labels, on lines
	// of their own (313 characters: the value cut to 87, 74 and the note).
	own := "■用件\n" + a + "\n■緊急度\n至急\n"
	if got := fitText(own, Message{Lines: []Line{{"用件", a}, {"緊急度", "至急"}}}, 100, oneUnit); got != "■用件\n"+strings.Repeat("あ", 74)+note+"\n■緊急度\n至急\n" {
		t.Errorf("own template: %q", got)
	}
	// No values: the longest line (306 characters: cut to 94).
	if got := fitText("件名\n"+a+"\n末尾", Message{}, 100, oneUnit); got != "件名\n"+strings.Repeat("あ", 81)+note+"\n末尾" {
		t.Errorf("no values: %q", got)
	}
	// 200 lines of 10 characters cannot fit 1,000 with each line kept.
	many := strings.Repeat("項目です: 値です\n", 200)
	got = fitText(many, Message{Link: "https://console.example/intakes/1"}, 1000, oneUnit)
	if n := utf8.RuneCountInString(got); n != 1000 || !strings.HasPrefix(many, strings.TrimSuffix(got, "\n…（長いため省略しました。全文: https://console.example/intakes/1）")) {
		t.Errorf("cut: %d characters, ending %q", n, got[len(got)-100:])
	}
}
