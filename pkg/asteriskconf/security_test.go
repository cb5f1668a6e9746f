package asteriskconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShippedTakesNoSIPMessage: res_pjsip_messaging (loaded by autoload)
// would run an endpoint's dialplan context for an out-of-dialog SIP
// MESSAGE (rx_data_to_ast_msg, msg_route): from the trunk's address, one
// UDP packet needing no handshake, that is from-trunk's Stasis or its
// fallback, which tells the client of a missed call. toritsugi takes no
// text messages: the module is not loaded.
func TestShippedTakesNoSIPMessage(t *testing.T) {
	mods := mustParseFile(t, filepath.Join(shippedDir, "modules.conf"))
	for _, o := range mods.Lookup("modules") {
		for _, e := range o.Entries {
			if e.Key == "noload" && strings.TrimSpace(e.Value) == "res_pjsip_messaging.so" {
				return
			}
		}
	}
	t.Error("modules.conf loads res_pjsip_messaging: a SIP MESSAGE runs the dialplan")
}

// TestShippedLogsSecurityEvents: failed registrations (InvalidPassword,
// ChallengeResponseFailed, InvalidAccountID) go only to a logger channel
// that lists "security": a file one, for fail2ban and an audit.
func TestShippedLogsSecurityEvents(t *testing.T) {
	f := mustParseFile(t, filepath.Join(shippedDir, "logger.conf"))
	for _, o := range f.Lookup("logfiles") {
		for _, e := range o.Entries {
			for _, lvl := range strings.Split(e.Value, ",") {
				if strings.TrimSpace(lvl) == "security" && e.Key != "console" {
					return
				}
			}
		}
	}
	t.Error("logger.conf logs no security events to a file")
}

// TestShippedTrunkTakesNoTransferOrSubscription: the trunk is trusted by
// its source address (spoofable over UDP) and needs neither REFER nor
// SUBSCRIBE, both allowed by default.
func TestShippedTrunkTakesNoTransferOrSubscription(t *testing.T) {
	f := mustParseFile(t, filepath.Join(shippedDir, "pjsip.conf"))
	ep, ok := objectOfType(f, "trunk", "endpoint")
	if !ok {
		t.Fatal("no [trunk] endpoint")
	}
	for _, k := range []string{"allow_transfer", "allow_subscribe"} {
		if v, _ := ep.Get(k); truthy(v) || v == "" {
			t.Errorf("[trunk] %s = %q, want no", k, v)
		}
	}
}

// TestWeakPasswordsRefused: an operator's SIP password, printed or found
// by --check, and the ARI password, are at least MinPasswordLen
// characters and not mostly the user name: softphones register across
// the Internet and PJSIP locks no one out; ARI can dial out through the
// trunk.
func TestWeakPasswordsRefused(t *testing.T) {
	for _, pw := range []string{"secret", "op1001-op1001", "OP1001op1001x"} {
		if err := RenderOperators(&strings.Builder{}, shippedOperators[:1], func(string) string { return pw }); err == nil {
			t.Errorf("RenderOperators accepted the SIP password %q", pw)
		}
	}
	if err := RenderOperators(&strings.Builder{}, shippedOperators[:1], func(string) string { return "op1001-Kq7x-93hT" }); err != nil {
		t.Errorf("RenderOperators refused a password of 10 random characters and the user name: %v", err)
	}
	for _, tc := range []struct{ file, from, to, want string }{
		{"pjsip.conf", "password = Zq8w-7hT2-op1001", "password = op1001", `operator "op1001": auth [op1001]: the password is shorter than 12`},
		{"pjsip.conf", "password = Zq8w-7hT2-op1001", "password = op1001op1001op1001", `the password is mostly its user name`},
		{"ari.conf", "password = Zq8w-7hT2-ari_password", "password = asterisk", `ARI user "toritsugi": the password is shorter than 12`},
	} {
		dir := fillShipped(t)
		path := filepath.Join(dir, tc.file)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.from) {
			t.Fatalf("%s has no %q", tc.file, tc.from)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(b), tc.from, tc.to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range Check(dir, "toritsugi", shippedOperators) {
			got = append(got, e.Error())
		}
		if !strings.Contains(strings.Join(got, "\n"), tc.want) {
			t.Errorf("%s %q: Check = %q, want %q", tc.file, tc.to, got, tc.want)
		}
	}
}

// TestFallbackLogsNoCallerNumber: the fallback's WARNING in messages.log
// names the call and the number dialled (URI-encoded: a line break in a
// forged Request-URI must not start a log line of its own), not the
// caller, whose number is in the fallback file toritsugi reads (an
// erasure does not reach messages.log).
func TestFallbackLogsNoCallerNumber(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(shippedDir, "extensions.conf"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "Log(") || strings.HasPrefix(strings.TrimSpace(line), ";") {
			continue
		}
		n++
		if strings.Contains(line, "CALLERID") || strings.Contains(line, "{EXTEN}") && !strings.Contains(line, "URIENCODE(${EXTEN})") ||
			strings.Contains(line, "PJSIP_HEADER") && !strings.Contains(line, "URIENCODE(${PJSIP_HEADER") {
			t.Errorf("a fallback log line logs the caller or a raw header: %s", line)
		}
	}
	if n != 4 {
		t.Errorf("%d Log() lines, want the fallback's 4", n)
	}
}

// TestShippedDialplanBalanced: every step of the shipped dialplan, as
// Asterisk reads it (comments stripped: an unescaped ';' starts one),
// ends its application's parentheses and every ${...}. A ';' in a
// fallback Log() message cut the line: Asterisk took the data up to the
// last ')' it found, inside ${URIENCODE(...)}, and every fallback call
// logged an error instead of the call (a review found it).
func TestShippedDialplanBalanced(t *testing.T) {
	f := mustParseFile(t, filepath.Join(shippedDir, "extensions.conf"))
	n := 0
	for _, o := range f.Objects() {
		for _, e := range o.Entries {
			v := strings.TrimSpace(e.Value)
			if !strings.Contains(v, "(") {
				continue
			}
			n++
			if !strings.HasSuffix(v, ")") || strings.Count(v, "(") != strings.Count(v, ")") || strings.Count(v, "${") > strings.Count(v, "}") {
				t.Errorf("[%s] line %d, as Asterisk reads it: %q", o.Name, e.Line, v)
			}
		}
	}
	if n < 20 {
		t.Fatalf("%d steps with an application read", n)
	}
}
