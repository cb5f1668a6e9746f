package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/intake"
	"github.com/toritsugi/toritsugi/pkg/relay"
)

// TestRetiredTeamsConnectorWarns: an Office 365 connector URL loads, with
// a warning that names its line; Workflows URLs and look-alike hosts do
// not warn.
func TestRetiredTeamsConnectorWarns(t *testing.T) {
	cfg := mustParseFile(t, "testdata/valid/relay.yaml", noEnv)
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Line != 9 || cfg.Warnings[0].Path != "relay.destinations[4].url" ||
		!strings.Contains(cfg.Warnings[0].Msg, "Office 365 connector") {
		t.Fatalf("warnings %v, want one for relay.yaml:9 relay.destinations[4].url", cfg.Warnings)
	}
	if w := mustParseFile(t, "testdata/valid/minimal.yaml", noEnv).Warnings; len(w) != 0 {
		t.Errorf("minimal.yaml warnings %v", w)
	}
	for u, want := range map[string]bool{
		"https://acme.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d":                              true,
		"https://outlook.office.com/webhook/a@b/IncomingWebhook/c/d":                                     true,
		"https://OUTLOOK.office.com/webhook/x":                                                           true,
		"https://outlook.office365.com/webhook/a@b/IncomingWebhook/c/d":                                  true,
		"https://prod-23.japaneast.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x": false,
		"https://default1234.ab.environment.api.powerplatform.com/powerautomate/automations/direct/x":    false,
		"https://outlook.office.com/mail/":                                                               false,
		"https://webhook.office.com.attacker.example/webhookb2/x":                                        false,
		"::not a url": false,
	} {
		if got := officeConnectorURL(u); got != want {
			t.Errorf("officeConnectorURL(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestRelayAndScript(t *testing.T) {
	cfg := mustParseFile(t, "testdata/valid/relay.yaml", noEnv)
	acme, _ := cfg.Client("acme")
	plain, _ := cfg.Client("plain")

	if got := acme.Script(); got.ID != "acme-branching" || len(got.Fields) != 12 {
		t.Errorf("acme script = %q with %d fields, want acme-branching with 12", got.ID, len(got.Fields))
	}
	if acme.ScriptRef != "../scripts/acme.yaml" || plain.ScriptRef != "simple" || plain.Script().Scope != intake.ScopeSimple {
		t.Errorf("script refs %q %q, plain scope %q", acme.ScriptRef, plain.ScriptRef, plain.Script().Scope)
	}
	s := acme.Script()
	s.Fields[0].Choices[0].Label = "changed"
	if acme.Script().Fields[0].Choices[0].Label == "changed" {
		t.Error("Script() shares its fields with the caller")
	}
	if !strings.HasPrefix(acme.Manual, "所在地: 東京都千代田区1-1\n") || plain.Manual != "" {
		t.Errorf("manual = %q / %q", acme.Manual, plain.Manual)
	}

	wantRules := []relay.Rule{
		{To: []string{"acme-mail"}},
		{Field: "purpose", Equals: "見積もり", To: []string{"acme-slack", "acme-cw"}},
		{Field: "urgent", Equals: "true", Urgent: true},
	}
	if got := acme.RelayRules(); !reflect.DeepEqual(got, wantRules) {
		t.Errorf("RelayRules = %+v, want %+v", got, wantRules)
	}
	if !reflect.DeepEqual(acme.RelayUrgent, []string{"acme-lw"}) || !acme.RelayMissedCalls || acme.RelayVoicemails {
		t.Errorf("urgent %v missed %v voicemails %v", acme.RelayUrgent, acme.RelayMissedCalls, acme.RelayVoicemails)
	}
	if acme.RelayTemplate == "" || plain.RelayTemplate != "" || plain.RelayRules() != nil {
		t.Errorf("template %q / %q, plain rules %v", acme.RelayTemplate, plain.RelayTemplate, plain.RelayRules())
	}
	got := relay.Route(relay.Message{Fields: map[string]string{"purpose": "見積もり"}}, acme.RelayRules(), acme.RelayUrgent)
	if want := []string{"acme-mail", "acme-slack", "acme-cw"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Route = %v, want %v", got, want)
	}

	if len(cfg.Destinations) != 8 {
		t.Fatalf("%d destinations", len(cfg.Destinations))
	}
	if d, ok := cfg.Destination("acme-line"); !ok || d.Type != relay.TypeLine || d.To != "C0123456789abcdef0123456789abcdef" || d.Token != "line-token" {
		t.Errorf("Destination(acme-line) = %+v, %v", d, ok)
	}
	wantMail := relay.Destination{Name: "acme-mail", Type: "email", Addr: "smtp.example.jp:587", From: "toritsugi@example.jp",
		To: "info@acme.example, boss@acme.example", Username: "u", Password: "p"}
	if d, ok := cfg.Destination("acme-mail"); !ok || d != wantMail {
		t.Errorf("Destination(acme-mail) = %+v, %v", d, ok)
	}
	if d, ok := cfg.Destination("acme-hook"); !ok || d.Secret != "s3cret" || d.Timeout.String() != "10s" {
		t.Errorf("Destination(acme-hook) = %+v, %v", d, ok)
	}
	if _, ok := cfg.Destination("nowhere"); ok {
		t.Error("unknown destination found")
	}
	hand := &Config{Destinations: []relay.Destination{{Name: "x"}}}
	if _, ok := hand.Destination("x"); !ok {
		t.Error("hand-built Config: Destination not found")
	}
	if (&Client{}).Script().Scope != intake.ScopeStandard {
		t.Error("a hand-built client does not get the standard preset")
	}
}

func TestRelaySecretsFromEnv(t *testing.T) {
	env := map[string]string{
		"TORITSUGI_RELAY_ACME_MAIL_PASSWORD": "from-env",
		"TORITSUGI_RELAY_ACME_CW_TOKEN":      "cw-env",
		"TORITSUGI_RELAY_ACME_HOOK_SECRET":   "hook-env",
		"TORITSUGI_RELAY_ACME_SLACK_SECRET":  "", // empty: ignored
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg := mustParseFile(t, "testdata/valid/relay.yaml", lookup)
	for name, want := range map[string]string{"acme-mail": "from-env", "acme-cw": "cw-env", "acme-hook": "hook-env"} {
		d, _ := cfg.Destination(name)
		if got := d.Password + d.Token + d.Secret; got != want {
			t.Errorf("%s secret = %q, want %q", name, got, want)
		}
	}
	if got := DestinationEnv("acme-mail", "password"); got != "TORITSUGI_RELAY_ACME_MAIL_PASSWORD" {
		t.Errorf("DestinationEnv = %q", got)
	}

	// A secret missing from the file may come from the environment only.
	doc := []byte("ari: {user: u, password: p}\ndata_dir: /d\nrelay:\n  destinations:\n" +
		"    - {name: h, type: webhook, url: \"https://h.example/\"}\n" + staff)
	if _, err := Parse("c.yaml", doc, noEnv); err == nil || !strings.Contains(err.Error(), "$TORITSUGI_RELAY_H_SECRET") {
		t.Errorf("without env: %v", err)
	}
	cfg, err := Parse("c.yaml", doc, func(k string) (string, bool) { return "s", k == "TORITSUGI_RELAY_H_SECRET" })
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := cfg.Destination("h"); d.Secret != "s" {
		t.Errorf("secret = %q", d.Secret)
	}
}

// TestRelaySecretVariablesMustNotCollide: destination acme's
// client_secret and acme-client's secret are both read from
// TORITSUGI_RELAY_ACME_CLIENT_SECRET: with it set, the file is refused at
// the second, naming the first (without it, each keeps its written
// value).
func TestRelaySecretVariablesMustNotCollide(t *testing.T) {
	doc := []byte("ari: {user: u, password: p}\ndata_dir: /d\nrelay:\n  destinations:\n" +
		"    - {name: acme, type: lineworks, bot_id: b, client_id: c, client_secret: written-a, service_account: s, private_key_file: k.pem}\n" +
		"    - {name: acme-client, type: webhook, url: \"https://h.example/\", secret: written-b}\n")
	_, err := Parse("c.yaml", doc, func(k string) (string, bool) { return "from-env", k == "TORITSUGI_RELAY_ACME_CLIENT_SECRET" })
	want := "c.yaml:6:77: relay.destinations[1].secret: $TORITSUGI_RELAY_ACME_CLIENT_SECRET is also the variable of relay.destinations[0].client_secret"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want one containing %q", err, want)
	}
	_, err = Parse("c.yaml", doc, noEnv)
	if err != nil && strings.Contains(err.Error(), "is also the variable") {
		t.Fatalf("without the variable set: %v", err)
	}
}

func TestScriptPathRelativeToConfigFile(t *testing.T) {
	data, err := os.ReadFile("testdata/valid/relay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The same text read from another directory misses the script.
	_, err = Parse("elsewhere/toritsugi.yaml", data, noEnv)
	if err == nil || !strings.Contains(err.Error(), `elsewhere/toritsugi.yaml:18:13: clients[0].script: cannot read script "../scripts/acme.yaml"`) {
		t.Errorf("err = %v", err)
	}
}

func TestReadScriptFileRefusesDirectories(t *testing.T) {
	if _, err := readScriptFile("testdata"); err == nil {
		t.Error("a directory was read as a script")
	}
}

// TestTemplateTriedOnEveryKind: a template is tried on an intake and on the
// missed-call and voicemail notices, which have no name, company or
// purpose: one that slices the purpose is refused at load, naming the kind
// it fails on, not when the first missed call is relayed.
func TestTemplateTriedOnEveryKind(t *testing.T) {
	doc := func(tmpl string) []byte {
		return []byte("ari: {user: u, password: p}\ndata_dir: /d\nrelay:\n  destinations:\n" +
			"    - {name: h, type: webhook, url: \"https://h.example/\", secret: s}\n" +
			"clients:\n  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: \"sound:g\", relay: {to: [h], template: '" + tmpl + "'}}\n" + anOperator)
	}
	if _, err := Parse("c.yaml", doc(`{{field "purpose"}}`), noEnv); err != nil {
		t.Fatalf("a template every kind renders: %v", err)
	}
	_, err := Parse("c.yaml", doc(`{{slice (field "purpose") 0 6}}`), noEnv)
	if err == nil || !strings.Contains(err.Error(), "clients[0].relay.template") || !strings.Contains(err.Error(), "missed-call message") {
		t.Fatalf("a template that fails on a missed call: %v", err)
	}
}

// TestLineWorksServiceAccount: a LINE WORKS destination either carries a
// token got elsewhere or the service account toritsugi gets tokens with:
// its private key file is read (relative to the configuration) and must
// be an RSA key; the client secret may come from the environment.
func TestLineWorksServiceAccount(t *testing.T) {
	dir := t.TempDir()
	keyPEM := testKeyPEM(t)
	if err := os.WriteFile(filepath.Join(dir, "private_lw.key"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.key"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := func(dest string) []byte {
		return []byte("ari: {user: u, password: p}\ndata_dir: /d\nrelay:\n  destinations:\n    - " + dest + "\n" + staff)
	}
	const sa = `{name: lw, type: lineworks, bot_id: "1", room_id: "2", client_id: cid, service_account: a@x.serviceaccount, private_key_file: private_lw.key`
	cfg, err := Parse(filepath.Join(dir, "toritsugi.yaml"), doc(sa+"}"), func(k string) (string, bool) {
		return "cs-env", k == "TORITSUGI_RELAY_LW_CLIENT_SECRET"
	})
	if err != nil {
		t.Fatalf("service account: %v", err)
	}
	d, _ := cfg.Destination("lw")
	if d.ClientID != "cid" || d.ClientSecret != "cs-env" || d.ServiceAccount != "a@x.serviceaccount" || d.PrivateKey != string(keyPEM) {
		t.Errorf("destination = %+v", d)
	}
	if _, err := Parse(filepath.Join(dir, "toritsugi.yaml"), doc(`{name: lw, type: lineworks, bot_id: "1", to: u1, token: t}`), noEnv); err != nil {
		t.Errorf("a token got elsewhere: %v", err)
	}
	for name, tc := range map[string]struct{ dest, want string }{
		"neither":        {`{name: lw, type: lineworks, bot_id: "1", room_id: "2"}`, "relay.destinations[0].client_id: is required for type lineworks"},
		"no secret":      {sa + "}", "client_secret: is required for type lineworks (in the file or as $TORITSUGI_RELAY_LW_CLIENT_SECRET)"},
		"no key file":    {`{name: lw, type: lineworks, bot_id: "1", room_id: "2", client_id: c, client_secret: s, service_account: a}`, "private_key_file: is required"},
		"missing key":    {strings.Replace(sa, "private_lw.key", "gone.key", 1) + ", client_secret: s}", `private_key_file: cannot read "gone.key"`},
		"not a key file": {strings.Replace(sa, "private_lw.key", "bad.key", 1) + ", client_secret: s}", `private_key_file: "bad.key": private key: no PEM block`},
	} {
		_, err := Parse(filepath.Join(dir, "toritsugi.yaml"), doc(tc.dest), noEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// TestMailSettingsThatCannotWork: port 465 (TLS from the first byte) is
// refused at load, rather than retried for hours. insecure with a password
// is not: insecure only allows a server without STARTTLS or with a
// certificate that does not verify, and a server elsewhere still gets the
// password over verified TLS only.
func TestMailSettingsThatCannotWork(t *testing.T) {
	doc := func(dest string) []byte {
		return []byte("ari: {user: u, password: p}\ndata_dir: /d\nrelay:\n  destinations:\n    - " + dest + "\n" + staff)
	}
	for name, tc := range map[string]struct{ dest, want string }{
		"port 465": {`{name: m, type: email, addr: "smtp.example.jp:465", from: a@example.jp, to: b@example.jp}`,
			"relay.destinations[0].addr: \"smtp.example.jp:465\": port 465 is SMTP inside TLS"},
	} {
		_, err := Parse("c.yaml", doc(tc.dest), noEnv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	for _, ok := range []string{
		`{name: m, type: email, addr: "127.0.0.1:25", from: a@example.jp, to: b@example.jp, username: u, password: p, insecure: true}`,
		`{name: m, type: email, addr: "smtp.example.jp:587", from: a@example.jp, to: b@example.jp, username: u, password: p, insecure: true}`,
		`{name: m, type: email, addr: "smtp.example.jp:587", from: a@example.jp, to: b@example.jp, username: u, password: p}`,
	} {
		if _, err := Parse("c.yaml", doc(ok), noEnv); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// testKeyPEM is a new RSA private key, PKCS #8 in PEM as LINE WORKS gives it.
func testKeyPEM(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// TestReloadReadsAReplacedKeyFile: a LINE WORKS key reissued and saved
// over the same file name is a change: a reload (SIGHUP) uses the new key.
// It used to be skipped as "config unchanged", the YAML being the same.
func TestReloadReadsAReplacedKeyFile(t *testing.T) {
	dir := t.TempDir()
	path, keyPath := filepath.Join(dir, "toritsugi.yaml"), filepath.Join(dir, "private_lw.key")
	writeFile(t, keyPath, string(testKeyPEM(t)))
	writeFile(t, path, "ari: {user: u, password: p}\ndata_dir: /d\nrelay:\n  destinations:\n    - {name: lw, type: lineworks, bot_id: \"1\", room_id: \"2\", client_id: cid, client_secret: s, service_account: a@x.serviceaccount, private_key_file: private_lw.key}\n"+staff)
	cfg, err := load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(path, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.env = noEnv
	if err := s.Reload(); err != nil { // as after any earlier reload
		t.Fatal(err)
	}
	fresh := testKeyPEM(t)
	writeFile(t, keyPath, string(fresh))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Current().Destination("lw"); d.PrivateKey != string(fresh) {
		t.Fatal("after the key file was replaced and a reload, the old key is still in use")
	}
}

// TestRuleThatNeverMatchesWarns: a relay rule on a field neither the
// client's script nor a message has (a typo), or on a value its choice
// or yes/no question cannot take, loads with a warning naming it; rules
// on a question's value or label, on a message's own fields and on the
// urgency load without one.
func TestRuleThatNeverMatchesWarns(t *testing.T) {
	yaml := `ari: {user: u, password: p}
data_dir: /d
relay:
  destinations:
    - {name: hook, type: webhook, url: "https://example.jp/hook", secret: s}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:x
    relay:
      to: [hook]
      rules:
        - {field: adressee, equals: 田中, to: [hook]}
        - {field: urgency, equals: urgnet, to: [hook]}
        - {field: callback_needed, equals: "true", to: [hook]}
        - {field: addressee, equals: 田中, to: [hook]}
        - {field: urgency, equals: urgent, to: [hook]}
        - {field: urgency, equals: 至急, to: [hook]}
        - {field: callback_needed, equals: はい, to: [hook]}
        - {field: kind, equals: missed-call, to: [hook]}
        - {field: urgent, equals: "true", to: [hook]}
        - {field: wait, equals: 0秒, to: [hook]}
        - {field: urgent, equals: はい, to: [hook]}
        - {field: kind, equals: missed_call, to: [hook]}
        - {field: urgency, equals: ｕｒｇｅｎｔ, to: [hook]}
` + anOperator
	cfg, err := Parse("rules.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, fmt.Sprintf("%d %s", w.Line, w.Path))
	}
	want := []string{
		"14 clients[0].relay.rules[0].field",
		"15 clients[0].relay.rules[1].equals",
		"16 clients[0].relay.rules[2].equals",
		"24 clients[0].relay.rules[10].equals",
		"25 clients[0].relay.rules[11].equals",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("warnings at %q, want %q: %v", got, want, cfg.Warnings)
	}
	if !strings.Contains(cfg.Warnings[0].Msg, `"adressee" is no question`) || !strings.Contains(cfg.Warnings[1].Msg, "urgent, 至急") {
		t.Errorf("warnings say %v", cfg.Warnings)
	}
}

// TestDestinationUsers: the clients whose routes (relay.to, a rule's to,
// relay.urgent) name a destination; none for one no client names.
func TestDestinationUsers(t *testing.T) {
	cfg := mustParseFile(t, "testdata/valid/relay.yaml", noEnv)
	for _, tt := range []struct {
		name string
		want []string
	}{
		{"acme-mail", []string{"acme"}}, // relay.to
		{"acme-cw", []string{"acme"}},   // a rule's to
		{"acme-lw", []string{"acme"}},   // relay.urgent
		{"nobody's", nil},
	} {
		if got := cfg.DestinationUsers(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("DestinationUsers(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
