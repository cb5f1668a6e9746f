package asteriskconf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// shippedDir is the configuration users install, kept in the repository.
const shippedDir = "../../asterisk-conf"

func TestParseShippedFiles(t *testing.T) {
	// Sections every shipped file must have, in order of appearance.
	want := map[string][]string{
		"asterisk.conf":    {"options"},
		"modules.conf":     {"modules"},
		"logger.conf":      {"general", "logfiles"},
		"http.conf":        {"general"},
		"ari.conf":         {"general", "toritsugi"},
		"rtp.conf":         {"general"},
		"musiconhold.conf": {"default"},
		"extensions.conf":  {"general", "globals", "from-trunk", "from-hgw", "from-operators", "toritsugi-internal"},
		"pjsip.conf": {"global", "transport-udp", "transport-tcp", "trunk-endpoint", "operator-endpoint",
			"operator-auth", "operator-aor", "trunk", "trunk", "trunk", "op1001", "op1001", "op1001",
			"op1002", "op1002", "op1002", "op1003", "op1003", "op1003", "op1004", "op1004", "op1004"},
	}
	paths, err := filepath.Glob(filepath.Join(shippedDir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(want) {
		t.Errorf("shipped %d .conf files, want %d: %v", len(paths), len(want), paths)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			f := mustParseFile(t, path)
			var got []string
			for _, s := range f.Sections {
				got = append(got, s.Name)
			}
			if !reflect.DeepEqual(got, want[name]) {
				t.Errorf("sections = %q, want %q", got, want[name])
			}
		})
	}
}

func TestShippedValues(t *testing.T) {
	tests := []struct {
		file, section, typ, key, want string
	}{
		{"http.conf", "general", "", "bindaddr", "127.0.0.1"},
		{"http.conf", "general", "", "bindport", "8088"},
		{"ari.conf", "general", "", "pretty", "no"},
		{"ari.conf", "toritsugi", "user", "password", "CHANGE_ME_ari_password"},
		{"rtp.conf", "general", "", "rtpstart", "10000"},
		{"rtp.conf", "general", "", "rtpend", "20000"},
		{"rtp.conf", "general", "", "strictrtp", "yes"},
		{"rtp.conf", "general", "", "icesupport", "no"},
		{"musiconhold.conf", "default", "", "mode", "files"},
		{"musiconhold.conf", "default", "", "directory", "moh"},
		{"modules.conf", "modules", "", "autoload", "yes"},
		// ${EXTEN} without ;npdi and the like: toritsugi takes digits only
		{"pjsip.conf", "global", "global", "ignore_uri_user_options", "yes"},
		{"pjsip.conf", "transport-udp", "transport", "protocol", "udp"},
		{"pjsip.conf", "transport-tcp", "transport", "protocol", "tcp"},
		{"pjsip.conf", "trunk", "endpoint", "context", "from-trunk"},
		{"pjsip.conf", "trunk", "endpoint", "direct_media", "no"},
		{"pjsip.conf", "trunk", "identify", "endpoint", "trunk"},
		{"pjsip.conf", "op1001", "endpoint", "context", "from-operators"},
		{"pjsip.conf", "op1001", "endpoint", "dtmf_mode", "rfc4733"},
		{"pjsip.conf", "op1001", "endpoint", "rtp_symmetric", "yes"},
		{"pjsip.conf", "op1001", "endpoint", "force_rport", "yes"},
		{"pjsip.conf", "op1001", "endpoint", "rewrite_contact", "yes"},
		{"pjsip.conf", "op1001", "endpoint", "callerid", `"Operator 1001" <op1001>`},
		// a softphone's Transfer would take the caller out of toritsugi's hands
		{"pjsip.conf", "op1001", "endpoint", "allow_transfer", "no"},
		{"pjsip.conf", "op1001", "endpoint", "rtp_timeout", "60"},
		{"pjsip.conf", "op1001", "endpoint", "rtp_timeout_hold", "600"},
		{"pjsip.conf", "op1001", "auth", "auth_type", "userpass"},
		{"pjsip.conf", "op1002", "aor", "max_contacts", "1"},
		{"pjsip.conf", "op1002", "aor", "remove_existing", "yes"},
		{"pjsip.conf", "op1002", "aor", "qualify_frequency", "30"},
		// a contact lost with the astdb comes back within 10 minutes
		{"pjsip.conf", "op1002", "aor", "maximum_expiration", "600"},
		{"pjsip.conf", "op1002", "aor", "default_expiration", "600"},
	}
	files := map[string]*File{}
	for _, tt := range tests {
		f := files[tt.file]
		if f == nil {
			f = mustParseFile(t, filepath.Join(shippedDir, tt.file))
			files[tt.file] = f
		}
		var got string
		found := false
		for _, o := range f.Lookup(tt.section) {
			if tt.typ == "" || o.Type() == tt.typ {
				got, found = o.Get(tt.key)
				break
			}
		}
		if !found || got != tt.want {
			t.Errorf("%s [%s] %s: %s = %q (found %v), want %q", tt.file, tt.section, tt.typ, tt.key, got, found, tt.want)
		}
	}
}

func TestShippedDialplanPassesDIDAsSecondArg(t *testing.T) {
	f := mustParseFile(t, filepath.Join(shippedDir, "extensions.conf"))
	patterns := map[string]bool{}
	for _, ext := range extensions(f.Lookup("from-trunk")[0]) {
		for _, step := range ext.steps {
			if args, ok := appArgs(step.Value, "Stasis"); ok {
				want := []string{"toritsugi", "inbound", "${EXTEN}"}
				if ext.pattern == "s" { // a registration's contact: the number is in To
					want = append(want, "to")
				}
				if !reflect.DeepEqual(args, want) {
					t.Errorf("%s: Stasis args %q, want %q", ext.pattern, args, want)
				}
				patterns[ext.pattern] = true
			}
		}
	}
	if !patterns["_X."] || !patterns["_+X."] || !patterns["s"] {
		t.Errorf("Stasis called from %v, want _X., _+X. and s", patterns)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *File
	}{
		{
			name: "sections templates inheritance",
			in:   "; head\n[tpl](!)\ntype = endpoint ; trailing\n\n[other]\n[a](tpl, other)\nkey=value\n[b](!,tpl)\n[b](+)\nx = 1\n",
			want: &File{Name: "t.conf", Sections: []Section{
				{Name: "tpl", Template: true, Line: 2, Entries: []Entry{{Key: "type", Value: "endpoint", Line: 3}}},
				{Name: "other", Line: 5},
				{Name: "a", Inherits: []string{"tpl", "other"}, Line: 6, Entries: []Entry{{Key: "key", Value: "value", Line: 7}}},
				{Name: "b", Template: true, Inherits: []string{"tpl"}, Line: 8},
				{Name: "b", Append: true, Line: 9, Entries: []Entry{{Key: "x", Value: "1", Line: 10}}},
			}},
		},
		{
			name: "dialplan arrows and same",
			in:   "[ctx]\nexten => _X.,1,NoOp(a=b)\n same => n,Stasis(app,inbound,${EXTEN})\n",
			want: &File{Name: "t.conf", Sections: []Section{{Name: "ctx", Line: 1, Entries: []Entry{
				{Key: "exten", Value: "_X.,1,NoOp(a=b)", Arrow: true, Line: 2},
				{Key: "same", Value: "n,Stasis(app,inbound,${EXTEN})", Arrow: true, Line: 3},
			}}}},
		},
		{
			name: "includes escapes block comments",
			in:   "#include \"users.conf\"\n#tryinclude extra.conf\n[s]\npw = a\\;b ; c\n;-- gone\nstill = gone --; kept = 1\nempty =\n",
			want: &File{Name: "t.conf",
				Includes: []Include{{Directive: "include", Path: "users.conf", Line: 1}, {Directive: "tryinclude", Path: "extra.conf", Line: 2}},
				Sections: []Section{{Name: "s", Line: 3, Entries: []Entry{
					{Key: "pw", Value: "a;b", Line: 4},
					{Key: "kept", Value: "1", Line: 6},
					{Key: "empty", Value: "", Line: 7},
				}}}},
		},
		{
			name: "empty input",
			in:   "",
			want: &File{Name: "t.conf"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			got, err := Parse("t.conf", strings.NewReader(in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"entry before section", "key = v\n", 1, "outside any [section]"},
		{"no equals", "[s]\n\njust words\n", 3, "expected key = value"},
		{"missing key", "[s]\n = v\n", 2, "missing key"},
		{"unclosed header", "[s]\n[broken\n", 2, "without ]"},
		{"empty name", "[ ]\n", 1, "empty section name"},
		{"junk after header", "[s] x\n", 1, "unexpected"},
		{"unknown template", "[s](nope)\n", 1, `inherits from "nope"`},
		{"empty template", "[t]\n[s](t,)\n", 2, "empty template name"},
		{"append to nothing", "[s](+)\n", 1, "does not exist yet"},
		{"unknown directive", "#define X\n", 1, "unknown directive"},
		{"include without file", "#include\n", 1, "without a file name"},
		{"unterminated block", "[s]\n;-- open\na = b\n", 2, "unterminated"},
		{"nul byte", "[s]\na = \x00\n", 2, "NUL"},
		{"long line", "[s]\na = " + strings.Repeat("x", maxLine) + "\n", 2, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.conf", strings.NewReader(tt.in))
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("err = %v, want ErrSyntax", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err %T is not *ParseError", err)
			}
			if pe.File != "bad.conf" || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("err = %v, want bad.conf:%d: ...%s...", err, tt.line, tt.msg)
			}
			if prefix := "bad.conf:"; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), prefix)
			}
		})
	}
}

func TestObjectsInheritance(t *testing.T) {
	in := "[base](!)\ntype = endpoint\nallow = ulaw\n[mid](!,base)\nallow = alaw\n[op](mid)\nauth = op\n[op](+)\naors = op\n"
	f, err := Parse("t.conf", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	ops := f.Lookup("op")
	if len(ops) != 1 {
		t.Fatalf("Lookup(op) = %d objects, want 1", len(ops))
	}
	op := ops[0]
	for key, want := range map[string]string{"type": "endpoint", "allow": "alaw", "auth": "op", "aors": "op"} {
		if got, _ := op.Get(key); got != want {
			t.Errorf("op %s = %q, want %q", key, got, want)
		}
	}
	if got := f.Lookup("base"); len(got) != 0 {
		t.Errorf("Lookup(base) returned template: %+v", got)
	}
	if _, ok := op.Get("missing"); ok {
		t.Error("Get(missing) found a value")
	}
}

func mustParseFile(t *testing.T, path string) *File {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	f, err := Parse(filepath.Base(path), fh)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// TestInstallStepsCopyEveryFileButAsteriskConf: the install commands of
// both READMEs copy every shipped file, so that a file added to the kit is
// not left out, and never asterisk.conf, which would replace the user's
// (the user Asterisk runs as).
func TestInstallStepsCopyEveryFileButAsteriskConf(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(shippedDir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range paths {
		if name := filepath.Base(p); name != "asterisk.conf" {
			want = append(want, name)
		}
	}
	for _, readme := range []string{filepath.Join(shippedDir, "README.md"), "../../README.md"} {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for line := range strings.Lines(string(b)) {
			_, cmd, ok := strings.Cut(line, "sudo install -m 640 -o root -g asterisk ")
			if !ok || !strings.Contains(cmd, "/etc/asterisk/") {
				continue
			}
			found++
			cmd, _, _ = strings.Cut(cmd, "/etc/asterisk/")
			var got []string
			for _, f := range strings.Fields(cmd) {
				if strings.HasSuffix(f, ".conf") {
					got = append(got, filepath.Base(f))
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %q copies %q, want %q", readme, strings.TrimSpace(line), got, want)
			}
		}
		if found != 1 {
			t.Errorf("%s: %d install commands copying to /etc/asterisk/, want 1", readme, found)
		}
	}
}

// TestShippedTransportsAllHaveNATLines: behind NAT every transport needs
// external_media_address, external_signaling_address and local_net (each
// transport applies its own), so each transport of pjsip.conf, the
// commented TLS one included, carries the three lines to uncomment.
func TestShippedTransportsAllHaveNATLines(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(shippedDir, "pjsip.conf"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{}
	name := ""
	for line := range strings.Lines(string(b)) {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			name = ""
		case strings.HasPrefix(strings.TrimLeft(trimmed, ";"), "[transport-"):
			name = strings.TrimLeft(trimmed, ";")
		case name != "":
			blocks[name] += trimmed + "\n"
		}
	}
	for _, want := range []string{"[transport-udp]", "[transport-tcp]", "[transport-tls]"} {
		if _, ok := blocks[want]; !ok {
			t.Errorf("pjsip.conf has no %s", want)
		}
	}
	for name, text := range blocks {
		for _, key := range []string{"external_media_address", "external_signaling_address", "local_net"} {
			if !strings.Contains(text, key+" = ") {
				t.Errorf("%s has no (commented) %s line", name, key)
			}
		}
	}
}
