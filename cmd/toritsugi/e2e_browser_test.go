package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/console/consoletest"
	"github.com/toritsugi/toritsugi/pkg/password"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/relay/relaytest"
)

// e2eConfig is the acceptance test's configuration: one client with the
// branching script relaying to mail and a signed webhook, one operator
// with a console password. Arguments: ARI URL, data dir, SMTP addr,
// webhook URL, password hash.
const e2eConfig = `
ari: {url: %q, user: toritsugi, password: toritsugi}
http: {listen: 127.0.0.1:0}
data_dir: %q
log_level: debug
queue: {wrapup: 0s}
clients:
  - id: acme
    name: 株式会社アクメ
    dids: ["03-1234-5678"]
    greeting: sound:hello-world
    script: scripts/acme.yaml
    relay: {to: [acme-mail, acme-hook]}
relay:
  destinations:
    - name: acme-mail
      type: email
      addr: %q
      from: toritsugi@example.jp
      to: info@acme.example
      username: toritsugi@example.jp
      password: mail-pw
    - {name: acme-hook, type: webhook, url: %q, secret: hook-secret, timeout: 5s}
operators:
  - id: op1001
    name: 佐藤
    endpoint: PJSIP/op1001
    clients: ["*"]
    password_hash: %q
`

// TestConsoleEndToEndInChromium is the console's acceptance test: an
// operator logs in with real headless Chromium and becomes available, a
// call from the fake Asterisk is answered by her softphone, the screen
// pop shows the client and greeting line, she fills the branching intake
// form, checks the read-back and saves; the intake then arrives as a mail
// over STARTTLS with AUTH and as a webhook whose HMAC signature verifies.
func TestConsoleEndToEndInChromium(t *testing.T) {
	ctx := consoletest.Browser(t) // first: fails at once without Chromium

	fake, err := aritest.New(aritest.Options{Clock: aritest.ScaledClock(50)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	fake.AddEndpoint("PJSIP/op1001", true, aritest.EndpointBehavior{
		Answer: aritest.AnswerAfter, Delay: time.Second, HangupAfter: 60 * time.Second})

	mailSrv := relaytest.StartSMTP(t, relaytest.SMTPOptions{Username: "toritsugi@example.jp", Password: "mail-pw"})
	hookURL, hooks := startWebhook(t, "hook-secret")
	hash, err := password.Hash("op-secret-1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyFile(t, "../../pkg/config/testdata/scripts/acme.yaml", filepath.Join(dir, "scripts", "acme.yaml"))
	path := filepath.Join(dir, "toritsugi.yaml")
	body := fmt.Sprintf(e2eConfig, fake.URL(), filepath.Join(dir, "data"), mailSrv.Addr, hookURL, hash)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// relay's real channels; only the SMTP server's self-signed
	// certificate is trusted in addition (production: system roots).
	base := startService(t, path, serviceOptions{
		senders: relay.Channels(relay.ChannelOptions{TLSConfig: mailSrv.ClientTLSConfig()}),
	})

	consoletest.LogIn(t, ctx, base, "op1001", "op-secret-1")
	consoletest.Do(t, ctx, "become available",
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'offline'`),
		chromedp.Click("#btn-available"),
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'available'`),
	)

	callID, err := fake.IncomingCall("0312345678", "0312349999")
	if err != nil {
		t.Fatal(err)
	}
	consoletest.Do(t, ctx, "screen pop",
		chromedp.WaitVisible("#pop-greeting"),
		consoletest.UntilJS(`document.getElementById('pop-greeting').textContent !== ''`),
		consoletest.UntilJS(`document.getElementById('state').dataset.state === 'on_call'`),
	)
	if got := consoletest.Text(t, ctx, "#pop-client"); got != "株式会社アクメ" {
		t.Errorf("pop shows client %q, want 株式会社アクメ", got)
	}
	if got := consoletest.Text(t, ctx, "#pop-caller"); got != "03-1234-9999 (0312349999)" {
		t.Errorf("pop shows caller %q, want 03-1234-9999 (0312349999)", got)
	}
	if got, want := consoletest.Text(t, ctx, "#pop-greeting"), "お電話ありがとうございます。株式会社アクメでございます。"; got != want {
		t.Errorf("pop shows greeting %q, want %q", got, want)
	}

	// The intake stores the callback number as E.164; relayed messages show
	// numbers and choices the way people read them.
	const company, name, detail, callback = "山田商事", "山田太郎", "来月の工事の見積もり", "090-1234-5678"
	hidden := func(field string) string {
		return `document.querySelector('.field[data-field="` + field + `"]').hidden`
	}
	consoletest.Do(t, ctx, "fill the branching form",
		consoletest.UntilJS(hidden("caller_type")+` === true && `+hidden("name")+` === true`),
		chromedp.Click("#f-purpose-estimate"),
		consoletest.UntilJS(hidden("caller_type")+` === false && `+hidden("sales_note")+` === true`),
		chromedp.Click("#f-caller_type-new"),
		chromedp.WaitVisible("#f-name"),
		consoletest.UntilJS(hidden("referral")+` === false && `+hidden("customer_no")+` === true`),
		chromedp.SendKeys("#f-company", company),
		chromedp.SendKeys("#f-name", name),
		chromedp.SendKeys("#f-callback", "090-1234-5678"),
		chromedp.SendKeys("#f-detail", detail),
		chromedp.Click("#f-urgent-yes"),
		// The pop is for the call placed: its draft is kept under its id.
		consoletest.UntilJS(`(localStorage.getItem('toritsugi.draft.op1001.`+callID+`') || '').includes('`+detail+`')`),
		chromedp.Click("#btn-check"),
		chromedp.WaitVisible("#readback"),
	)
	wantRB := company + "の" + name + "様、お電話番号 090-1234-5678、ご用件は見積もりの件（" + detail + "）で、よろしいでしょうか。"
	if got := consoletest.Text(t, ctx, "#readback"); got != wantRB {
		t.Errorf("read-back %q, want %q", got, wantRB)
	}
	consoletest.Do(t, ctx, "save",
		chromedp.Click("#btn-save"),
		consoletest.UntilJS(`document.getElementById('status').textContent.startsWith('保存しました')`),
	)

	m := mailSrv.Next(t)
	if !m.TLS || m.AuthUser != "toritsugi@example.jp" || len(m.To) != 1 || m.To[0] != "info@acme.example" {
		t.Errorf("mail session TLS=%v auth=%q to=%v, want STARTTLS, AUTH as toritsugi@example.jp, to info@acme.example", m.TLS, m.AuthUser, m.To)
	}
	subject, text, err := m.Decode()
	if err != nil {
		t.Fatal(err)
	}
	// お急ぎですか: はい makes the message urgent: 【至急】 in the inbox.
	plain := company + " " + name + " 様より 株式会社アクメ 宛のお電話"
	if want := "【至急】" + plain; subject != want {
		t.Errorf("mail subject %q, want %q", subject, want)
	}
	for _, want := range []string{"お名前: " + name, "会社名: " + company, "折返し番号: " + callback, "ご用件の種類: 見積もり",
		"用件詳細: 来月の工事の見積もり", "お急ぎですか: はい", "受付: op1001", "発信者: 03-1234-9999"} {
		if !strings.Contains(text, want) {
			t.Errorf("mail body lacks %q:\n%s", want, text)
		}
	}

	var d webhookDelivery
	select {
	case d = <-hooks:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook request within 10s")
	}
	if d.err != nil {
		t.Fatalf("webhook: %v", d.err)
	}
	want := map[string]string{"purpose": "見積もり", "caller_type": "新規", "company": company, "name": name,
		"callback": callback, "detail": detail, "urgent": "はい", "operator": "op1001", "caller": "03-1234-9999"}
	for k, v := range want {
		if d.msg.Fields[k] != v {
			t.Errorf("webhook field %s = %q, want %q (all: %v)", k, d.msg.Fields[k], v, d.msg.Fields)
		}
	}
	if d.msg.ClientID != "acme" || d.msg.Kind != relay.KindIntake || d.msg.Subject != plain || !d.msg.Urgent {
		t.Errorf("webhook message %+v", d.msg)
	}
}
