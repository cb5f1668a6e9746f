package asteriskconf

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var shippedOperators = []Operator{
	{ID: "op1001", Name: "Operator 1001", Endpoint: "PJSIP/op1001"},
	{ID: "op1002", Name: "Operator 1002", Endpoint: "PJSIP/op1002"},
}

// TestCheckShipped: the kit as shipped reports exactly its placeholders
// (the passwords everyone can read, the example carrier), and nothing
// else once they are filled in.
func TestCheckShipped(t *testing.T) {
	var got []string
	for _, err := range Check(shippedDir, "toritsugi", shippedOperators) {
		var p *Problem
		if !errors.As(err, &p) {
			t.Fatalf("Check(shipped): %v is not a *Problem", err)
		}
		got = append(got, p.File+" ["+strings.SplitN(p.Msg, "]", 2)[0][1:]+"]")
	}
	want := []string{"ari.conf [toritsugi]", "pjsip.conf [trunk]", "pjsip.conf [trunk]",
		"pjsip.conf [op1001]", "pjsip.conf [op1002]", "pjsip.conf [op1003]", "pjsip.conf [op1004]"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Check(shipped) reported %v, want the placeholders %v", got, want)
	}
	if errs := Check(fillShipped(t), "toritsugi", shippedOperators); len(errs) != 0 {
		t.Fatalf("Check(shipped, filled in) = %v", errs)
	}
}

// TestCheckAcceptsExpressions: the DID argument may be any expression,
// commas and all: the number cut from the To header in the dialplan, as
// users of gateways have written it, or both forms in either context.
func TestCheckAcceptsExpressions(t *testing.T) {
	for _, c := range []struct{ from, to string }{
		{"Stasis(toritsugi,inbound,${EXTEN})", "Stasis(toritsugi,inbound,${CUT(CUT(PJSIP_HEADER(read,To),@,1),:,2)})"},
		{"Stasis(toritsugi,inbound,${EXTEN})", "Stasis(toritsugi,inbound,${FILTER(0-9+,${EXTEN})})"},
		{"Stasis(toritsugi,inbound,${EXTEN})", "Stasis(toritsugi,inbound,${EXTEN},to)"},
		{"Stasis(toritsugi,inbound,${EXTEN},to)", "Stasis(toritsugi,inbound,${CUT(CUT(PJSIP_HEADER(read,To),@,1),:,2)})"},
		// The forwarded-call alternative extensions.conf describes.
		{"Stasis(toritsugi,inbound,${EXTEN})", `Stasis(toritsugi,inbound,${IF($["${REDIRECTING(from-num)}" != ""]?${REDIRECTING(from-num)}:${EXTEN})})`},
	} {
		dir := fillShipped(t)
		path := filepath.Join(dir, "extensions.conf")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.ReplaceAll(string(b), c.from, c.to)
		if edited == string(b) {
			t.Fatalf("extensions.conf has no %s", c.from)
		}
		if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
		if errs := Check(dir, "toritsugi", shippedOperators); len(errs) != 0 {
			t.Errorf("%s: Check = %v", c.to, errs)
		}
	}
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"X.", "h", false}, {"X.", "03", true}, {"X.", "3", false}, {"X!", "3", true}, {".", "h", true}, {"!", "h", true},
		{"[0-9a-zA-Z+*#]!", "h", true}, {"[0-9a-zA-Z+*#]!", "s", true}, {"[0-9]!", "h", false}, {"+X.", "+81", true},
		{"NXX", "212", true}, {"NXX", "112", false}, {"Z", "0", false}, {"[a-g]", "h", false}, {"[", "h", false},
	} {
		if got := patternMatches(c.pattern, c.s); got != c.want {
			t.Errorf("patternMatches(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
	if got := splitArgs("a, ${CUT(${X},@,1)} ,b(c,d),{e,f}"); strings.Join(got, "|") != "a|${CUT(${X},@,1)}|b(c,d)|{e,f}" {
		t.Errorf("splitArgs = %q", got)
	}
}

// TestCheckGatewaySections: the commented home-gateway sections of
// pjsip.conf, uncommented and filled in as their comment says, are a
// configuration the check accepts: their endpoint's context exists and
// calls Stasis with the "to" argument, nothing is defined twice, and the
// placeholders are reported until they are filled in.
func TestCheckGatewaySections(t *testing.T) {
	dir := fillShipped(t)
	path := filepath.Join(dir, "pjsip.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile(filepath.Join(shippedDir, "pjsip.conf"))
	if err != nil {
		t.Fatal(err)
	}
	uncomment := func(text string) string {
		var out []string
		in := false
		for _, line := range strings.Split(text, "\n") {
			switch {
			case line == ";[hgw-auth]":
				in = true
			case in && !strings.HasPrefix(line, ";"):
				in = false
			}
			if in {
				line = strings.TrimPrefix(line, ";")
			}
			out = append(out, line)
		}
		return strings.Join(out, "\n")
	}
	withGateway := uncomment(string(b))
	if withGateway == string(b) || !strings.Contains(withGateway, "\n[hgw-reg]\ntype = registration") {
		t.Fatal("pjsip.conf has no commented [hgw-auth]…[hgw-reg] block to uncomment")
	}
	if err := os.WriteFile(path, []byte(withGateway), 0o644); err != nil {
		t.Fatal(err)
	}
	if errs := Check(dir, "toritsugi", shippedOperators); len(errs) != 0 {
		t.Fatalf("Check(with the gateway) = %v", errs)
	}
	// The registration never gives up: Asterisk's defaults stop it for
	// good after 10 failures or one refusal (a gateway's reboot).
	reg, ok := objectOfType(mustParseFile(t, path), "hgw-reg", "registration")
	if !ok {
		t.Fatal("no [hgw-reg] registration once uncommented")
	}
	for k, want := range map[string]string{"max_retries": "10000", "forbidden_retry_interval": "60", "fatal_retry_interval": "60", "auth_rejection_permanent": "no"} {
		if v, _ := reg.Get(k); v != want {
			t.Errorf("[hgw-reg] %s = %q, want %q", k, v, want)
		}
	}
	// As shipped, the gateway's placeholders are reported.
	if err := os.WriteFile(path, []byte(uncomment(string(shipped))), 0o644); err != nil {
		t.Fatal(err)
	}
	var hgw []string
	for _, err := range Check(dir, "toritsugi", shippedOperators) {
		if strings.Contains(err.Error(), "[hgw") {
			hgw = append(hgw, err.Error())
		}
	}
	if len(hgw) == 0 {
		t.Error("the gateway's CHANGE_ME placeholders were not reported")
	}
}

// fillShipped copies the shipped configuration into a temporary directory
// with its placeholders filled in, as a user would.
func fillShipped(t *testing.T) string {
	t.Helper()
	dir := copyShipped(t)
	for _, name := range []string{"ari.conf", "pjsip.conf"} {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		filled := strings.ReplaceAll(string(b), "CHANGE_ME_", "Zq8w-7hT2-")
		filled = strings.ReplaceAll(filled, "203.0.113.10", "10.20.30.40")
		if err := os.WriteFile(path, []byte(filled), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckFindsProblems(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		edit   func(string) string // applied to file's content
		app    string
		ops    []Operator
		want   string // substring of one returned error
		isProb bool   // the error is a *Problem
	}{
		{name: "wrong app", app: "other", want: "want Stasis(other,inbound", isProb: true},
		{name: "unknown operator", ops: []Operator{{ID: "op1005", Endpoint: "PJSIP/op1005"}}, want: `no endpoint [op1005]`, isProb: true},
		{name: "non-pjsip operator", ops: []Operator{{ID: "x", Endpoint: "SIP/x"}}, want: "not PJSIP"},
		{name: "no fallback", file: "extensions.conf",
			edit: func(s string) string {
				return strings.ReplaceAll(s, ` same => n,GotoIf($["${STASISSTATUS}" = "FAILED"]?fallback)`, "")
			},
			want: "no STASISSTATUS = FAILED fallback", isProb: true},
		{name: "no inbound arg", file: "extensions.conf",
			edit: func(s string) string {
				return strings.ReplaceAll(s, "Stasis(toritsugi,inbound,${EXTEN})", "Stasis(toritsugi,${EXTEN})")
			},
			want: "want Stasis(toritsugi,inbound", isProb: true},
		{name: "an argument after the extension other than to", file: "extensions.conf",
			edit: func(s string) string {
				return strings.ReplaceAll(s, "Stasis(toritsugi,inbound,${EXTEN},to)", "Stasis(toritsugi,inbound,${EXTEN},from)")
			},
			want: "calls Stasis(toritsugi,inbound,${EXTEN},from), want Stasis(toritsugi,inbound,${EXTEN})", isProb: true},
		{name: "no DID argument", file: "extensions.conf",
			edit: func(s string) string {
				return strings.Replace(s, "Stasis(toritsugi,inbound,${EXTEN})", "Stasis(toritsugi,inbound)", 1)
			},
			want: "want Stasis(toritsugi,inbound,${EXTEN})", isProb: true},
		{name: "gateway pattern without an h extension", file: "extensions.conf",
			edit: func(s string) string {
				return strings.Replace(s, "exten => h,1,NoOp(toritsugi: gateway call ended)", "", 1)
			},
			want: "pattern _[0-9a-zA-Z+*#]! also matches h", isProb: true},
		{name: "ARI over plain HTTP on every address", file: "http.conf",
			edit: func(s string) string { return strings.Replace(s, "bindaddr = 127.0.0.1", "bindaddr = 0.0.0.0", 1) },
			want: "bindaddr = 0.0.0.0 serves ARI over plain HTTP beyond this host", isProb: true},
		{name: "ARI over TLS on every IPv4 address", file: "http.conf",
			edit: func(s string) string {
				return strings.Replace(s, ";tlsenable = yes\n;tlsbindaddr = 10.8.0.1:8089", "tlsenable = yes\ntlsbindaddr = 0.0.0.0:8089", 1)
			},
			want: "tlsbindaddr = 0.0.0.0:8089 serves ARI on every address", isProb: true},
		{name: "ARI over TLS on every IPv6 address", file: "http.conf",
			edit: func(s string) string {
				return strings.Replace(s, ";tlsenable = yes\n;tlsbindaddr = 10.8.0.1:8089", "tlsenable = yes\ntlsbindaddr = [::]:8089", 1)
			},
			want: "tlsbindaddr = [::]:8089 serves ARI on every address", isProb: true},
		{name: "an ARI user defined twice", file: "ari.conf",
			edit: func(s string) string { return s + "\n[toritsugi]\ntype = user\npassword = other\n" },
			want: "ARI user [toritsugi] is defined twice", isProb: true},
		{name: "no from-trunk", file: "extensions.conf",
			edit: func(s string) string { return strings.ReplaceAll(s, "[from-trunk]", "[from-carrier]") },
			want: "no [from-trunk] context", isProb: true},
		{name: "no stasis at all", file: "extensions.conf",
			edit: func(s string) string { return strings.ReplaceAll(s, "Stasis(", "NoOp(") },
			want: "never calls Stasis", isProb: true},
		{name: "ari disabled", file: "ari.conf",
			edit: func(s string) string { return strings.Replace(s, "enabled = yes", "enabled = no", 1) },
			want: "ARI is disabled", isProb: true},
		{name: "no ari user", file: "ari.conf",
			edit: func(s string) string { return strings.Replace(s, "type = user", "type = other", 1) },
			want: "no ARI user", isProb: true},
		{name: "ari user without password", file: "ari.conf",
			edit: func(s string) string { return strings.Replace(s, "password = Zq8w-7hT2-ari_password", "password =", 1) },
			want: "has no password", isProb: true},
		{name: "http disabled", file: "http.conf",
			edit: func(s string) string { return strings.Replace(s, "enabled = yes", "enabled = no", 1) },
			want: "HTTP server not enabled", isProb: true},
		{name: "http no bindaddr", file: "http.conf",
			edit: func(s string) string { return strings.Replace(s, "bindaddr = 127.0.0.1", "", 1) },
			want: "no bindaddr", isProb: true},
		{name: "operator without auth", file: "pjsip.conf",
			edit: func(s string) string { return strings.Replace(s, "auth = op1001\n", "", 1) },
			want: "endpoint [op1001] has no auth", isProb: true},
		{name: "operator aor missing", file: "pjsip.conf",
			edit: func(s string) string { return strings.Replace(s, "aors = op1002\n", "aors = op1002x\n", 1) },
			want: `names aors "op1002x"`, isProb: true},
		{name: "operator endpoint template lost its type", file: "pjsip.conf",
			edit: func(s string) string {
				return strings.Replace(s, "[operator-endpoint](!)\ntype = endpoint", "[operator-endpoint](!)\n", 1)
			},
			want: "no endpoint [op1001]", isProb: true},
		{name: "no identify", file: "pjsip.conf",
			edit: func(s string) string { return strings.Replace(s, "type = identify", "type = aor", 1) },
			want: "no trunk identify", isProb: true},
		{name: "identify without match", file: "pjsip.conf",
			edit: func(s string) string { return strings.Replace(s, "match = 10.20.30.40", "", 1) },
			want: "has no match", isProb: true},
		{name: "identify of unknown endpoint", file: "pjsip.conf",
			edit: func(s string) string { return strings.Replace(s, "endpoint = trunk", "endpoint = carrier", 1) },
			want: `names endpoint "carrier"`, isProb: true},
		{name: "trunk context missing", file: "pjsip.conf",
			edit: func(s string) string { return strings.Replace(s, "context = from-trunk", "context = nowhere", 1) },
			want: `context "nowhere"`, isProb: true},
		{name: "operators pasted next to the kit's own", file: "pjsip.conf",
			edit: func(s string) string {
				return s + "\n[op1002](operator-endpoint)\nauth = op1002\naors = op1002\n[op1002](operator-auth)\nusername = op1002\npassword = x\n"
			},
			want: "[op1002] type = endpoint is defined twice (first at line", isProb: true},
		{name: "placeholder password", file: "ari.conf",
			edit: func(s string) string {
				return strings.Replace(s, "password = Zq8w-7hT2-ari_password", "password = CHANGE_ME", 1)
			},
			want: `[toritsugi] password is still the kit's placeholder "CHANGE_ME"`, isProb: true},
		{name: "example carrier", file: "pjsip.conf",
			edit: func(s string) string { return strings.Replace(s, "match = 10.20.30.40", "match = 198.51.100.0/24", 1) },
			want: "[trunk] match = 198.51.100.0/24 is an example address", isProb: true},
		{name: "syntax error", file: "pjsip.conf",
			edit: func(s string) string { return s + "\nbroken line\n" },
			want: "pjsip.conf:"},
		{name: "missing file", file: "http.conf", want: "http.conf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fillShipped(t)
			if tt.file != "" {
				path := filepath.Join(dir, tt.file)
				if tt.edit == nil {
					if err := os.Remove(path); err != nil {
						t.Fatal(err)
					}
				} else {
					b, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					edited := tt.edit(string(b))
					if edited == string(b) {
						t.Fatalf("edit changed nothing in %s", tt.file)
					}
					if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			app := tt.app
			if app == "" {
				app = "toritsugi"
			}
			ops := tt.ops
			if ops == nil {
				ops = shippedOperators
			}
			errs := Check(dir, app, ops)
			var hit error
			for _, err := range errs {
				if strings.Contains(err.Error(), tt.want) {
					hit = err
				}
			}
			if hit == nil {
				t.Fatalf("Check = %v, want an error containing %q", errs, tt.want)
			}
			var p *Problem
			if got := errors.As(hit, &p); got != tt.isProb {
				t.Errorf("errors.As(%v, *Problem) = %v, want %v", hit, got, tt.isProb)
			}
			if tt.isProb && !errors.Is(hit, ErrCheck) {
				t.Errorf("%v is not ErrCheck", hit)
			}
			if tt.name == "missing file" && !errors.Is(hit, fs.ErrNotExist) {
				t.Errorf("%v is not fs.ErrNotExist", hit)
			}
		})
	}
}

// copyShipped copies the shipped configuration into a temporary directory.
func copyShipped(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	paths, err := filepath.Glob(filepath.Join(shippedDir, "*.conf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shipped files: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteString("\n" + text); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDocumentationAddress(t *testing.T) {
	for v, want := range map[string]bool{
		"203.0.113.10":                    true,
		"sip:203.0.113.10:5060":           true,
		"sip:trunk@198.51.100.7":          true,
		"10.0.0.1, 192.0.2.0/24":          true,
		"sip:[2001:db8::1]:5060":          true,
		"2001:db8::5":                     true,
		"203.0.114.10":                    false,
		"sip:sip.carrier.example.jp:5060": false,
		"10.20.30.40/32":                  false,
		"":                                false,
		"CHANGE_ME_op1001":                false,
	} {
		if got := documentationAddress(v); got != want {
			t.Errorf("documentationAddress(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestShippedFallbackDoesNotAnswer: when toritsugi is down, the shipped
// dialplan tells callers to try again later without answering (early
// media: no charge for a call nobody took) and refuses the call with SIP
// 480 (Hangup(41) would send 603 Decline), never "not in service"; and a
// withheld number is masked before anything logs it, the name not logged.
func TestShippedFallbackDoesNotAnswer(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(shippedDir, "extensions.conf"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("extensions.conf", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	stasis := 0
	for _, sec := range f.Sections {
		for _, ext := range extensions(Object{Name: sec.Name, Entries: sec.Entries}) {
			var fallback []string
			in, masked, calls := false, false, false
			for _, step := range ext.steps {
				v := step.Value
				if strings.Contains(v, `Set(CALLERID(num)=anonymous)`) {
					masked = true
				}
				if strings.Contains(v, "CALLERID(all)") || strings.Contains(v, "CALLERID(num)") && !masked {
					t.Errorf("[%s] %s line %d logs the caller's name, or their number before a withheld one is masked", sec.Name, ext.pattern, step.Line)
				}
				if _, ok := appArgs(v, "Stasis"); ok {
					calls = true
				}
				// The labelled step (the label is not in the step's value).
				if strings.Contains(v, "toritsugi unavailable") {
					in = true
				}
				if in {
					fallback = append(fallback, v)
				}
			}
			if !calls {
				continue
			}
			stasis++
			all := strings.Join(fallback, "\n")
			if len(fallback) == 0 || strings.Contains(all, "Answer(") || strings.Contains(all, "ss-noservice") ||
				!strings.Contains(all, "Progress()") || !strings.Contains(all, ",noanswer)") ||
				strings.TrimSpace(fallback[len(fallback)-1]) != "PJSIPHangup(480)" {
				t.Errorf("[%s] %s fallback:\n%s\nwant Progress(), a Playback(…,noanswer) that is not ss-noservice, then PJSIPHangup(480), and no Answer()", sec.Name, ext.pattern, all)
			}
		}
	}
	if stasis != 4 {
		t.Errorf("%d extensions call Stasis, want 4 (trunk national, E.164 and registration contact, gateway)", stasis)
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.53": true, "::1": true, "[::1]": true, "localhost": true,
		"127.0.0.1:8088": true, "[::1]:8088": true, "0.0.0.0:8088": false,
		"0.0.0.0": false, "::": false, "192.168.1.10": false, "asterisk.example": false, "": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestEveryAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"0.0.0.0": true, "0.0.0.0:8089": true, "::": true, "[::]": true, "[::]:8089": true,
		" 0.0.0.0:8089 ": true, "10.8.0.1:8089": false, "10.8.0.1": false, "127.0.0.1:8089": false,
		"[fd00::1]:8089": false, "[::1]:8089": false, "asterisk.example:8089": false, "": false,
	} {
		if got := everyAddress(addr); got != want {
			t.Errorf("everyAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestCheckTLSOnAPrivateAddress: the TLS variant of http.conf, on a
// private or VPN address (or on bindaddr, tlsbindaddr left out), or a
// wildcard tlsbindaddr with TLS off, is accepted.
func TestCheckTLSOnAPrivateAddress(t *testing.T) {
	for name, tls := range map[string]string{
		"private address":       "tlsenable = yes\ntlsbindaddr = 10.8.0.1:8089",
		"IPv6 private address":  "tlsenable = yes\ntlsbindaddr = [fd00::1]:8089",
		"bindaddr's, port 8089": "tlsenable = yes",
		"TLS off":               "tlsenable = no\ntlsbindaddr = 0.0.0.0:8089",
	} {
		t.Run(name, func(t *testing.T) {
			dir := fillShipped(t)
			path := filepath.Join(dir, "http.conf")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(b, "\n"+tls+"\n"...), 0o644); err != nil {
				t.Fatal(err)
			}
			if errs := Check(dir, "toritsugi", shippedOperators); len(errs) != 0 {
				t.Errorf("Check = %v, want none", errs)
			}
		})
	}
}
