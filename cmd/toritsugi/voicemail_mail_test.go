package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/relay/relaytest"
)

// voicemailConfig: a client closed every day, whose callers may leave a
// message, relayed to mail. Arguments: ARI URL, data dir, SMTP addr.
const voicemailConfig = `
ari: {url: %q, user: toritsugi, password: toritsugi}
http: {listen: 127.0.0.1:0}
data_dir: %q
clients:
  - id: closed
    name: 株式会社休業中
    dids: ["03-1111-1111"]
    greeting: sound:toritsugi/closed-greeting
    after_hours_sound: sound:toritsugi/closed-message
    after_hours_voicemail: true
    voicemail_max: 30s
    hours: {weekly: {mon: []}}
    relay: {to: [closed-mail], voicemails: true}
relay:
  destinations:
    - {name: closed-mail, type: email, addr: %q, from: toritsugi@example.jp, to: info@closed.example, username: toritsugi@example.jp, password: mail-pw}
operators:
  - {id: op1001, name: 佐藤, endpoint: PJSIP/op1001, clients: ["*"]}
`

// TestVoicemailMailCarriesTheRecording: a message left after hours reaches
// the client's mailbox with the recording Asterisk stored attached (read
// from Asterisk over ARI), through the service as it runs.
func TestVoicemailMailCarriesTheRecording(t *testing.T) {
	fake, err := aritest.New(aritest.Options{Clock: aritest.ScaledClock(50)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	fake.AddSound("toritsugi/closed-message", time.Second)
	mailSrv := relaytest.StartSMTP(t, relaytest.SMTPOptions{Username: "toritsugi@example.jp", Password: "mail-pw"})
	dir := t.TempDir()
	path := filepath.Join(dir, "toritsugi.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(voicemailConfig, fake.URL(), filepath.Join(dir, "data"), mailSrv.Addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	startService(t, path, serviceOptions{mailTLS: mailSrv.ClientTLSConfig()})
	if _, err := fake.IncomingCall("0311111111", "09012345678"); err != nil {
		t.Fatal(err)
	}
	parts, err := mailSrv.Next(t).Parts()
	if err != nil {
		t.Fatalf("%v: want the text and the recording", err)
	}
	var text string
	var wav []byte
	for _, p := range parts {
		if strings.HasPrefix(p.ContentType, "audio/wav") {
			wav = p.Body
		} else {
			text = string(p.Body)
		}
	}
	if !strings.Contains(text, "留守番電話") || !strings.Contains(text, "090-1234-5678") {
		t.Errorf("text %q: want the voicemail's notice with the caller's number", text)
	}
	if len(wav) < 44 || string(wav[:4]) != "RIFF" || string(wav[8:12]) != "WAVE" {
		t.Fatalf("attachment of %d bytes, want the WAV Asterisk stored", len(wav))
	}
}
