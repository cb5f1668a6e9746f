package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/reception"
)

func noEnv(string) (string, bool) { return "", false }

// anOperator serves every client, for a test's YAML that has none (a
// configuration without operators is refused).
const anOperator = "operators: [{id: op1, name: O, endpoint: PJSIP/op1, clients: [\"*\"]}]\n"

// staff are a client and anOperator, for a test's YAML that has neither.
const staff = "clients: [{id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: sound:g}]\n" + anOperator

func mustParseFile(t *testing.T, path string, env func(string) (string, bool)) *Config {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(path, data, env)
	if err != nil {
		t.Fatalf("Parse(%s):\n%v", path, err)
	}
	return cfg
}

func TestValidConfigsParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	files = append(files, "sample.yaml")
	if len(files) < 3 {
		t.Fatalf("valid inputs missing: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg := mustParseFile(t, f, noEnv)
			if len(cfg.Clients) == 0 || len(cfg.Operators) == 0 {
				t.Errorf("clients=%d operators=%d", len(cfg.Clients), len(cfg.Operators))
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg := mustParseFile(t, "testdata/valid/minimal.yaml", noEnv)
	want := ARI{URL: "http://127.0.0.1:8088/ari", User: "toritsugi", Password: "secret", App: "toritsugi",
		RequestTimeout: 2 * time.Second, PingInterval: 5 * time.Second}
	if cfg.ARI != want {
		t.Errorf("ARI = %+v, want %+v", cfg.ARI, want)
	}
	if cfg.HTTP.Listen != "127.0.0.1:8080" || cfg.LogLevel != "info" || cfg.UnknownDIDSound != "sound:ss-noservice" {
		t.Errorf("defaults: listen=%q level=%q sound=%q", cfg.HTTP.Listen, cfg.LogLevel, cfg.UnknownDIDSound)
	}
	if cfg.Queue != DefaultQueue() {
		t.Errorf("Queue = %+v, want %+v", cfg.Queue, DefaultQueue())
	}
	acme := &cfg.Clients[0]
	if acme.ShortName != acme.Name {
		t.Errorf("ShortName = %q, want the name %q", acme.ShortName, acme.Name)
	}
	if !acme.Hours.AlwaysOpen || !acme.Hours.At(time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)).Open {
		t.Errorf("a client without hours must be always open: %+v", acme.Hours)
	}
	if got := acme.QueueSettings(); got != DefaultQueue() {
		t.Errorf("QueueSettings = %+v", got)
	}
	if cfg.SlogLevel().String() != "INFO" {
		t.Errorf("SlogLevel = %v", cfg.SlogLevel())
	}
}

func TestSample(t *testing.T) {
	cfg := mustParseFile(t, "sample.yaml", noEnv)
	if len(cfg.Clients) != 3 || len(cfg.Operators) != 4 {
		t.Fatalf("sample has %d clients and %d operators, want 3 and 4", len(cfg.Clients), len(cfg.Operators))
	}
	tests := []struct {
		did    string
		client string // "" = none
	}{
		{"0312345678", "sakura-kensetsu"},
		{"+81312345678", "sakura-kensetsu"},
		{"81312345678", "sakura-kensetsu"},
		{"0120123456", "sakura-kensetsu"},
		{"+81661234567", "aozora-clinic"},
		{"815031234567", "hoshino-law"},
		{"0399999999", ""},
		{"", ""},
		{"anonymous", ""},
	}
	for _, tt := range tests {
		c, ok := cfg.ClientByDID(tt.did)
		switch {
		case tt.client == "" && ok:
			t.Errorf("ClientByDID(%q) = %s, want none", tt.did, c.ID)
		case tt.client != "" && (!ok || c.ID != tt.client):
			t.Errorf("ClientByDID(%q) = %v, %v; want %s", tt.did, c, ok, tt.client)
		}
	}

	sakura, ok := cfg.Client("sakura-kensetsu")
	if !ok {
		t.Fatal("Client(sakura-kensetsu) not found")
	}
	q := sakura.QueueSettings()
	if q.MaxWait != 3*time.Minute || q.RingTimeout != 15*time.Second || q.Strategy != StrategyLongestIdle {
		t.Errorf("sakura queue = %+v", q)
	}
	clinic, _ := cfg.Client("aozora-clinic")
	if q := clinic.QueueSettings(); q.Strategy != StrategyRingAll || q.RingTimeout != 20*time.Second || q.Wrapup != 45*time.Second || q.MaxWait != 5*time.Minute {
		t.Errorf("clinic queue = %+v", q)
	}
	if clinic.Hours.AlwaysOpen || len(clinic.Hours.Weekly[time.Sunday]) != 0 || clinic.Hours.Location.String() != "Asia/Tokyo" {
		t.Errorf("clinic hours = %+v", clinic.Hours)
	}
	wantMon := []reception.Interval{{Start: 8*60 + 30, End: 12*60 + 30}, {Start: 14 * 60, End: 19 * 60}}
	if !slices.Equal(clinic.Hours.Weekly[time.Monday], wantMon) {
		t.Errorf("clinic monday = %v, want %v", clinic.Hours.Weekly[time.Monday], wantMon)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	if st := sakura.Hours.At(time.Date(2027, time.January, 2, 10, 0, 0, 0, tokyo)); st.Open || st.Reason != "closure:年末年始" {
		t.Errorf("sakura on 2027-01-02 = %+v", st)
	} // 年末年始 written as 12-29 to 01-03 closes every year, not one.
	for _, d := range []time.Time{time.Date(2027, time.December, 30, 10, 0, 0, 0, tokyo), time.Date(2031, time.January, 3, 10, 0, 0, 0, tokyo)} {
		if st := sakura.Hours.At(d); st.Open || st.Reason != "closure:年末年始" {
			t.Errorf("sakura at %v: %+v, want closed for 年末年始", d, st)
		}
	}

	if _, ok := cfg.Client("nobody"); ok {
		t.Error("Client(nobody) found")
	}
	op, ok := cfg.Operator("op1003")
	if !ok || op.Serves("sakura-kensetsu") || !op.Serves("aozora-clinic") {
		t.Errorf("Operator(op1003) = %+v, %v", op, ok)
	}
	if all, _ := cfg.Operator("op1001"); !all.AllClients() || !all.Serves("hoshino-law") {
		t.Errorf("op1001 must serve every client: %+v", all)
	}
	var ids []string
	for _, o := range cfg.OperatorsFor("hoshino-law") {
		ids = append(ids, o.ID)
	}
	if !slices.Equal(ids, []string{"op1001", "op1002", "op1004"}) { // op1004 as "*:2"
		t.Errorf("OperatorsFor(hoshino-law) = %v", ids)
	}
}

func TestAnchorsAndMerges(t *testing.T) {
	cfg := mustParseFile(t, "testdata/valid/anchors.yaml", noEnv)
	acme, _ := cfg.Client("acme")
	if q := acme.QueueSettings(); q.RingTimeout != 10*time.Second || q.Wrapup != 20*time.Second {
		t.Errorf("acme queue = %+v", q)
	}
	if !slices.Equal(acme.DIDs, []string{"+81312345678", "+81120123456"}) {
		t.Errorf("acme DIDs = %v (unquoted numbers must stay text)", acme.DIDs)
	}
	beta, _ := cfg.Client("beta")
	if beta.Hours.PublicHolidays || len(beta.Hours.Weekly[time.Saturday]) != 1 || len(beta.Hours.Weekly[time.Friday]) != 1 {
		t.Errorf("beta hours = %+v", beta.Hours)
	}
	if !slices.Equal(beta.DIDs, []string{"+81661234567"}) {
		t.Errorf("beta DIDs = %v", beta.DIDs)
	}
}

func TestEnvOverrides(t *testing.T) {
	data, err := os.ReadFile("sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TORITSUGI_ARI_PASSWORD": "from-env",
		"TORITSUGI_ARI_USER":     "envuser",
		"TORITSUGI_ARI_URL":      "https://pbx.example:8089/ari",
		"TORITSUGI_HTTP_LISTEN":  ":9090",
		"TORITSUGI_DATA_DIR":     "/srv/toritsugi",
		"TORITSUGI_LOG_LEVEL":    "debug", // not an override: ignored
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := Parse("sample.yaml", data, lookup)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.ARI.Password, cfg.ARI.User, cfg.ARI.URL, cfg.HTTP.Listen, cfg.DataDir, cfg.LogLevel}
	want := []string{"from-env", "envuser", "https://pbx.example:8089/ari", ":9090", "/srv/toritsugi", "info"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEnvSuppliesRequiredPassword(t *testing.T) {
	doc := []byte("ari: {user: u}\ndata_dir: /d\n" + staff)
	if _, err := Parse("c.yaml", doc, noEnv); err == nil {
		t.Fatal("missing password accepted")
	}
	env := func(k string) (string, bool) {
		if k == "TORITSUGI_ARI_PASSWORD" {
			return "s3cret", true
		}
		return "", false
	}
	cfg, err := Parse("c.yaml", doc, env)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ARI.Password != "s3cret" {
		t.Errorf("password = %q", cfg.ARI.Password)
	}
}

func TestEnvErrorNamesVariable(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "TORITSUGI_ARI_URL" {
			return "not a url", true
		}
		return "", false
	}
	_, err := Parse("c.yaml", []byte("ari:\n  user: u\n  password: p\n  url: http://x/ari\ndata_dir: /d\n"+staff), env)
	want := `c.yaml:4:8: ari.url: "not a url" is not an http:// or https:// URL (from $TORITSUGI_ARI_URL)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "config.yaml", Line: 14, Column: 7, Path: "clients[1].dids[0]", Msg: `"03-12" is not a phone number`}, `config.yaml:14:7: clients[1].dids[0]: "03-12" is not a phone number`},
		{FieldError{File: "c.yaml", Line: 3, Msg: "invalid YAML: x"}, "c.yaml:3: invalid YAML: x"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := Parse("c.yaml", []byte("bogus: 1\n"), noEnv)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line != 1 {
		t.Fatalf("errors.As(*FieldError) on %v: %+v", err, fe)
	}
	es, ok := AsErrors(err)
	if !ok || len(es) != 6 { // bogus, ari.user, ari.password, data_dir, clients, operators
		t.Errorf("AsErrors = %v, %v", es, ok)
	}
}

func TestCheck(t *testing.T) {
	if err := Check("sample.yaml"); err != nil {
		t.Errorf("Check(sample) = %v", err)
	}
	if err := Check("testdata/errors/types.yaml"); err == nil {
		t.Error("Check(types.yaml) = nil")
	} else if _, ok := AsErrors(err); !ok {
		t.Errorf("Check error is not Errors: %v", err)
	}
	if err := Check(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check(missing) = %v, want ErrNotExist", err)
	}
}

func TestSampleRelay(t *testing.T) {
	cfg := mustParseFile(t, "sample.yaml", noEnv)
	sakura, _ := cfg.Client("sakura-kensetsu")
	if sakura.Script().Scope != "guided" || sakura.Manual == "" || len(sakura.RelayRules()) != 3 ||
		!sakura.RelayMissedCalls || !sakura.RelayVoicemails {
		t.Errorf("sakura: scope %q manual %q rules %v", sakura.Script().Scope, sakura.Manual, sakura.RelayRules())
	}
	for _, c := range cfg.Clients {
		for _, r := range c.RelayRules() {
			for _, n := range append(r.To, c.RelayUrgent...) {
				if _, ok := cfg.Destination(n); !ok {
					t.Errorf("client %s: destination %q missing", c.ID, n)
				}
			}
		}
	}
}

// TestUnknownKeyInMergedAnchor: a typo in an anchor merged with << is
// reported where it is written, once however many places merge it (it
// would silently drop the setting in all of them).
func TestUnknownKeyInMergedAnchor(t *testing.T) {
	doc := []byte(`x-client: &base
  recrod: true
  greeting: sound:g
ari: {user: u, password: p}
data_dir: /d
clients:
  - <<: *base
    id: acme
    name: ACME
    dids: ["03-1234-5678"]
  - <<: *base
    id: beta
    name: BETA
    dids: ["03-1234-5679"]
` + anOperator)
	_, err := Parse("t.yaml", doc, noEnv)
	es, ok := AsErrors(err)
	if !ok || len(es) != 1 || es[0].Error() != `t.yaml:2:3: clients[0].recrod: unknown key "recrod" in a mapping merged with << (did you mean "record"?)` {
		t.Fatalf("errors %v", err)
	}
	// An anchor shared by sections of different kinds may hold keys that
	// only some of them know: no error.
	shared := []byte(`x-common: &c
  name: 共通
  record: true
ari: {user: u, password: p}
data_dir: /d
clients:
  - <<: *c
    id: acme
    dids: ["03-1234-5678"]
    greeting: sound:g
operators:
  - <<: *c
    id: op1
    endpoint: PJSIP/op1
    clients: [acme]
`)
	if _, err := Parse("t.yaml", shared, noEnv); err != nil {
		t.Fatalf("an anchor merged into a client and an operator: %v", err)
	}
}

// TestOperatorEndpointTechnologyCase: Asterisk dials pjsip/op1001 as
// PJSIP/op1001 but names the endpoint PJSIP in its events; written in
// lower case, the operator's registrations would never be matched and
// they would never be rung. The technology is written as Asterisk does;
// the resource, case-sensitive in Asterisk, is kept.
func TestOperatorEndpointTechnologyCase(t *testing.T) {
	doc := "ari: {user: u, password: p}\ndata_dir: /d\nclients:\n  - {id: acme, name: ACME, dids: [\"0312345678\"], greeting: \"sound:hello\"}\n" +
		"operators:\n  - {id: op1, name: A, endpoint: pjsip/Op1001, clients: [\"*\"]}\n  - {id: op2, name: B, endpoint: iax2/op2, clients: [\"*\"]}\n"
	cfg, err := Parse("t.yaml", []byte(doc), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"PJSIP/Op1001", "IAX2/op2"} {
		if got := cfg.Operators[i].Endpoint; got != want {
			t.Errorf("operators[%d].endpoint = %q, want %q", i, got, want)
		}
	}
}

// TestWeekdayKeysSuggested: a weekday written in Japanese or in full
// (月:, 月曜日:, Monday:) was refused as an unknown key with no hint of
// what the configuration takes.
func TestWeekdayKeysSuggested(t *testing.T) {
	for key, want := range map[string]string{"月": "mon", "月曜日": "mon", "Monday": "mon", "日曜": "sun", "saturday": "sat"} {
		doc := "ari: {user: u, password: p}\ndata_dir: /d\nclients:\n  - id: acme\n    name: ACME\n    dids: [\"03-1234-5678\"]\n    hours:\n      weekly:\n        " + key + ": [\"09:00-18:00\"]\n"
		_, err := Parse("t.yaml", []byte(doc), nil)
		if err == nil || !strings.Contains(err.Error(), `unknown key "`+key+`" (did you mean "`+want+`"?)`) {
			t.Errorf("%s: %v; want a hint of %q", key, err, want)
		}
	}
}

// TestStandInHasTheQueueDefaults: the stand-in of a client no longer
// configured takes the configuration's queue section (wrap-up), not the
// built-in defaults.
func TestStandInHasTheQueueDefaults(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("ari: {user: u, password: p}\ndata_dir: /d\nqueue: {wrapup: 45s}\n"+staff), nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := cfg.StandIn("gone")
	if cl.ID != "gone" || cl.QueueSettings().Wrapup != 45*time.Second {
		t.Fatalf("stand-in %+v, wrap-up %v; want the queue section's 45s", cl.ID, cl.QueueSettings().Wrapup)
	}
}

// TestTabInIndentationNamesItsLine: the YAML parser reports a tab in an
// indentation on the line before, or where the enclosing mapping began,
// and at times without a word of a tab; the error names the line with the
// tab and says what is wrong.
func TestTabInIndentationNamesItsLine(t *testing.T) {
	base := "ari: {user: u, password: p}\ndata_dir: /d\nclients:\n  - id: a\n    name: A\n    dids: [\"03-1234-5678\"]\n    greeting: sound:a\n"
	for name, tc := range map[string]struct {
		src  string
		line int
	}{
		"in a mapping":   {"ari:\n  user: u\n\tpassword: p\ndata_dir: /d\n", 3},
		"a client's key": {base + "\tmanual: x\n", 8},
		"after spaces":   {base + "  \tmanual: x\n", 8},
		"no tab, as was": {"ari: {user: u\n", 0},
	} {
		_, err := Parse("c.yaml", []byte(tc.src), noEnv)
		es, ok := AsErrors(err)
		if !ok || len(es) == 0 {
			t.Fatalf("%s: no positioned error: %v", name, err)
		}
		if tc.line == 0 {
			if strings.Contains(es[0].Error(), "tab") {
				t.Errorf("%s: %v, no tab in it", name, es[0])
			}
			continue
		}
		if es[0].Line != tc.line || !strings.Contains(es[0].Error(), "a tab in the indentation") {
			t.Errorf("%s: %v; want line %d, saying it is a tab", name, es[0], tc.line)
		}
	}
}

// TestByteOrderMarkIgnored: a file saved "UTF-8 with BOM" (Notepad) reads
// as the same file without it: the same configuration, or the same
// problems at the same lines and columns (line 1's columns as the editor
// shows them, the mark not counted).
func TestByteOrderMarkIgnored(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	files = append(files, "sample.yaml")
	cases := map[string][]byte{
		"a tab indenting line 1":   []byte("\tari: {user: u, password: p}\ndata_dir: /d\n"),
		"a syntax error on line 1": []byte("ari: {user: u\n"),
		"an unknown key on line 1": []byte("ari: {user: u, password: p, usr: x}\n"),
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases[f] = data
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(filepath.Dir(name), "c.yaml")
			want, wantErr := Parse(file, data, noEnv)
			got, gotErr := Parse(file, append([]byte("\ufeff"), data...), noEnv)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("with a BOM:\n%v\nwithout:\n%v", gotErr, wantErr)
			}
			if (got == nil) != (want == nil) {
				t.Fatalf("with a BOM config %v, without %v", got != nil, want != nil)
			}
			if got != nil && (len(got.Clients) != len(want.Clients) || fmt.Sprint(got.Warnings) != fmt.Sprint(want.Warnings)) {
				t.Errorf("with a BOM %d clients, warnings %v; without %d, %v", len(got.Clients), got.Warnings, len(want.Clients), want.Warnings)
			}
		})
	}
}

// TestBlankValueWarns: a key written with no value keeps its default (a
// setting) or counts as not written (a section), which is rarely what
// was meant (`fallback_log:` to turn it off, `hours:` left to fill in):
// said, on its line, unless the environment gives the value.
func TestBlankValueWarns(t *testing.T) {
	yaml := `ari: {user: u, password: p}
data_dir:
fallback_log:
answer_silence: ""
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:g
    hours:
` + anOperator
	env := func(k string) (string, bool) {
		if k == "TORITSUGI_DATA_DIR" {
			return "/var/lib/toritsugi", true
		}
		return "", false
	}
	cfg, err := Parse("t.yaml", []byte(yaml), env)
	if err != nil {
		t.Fatal(err)
	}
	got := warningsOf(cfg)
	want := []string{
		`t.yaml:3:14: fallback_log: has no value, so its default applies: write "" for none, or remove the key`,
		`t.yaml:10:11: clients[0].hours: has no value: as if it were not written (fill it in, or remove it)`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if cfg.AnswerSilence != "" || cfg.FallbackLog == "" || cfg.DataDir != "/var/lib/toritsugi" {
		t.Fatalf("answer_silence %q, fallback_log %q, data_dir %q", cfg.AnswerSilence, cfg.FallbackLog, cfg.DataDir)
	}
}

// TestFullWidthSpaceNamed: a full-width space (全角スペース), typed by a
// Japanese input method, in a sound name (Asterisk would find no such
// sound when a call comes) or in an indentation is named as such.
func TestFullWidthSpaceNamed(t *testing.T) {
	yaml := "ari: {user: u, password: p}\ndata_dir: /d\nclients:\n  - id: acme\n    name: ACME\n    dids: [\"03-1234-5678\"]\n" +
		"    greeting: \"sound:toritsugi/acme\u3000\"\n    \u3000whisper_sound: sound:beep\n" + anOperator
	_, err := Parse("t.yaml", []byte(yaml), nil)
	es, ok := AsErrors(err)
	if !ok || len(es) != 2 {
		t.Fatalf("errors %v, want two", err)
	}
	for i, want := range []string{"t.yaml:7:15: clients[0].greeting: ", "t.yaml:8:5: "} {
		if got := es[i].Error(); !strings.HasPrefix(got, want) || !strings.Contains(got, "全角スペース") {
			t.Errorf("error %d: %s, want it at %s naming the full-width space", i, got, want)
		}
	}
}

// TestMisplacedKeyToldWhereItGoes: a key written without its section (a
// client's max_wait for its queue.max_wait, timezone for hours.timezone)
// is told where it goes; a key of another section's name (ari.timeout: a
// destination's timeout means something else) is not sent there.
func TestMisplacedKeyToldWhereItGoes(t *testing.T) {
	yaml := "ari: {user: u, password: p, timeout: 5s}\ndata_dir: /d\nmax_wait: 3m\nclients:\n  - id: acme\n    name: ACME\n" +
		"    dids: [\"03-1234-5678\"]\n    greeting: sound:g\n    max_wait: 3m\n    timezone: Asia/Tokyo\n" + anOperator
	got := parseErrors(yaml)
	want := []string{
		`t.yaml:1:29: ari.timeout: unknown key "timeout"`,
		`t.yaml:3:1: max_wait: unknown key "max_wait" here (it goes at queue.max_wait)`,
		`t.yaml:9:5: clients[0].max_wait: unknown key "max_wait" here (it goes at clients[].queue.max_wait)`,
		`t.yaml:10:5: clients[0].timezone: unknown key "timezone" here (it goes at clients[].hours.timezone)`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// warningsOf are cfg's warnings, as printed.
func warningsOf(cfg *Config) []string {
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, w.Error())
	}
	return got
}

// parseErrors are the errors Parse finds in yaml (file t.yaml), as printed.
func parseErrors(yaml string) []string {
	_, err := Parse("t.yaml", []byte(yaml), nil)
	es, _ := AsErrors(err)
	var got []string
	for _, e := range es {
		got = append(got, e.Error())
	}
	return got
}

// TestMisplacedSectionToldWhereOneIs: a section written in another
// section (destinations under a client's relay, a queue under an
// operator) is told where the section of that name is; a single value's
// name is not (another section's timeout means something else).
func TestMisplacedSectionToldWhereOneIs(t *testing.T) {
	yaml := `ari: {user: u, password: p}
data_dir: /d
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:g
    relay:
      to: [hook]
      destinations:
        - {name: hook, type: webhook, url: "https://example.jp/hook", secret: s}
      timeout: 10s
operators:
  - {id: op1, name: A, endpoint: PJSIP/op1, clients: [acme], queue: {max_wait: 3m}}
`
	got := parseErrors(yaml)
	want := []string{
		`t.yaml:9:12: clients[0].relay.to[0]: "hook" is not a destination in relay.destinations`,
		`t.yaml:10:7: clients[0].relay.destinations: unknown key "destinations" here (the section of that name is relay.destinations)`,
		`t.yaml:12:7: clients[0].relay.timeout: unknown key "timeout"`,
		`t.yaml:14:62: operators[0].queue: unknown key "queue" here (the section of that name is clients[].queue or queue)`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestChoicesTakeCapitals: a choice written in capitals (INFO, Voicemail,
// Webhook) is taken, as `action: VIP` is, and kept as the code spells it.
func TestChoicesTakeCapitals(t *testing.T) {
	yaml := `ari: {user: u, password: p}
data_dir: /d
log_level: INFO
queue: {strategy: Ring-All}
relay:
  destinations:
    - {name: hook, type: Webhook, url: "https://example.jp/hook", secret: s}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:g
    answer_mode: Ringback
    overflow: Voicemail
    relay: {to: [hook]}
` + anOperator
	cfg, err := Parse("t.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := cfg.Client("acme")
	d, _ := cfg.Destination("hook")
	if cfg.LogLevel != "info" || cfg.Queue.Strategy != StrategyRingAll || cl.AnswerMode != "ringback" || cl.Overflow != OverflowVoicemail || d.Type != "webhook" {
		t.Fatalf("log_level %q strategy %q answer_mode %q overflow %q type %q", cfg.LogLevel, cfg.Queue.Strategy, cl.AnswerMode, cl.Overflow, d.Type)
	}
}

// TestRetentionDaysBounded: a retention of more than 100 years is refused,
// naming the field (999999 days overflowed a time.Duration: the recordings
// and messages meant to be kept for ever were deleted at the next sweep);
// Days never turns negative.
func TestRetentionDaysBounded(t *testing.T) {
	base := "ari: {user: u, password: p}\ndata_dir: /d\nintake_retention_days: %s\nclients:\n  - id: acme\n    name: ACME\n" +
		"    dids: [\"03-1234-5678\"]\n    greeting: sound:g\n    recording_retention_days: %s\n    intake_retention_days: %s\n" + anOperator
	got := parseErrors(fmt.Sprintf(base, "999999", "106752", "36501"))
	want := []string{
		`t.yaml:3:24: intake_retention_days: "999999" is more than 36500 days (100 years): keep them 100 years at most`,
		`t.yaml:9:31: clients[0].recording_retention_days: "106752" is more than 36500 days (100 years): keep them 100 years at most`,
		`t.yaml:10:28: clients[0].intake_retention_days: "36501" is more than 36500 days (100 years): keep them 100 years at most`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cfg, err := Parse("t.yaml", []byte(fmt.Sprintf(base, "36500", "36500", "0")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cl, _ := cfg.Client("acme"); cfg.IntakeRetentionDays != 36500 || cl.RecordingRetentionDays != 36500 || cl.IntakeRetentionDays != 0 {
		t.Fatalf("days %d %d %d", cfg.IntakeRetentionDays, cl.RecordingRetentionDays, cl.IntakeRetentionDays)
	}
	for _, n := range []int{0, 1, 36500, 106751, 106752, 999999, math.MaxInt} {
		if d := Days(n); d < 0 || (n <= 106751 && d != time.Duration(n)*24*time.Hour) {
			t.Errorf("Days(%d) = %v", n, d)
		}
	}
}

// TestCallRecordRetentionDays: call_record_retention_days is 0 (keep,
// the default) or at least MinCallRecordDays (the last full month's
// records, for its reports), at most 100 years.
func TestCallRecordRetentionDays(t *testing.T) {
	base := "ari: {user: u, password: p}\ndata_dir: /d\n%sclients:\n  - id: acme\n    name: ACME\n    dids: [\"03-1234-5678\"]\n    greeting: sound:g\n" + anOperator
	for _, c := range []struct {
		line string
		want int
		err  string
	}{
		{"", 0, ""},
		{"call_record_retention_days: 0\n", 0, ""},
		{"call_record_retention_days: 62\n", 62, ""},
		{"call_record_retention_days: 400\n", 400, ""},
		{"call_record_retention_days: 30\n", 0, "t.yaml:3:29: call_record_retention_days: 30 days is too short: at least 62 (the last full month's records, for its reports), or 0 to keep them"},
		{"call_record_retention_days: -1\n", 0, `t.yaml:3:29: call_record_retention_days: "-1" is not a number of days (0 or more)`},
		{"call_record_retention_days: 36501\n", 0, `t.yaml:3:29: call_record_retention_days: "36501" is more than 36500 days (100 years): keep them 100 years at most`},
	} {
		cfg, err := Parse("t.yaml", []byte(fmt.Sprintf(base, c.line)), nil)
		if c.err != "" {
			if got := parseErrors(fmt.Sprintf(base, c.line)); !slices.Equal(got, []string{c.err}) {
				t.Errorf("%q: errors %q, want %q", c.line, got, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
		} else if cfg.CallRecordRetentionDays != c.want {
			t.Errorf("%q: %d days, want %d", c.line, cfg.CallRecordRetentionDays, c.want)
		}
	}
}

// TestPrivacyWarnings: a client whose calls are recorded with no notice to
// callers (customary in Japan), and a destination two clients name (a
// copied client section that kept the other's: one client's callers'
// messages reach the other's readers), are warned of, each on its line; a
// client that says record_announcement: "" (its greeting tells callers)
// is not.
func TestPrivacyWarnings(t *testing.T) {
	yaml := `ari: {user: u, password: p}
data_dir: /d
relay:
  destinations:
    - {name: acme-slack, type: slack, url: "https://hooks.slack.com/services/T0/B0/X"}
clients:
  - id: acme
    name: ACME
    dids: ["03-1234-5678"]
    greeting: sound:g
    record: true
    relay: {to: [acme-slack]}
  - id: beta
    name: BETA
    dids: ["03-1111-2222"]
    greeting: sound:g
    record: true
    record_announcement: ""
    relay: {to: [acme-slack]}
` + anOperator
	cfg, err := Parse("t.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := warningsOf(cfg)
	want := []string{
		`t.yaml:11:13: clients[0].record: calls are recorded and callers are not told: set record_announcement (e.g. sound:toritsugi/recorded, 「この通話は品質向上のため録音させていただきます」), or record_announcement: "" if the greeting says so`,
		`t.yaml:5:14: relay.destinations[0].name: "acme-slack" is used by 2 clients (acme, beta): each one's messages, callers' names and numbers, reach the others' readers; give each client its own destination, unless it is one of yours meant for all`,
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAPIListen: http.api_listen is a host:port of its own: not
// http.listen's port on its host or on every interface (written as a
// plain string compare, ":8080" got past "127.0.0.1:8080" and the clash
// came at start as a failed listen).
func TestAPIListen(t *testing.T) {
	base := "ari: {user: u, password: p}\ndata_dir: /d\nhttp: {listen: \"127.0.0.1:8080\", api_listen: %q}\nclients:\n  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: sound:g}\n" + anOperator
	for _, ok := range []string{"127.0.0.1:8081", "192.0.2.10:8080", "127.0.0.1:0"} {
		cfg, err := Parse("t.yaml", []byte(fmt.Sprintf(base, ok)), nil)
		if err != nil || cfg.HTTP.APIListen != ok {
			t.Fatalf("api_listen %q: %q (%v)", ok, cfg.HTTP.APIListen, err)
		}
	}
	for listen, want := range map[string]string{
		"8081":           `http.api_listen: "8081" is not host:port`,
		"127.0.0.1:8080": `http.api_listen: "127.0.0.1:8080" is http.listen's address`,
		":8080":          `http.api_listen: ":8080" is http.listen's address`, // every interface: that one too
		"0.0.0.0:8080":   `http.api_listen: "0.0.0.0:8080" is http.listen's address`,
	} {
		got := strings.Join(parseErrors(fmt.Sprintf(base, listen)), "\n")
		if !strings.Contains(got, want) {
			t.Errorf("api_listen %q: %s, want %s", listen, got, want)
		}
	}
}

// TestClientAPITokens: a client's own data API token is at least 16
// characters, its own (not another client's, not http.api_token), may
// come from TORITSUGI_CLIENT_<ID>_API_TOKEN, and is mapped to its client.
func TestClientAPITokens(t *testing.T) {
	base := "ari: {user: u, password: p}\ndata_dir: /d\nhttp: {api_token: service-token-0123456789}\nclients:\n" +
		"  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: sound:g, api_token: %q}\n" +
		"  - {id: beta-jp, name: BETA, dids: [\"03-1111-2222\"], greeting: sound:g, api_token: %q}\n" + anOperator
	cfg, err := Parse("t.yaml", []byte(fmt.Sprintf(base, "acme-token-0123456789", "")), func(k string) (string, bool) {
		return map[string]string{"TORITSUGI_CLIENT_BETA_JP_API_TOKEN": "beta-token-from-env-0123"}[k], k == "TORITSUGI_CLIENT_BETA_JP_API_TOKEN"
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"acme-token-0123456789": "acme", "beta-token-from-env-0123": "beta-jp"}; !maps.Equal(cfg.ClientAPITokens, want) {
		t.Fatalf("client tokens %v, want %v", cfg.ClientAPITokens, want)
	}
	for _, tc := range []struct{ acme, beta, want string }{
		{"short", "", "clients[0].api_token: is too short"},
		{"same-token-0123456789", "same-token-0123456789", "clients[1].api_token: is the same as clients[0].api_token"},
		{"service-token-0123456789", "", "clients[0].api_token: is the same as http.api_token"},
	} {
		if got := strings.Join(parseErrors(fmt.Sprintf(base, tc.acme, tc.beta)), "\n"); !strings.Contains(got, tc.want) {
			t.Errorf("acme %q, beta %q: %s; want %s", tc.acme, tc.beta, got, tc.want)
		}
	}
}

// TestARIURLCredentialsRefused: user information in ari.url
// (http://user:PASSWORD@host/ari) is refused, as the URL is logged at
// start and in every "ARI link down" warning; no message repeats the
// password.
func TestARIURLCredentialsRefused(t *testing.T) {
	base, err := os.ReadFile("testdata/valid/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret"
	for _, tc := range []struct {
		name, url, env string
		want           string // in the error; "" for none
	}{
		{"none", "http://127.0.0.1:8088/ari", "", ""},
		{"user and password", "http://toritsugi:s3cret@127.0.0.1:8088/ari", "", `ari.url: "http://toritsugi:xxxxx@127.0.0.1:8088/ari" has a user name or password in it: put them in ari.user and ari.password`},
		{"user only", "https://toritsugi@pbx.example:8089/ari", "", `"https://toritsugi@pbx.example:8089/ari" has a user name or password in it`},
		{"from the environment", "", "http://toritsugi:s3cret@127.0.0.1:8088/ari", `(from $TORITSUGI_ARI_URL)`},
		{"not http, with a password", "ftp://toritsugi:s3cret@127.0.0.1/ari", "", `"ftp://toritsugi:xxxxx@127.0.0.1/ari" is not an http:// or https:// URL`},
		{"not parsed, with a password", "http://toritsugi:s3cret@127.0.0.1:80 88/ari", "", `"http://toritsugi:xxxxx@127.0.0.1:80 88/ari" is not an http:// or https:// URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := string(base)
			if tc.url != "" {
				data = strings.Replace(data, "ari:\n", "ari:\n  url: "+strconv.Quote(tc.url)+"\n", 1)
			}
			env := func(k string) (string, bool) {
				if k == "TORITSUGI_ARI_URL" && tc.env != "" {
					return tc.env, true
				}
				return "", false
			}
			_, err := Parse("c.yaml", []byte(data), env)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
				return
			case err == nil:
				t.Fatalf("accepted, want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "ari.url"):
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
}

// TestCutShortSampleRefused: a file caught half-written (README's reload:
// a writer pausing more than a second) is most often valid YAML. Cut
// before its first client or its first operator (at `operators:`), it
// was a valid configuration, applied on reload: every number "not in
// service", or every caller overflowing at max_wait. Every such cut of
// the sample is refused, naming the list it lacks.
func TestCutShortSampleRefused(t *testing.T) {
	data, err := os.ReadFile("sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	firstEntry := func(section string) int { // the line of the list's first entry
		in := false
		for i, l := range lines {
			switch {
			case l == section+":\n":
				in = true
			case in && strings.HasPrefix(l, "  - "):
				return i + 1
			}
		}
		t.Fatalf("no %s entry in the sample", section)
		return 0
	}
	firstClient, firstOperator := firstEntry("clients"), firstEntry("operators")
	refused := 0
	for n := 1; n < firstOperator; n++ {
		cut := strings.Join(lines[:n], "")
		cfg, err := Parse("cut.yaml", []byte(cut), noEnv)
		if err == nil {
			t.Errorf("the sample's first %d lines loaded (%d clients, %d operators)", n, len(cfg.Clients), len(cfg.Operators))
			continue
		}
		refused++
		es, _ := AsErrors(err)
		if slices.ContainsFunc(es, func(e *FieldError) bool { return e.Path == "" }) {
			continue // refused before the settings were read (no settings, a syntax error)
		}
		for _, list := range []string{"clients", "operators"} {
			lacks := list == "operators" || n < firstClient
			names := slices.ContainsFunc(es, func(e *FieldError) bool {
				return e.Path == list && strings.Contains(e.Msg, "is required")
			})
			if names != lacks {
				t.Errorf("the first %d lines: %q named %v, want %v:\n%v", n, list, names, lacks, err)
			}
		}
	}
	if refused != firstOperator-1 {
		t.Errorf("%d cuts refused, want %d", refused, firstOperator-1)
	}
	if _, err := Parse("cut.yaml", data, noEnv); err != nil {
		t.Fatalf("the whole sample: %v", err)
	}
}

// TestUnstaffedOrClosedClientWarns: a client no operator serves at any
// tier (its callers wait until max_wait and overflow), and one whose
// hours never open (every call after hours) load with a warning at the
// client; served at any tier, through "*", or open some time, no warning.
func TestUnstaffedOrClosedClientWarns(t *testing.T) {
	const client = "  - {id: %s, name: X, dids: [\"%s\"], greeting: sound:g%s}\n"
	for _, tc := range []struct {
		name      string
		clients   string // beta's extra keys
		operators string // the operators' clients lists
		want      []string
	}{
		{"served by name", "", `[acme], [beta]`, nil},
		{"served at tier 2", "", `[acme], ["beta:2"]`, nil},
		{"served through *", "", `[acme], ["*:3"]`, nil},
		{"served by no operator", "", `[acme], [acme]`,
			[]string{`t.yaml:5:10: clients[1].id: "beta" is served by no operator at any tier: its callers wait until max_wait (5m0s) and overflow; list it in an operator's clients (or give one "*")`}},
		{"hours never open", `, hours: {weekly: {mon: [], sat: []}}`, `["*"], [acme]`,
			[]string{`t.yaml:5:84: clients[1].hours.weekly: opens on no day: every call is answered as after hours; give the days' ranges (mon: ["09:00-18:00"]), or leave hours out to be always open (a number that only takes voicemail: set after_hours_voicemail)`}},
		{"hours with no weekly day", `, hours: {weekly: {}, public_holidays: none}`, `["*"], [acme]`,
			[]string{`t.yaml:5:84: clients[1].hours.weekly: opens on no day`}},
		{"hours open overnight only", `, hours: {weekly: {sun: ["22:00-06:00"]}}`, `["*"], [acme]`, nil},
		{"a voicemail-only number", `, hours: {weekly: {}}, after_hours_voicemail: true`, `["*"], [acme]`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := strings.Split(tc.operators, ", ")
			yaml := "ari: {user: u, password: p}\ndata_dir: /d\nclients:\n" +
				fmt.Sprintf(client, "acme", "03-1234-5678", "") + fmt.Sprintf(client, "beta", "03-1111-2222", tc.clients) +
				"operators:\n" +
				fmt.Sprintf("  - {id: op1, name: A, endpoint: PJSIP/op1, clients: %s}\n", ops[0]) +
				fmt.Sprintf("  - {id: op2, name: B, endpoint: PJSIP/op2, clients: %s}\n", ops[1])
			cfg, err := Parse("t.yaml", []byte(yaml), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			got := warningsOf(cfg)
			if len(got) != len(tc.want) {
				t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("warning %q, want %q", got[i], tc.want[i])
				}
			}
		})
	}
}

// TestDurationLimits: durations no service means are refused (a ring
// too short to be picked up, announcements back to back, a REST call
// given no time or minutes), and one max_wait makes pointless is warned
// of, at the key that sets it (the client's own, or its max_wait).
func TestDurationLimits(t *testing.T) {
	const base = "ari: {user: u, password: p%s}\ndata_dir: /d\nqueue: {%s}\nclients:\n" +
		"  - {id: acme, name: ACME, dids: [\"03-1234-5678\"], greeting: sound:g%s}\n" + anOperator
	for _, tc := range []struct {
		name             string
		ari, queue, acme string
		err, warn        string // a problem's text, at its path; "" for none
	}{
		{name: "the defaults"},
		{name: "the sample's", ari: ", request_timeout: 2s", queue: "ring_timeout: 15s, max_wait: 5m, escalate_after: 0s, announce_period: 0s",
			acme: ", queue: {max_wait: 3m, escalate_after: 20s, announce_period: 45s}, answer_mode: ringback, ringback_max: 10s"},
		{name: "ring_timeout 1ms", queue: "ring_timeout: 1ms",
			err: `t.yaml:3:23: queue.ring_timeout: "1ms" is too short: an operator's phone takes seconds to ring and be picked up; give 5s or more`},
		{name: "a client's ring_timeout 4s", acme: ", queue: {ring_timeout: 4s}",
			err: `clients[0].queue.ring_timeout: "4s" is too short`},
		{name: "ring_timeout 5s", queue: "ring_timeout: 5s"},
		{name: "announce_period 1ms", queue: "announce_period: 1ms",
			err: `t.yaml:3:26: queue.announce_period: "1ms" is too short: give 15s or more, or 0s for no announcements`},
		{name: "a client's announce_period 14s", acme: ", queue: {announce_period: 14s}",
			err: `clients[0].queue.announce_period: "14s" is too short`},
		{name: "announce_period 15s", queue: "announce_period: 15s"},
		{name: "announce_period off", queue: "announce_period: 0s"},
		{name: "request_timeout 10m", ari: ", request_timeout: 10m",
			err: `t.yaml:1:46: ari.request_timeout: "10m" is not from 1s to 60s`},
		{name: "request_timeout 500ms", ari: ", request_timeout: 500ms", err: `ari.request_timeout: "500ms" is not from 1s to 60s`},
		{name: "request_timeout 1s", ari: ", request_timeout: 1s"},
		{name: "request_timeout 60s", ari: ", request_timeout: 60s"},
		{name: "ring_timeout over max_wait", queue: "ring_timeout: 2m, max_wait: 1m",
			warn: `t.yaml:3:23: queue.ring_timeout: ring_timeout 2m0s is longer than max_wait 1m0s: callers overflow while the first operator they ring still rings`},
		{name: "a client's max_wait under ring_timeout", acme: ", queue: {max_wait: 10s}",
			warn: `clients[0].queue.max_wait: ring_timeout 15s is longer than max_wait 10s`},
		{name: "a client's escalate_after at max_wait", acme: ", queue: {max_wait: 1m, escalate_after: 1m}",
			warn: `clients[0].queue.escalate_after: escalate_after 1m0s is not shorter than max_wait 1m0s: callers overflow before the wait brings in operators of tier 2 and above`},
		{name: "ringback_max over max_wait", acme: ", queue: {max_wait: 30s}, answer_mode: ringback, ringback_max: 45s",
			warn: `clients[0].ringback_max: ringback_max 45s is longer than max_wait 30s: callers overflow still hearing ringback, never greeted`},
		{name: "ringback_max, greeting answered", acme: ", queue: {max_wait: 30s}, ringback_max: 45s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", fmt.Appendf(nil, base, tc.ari, tc.queue, tc.acme), noEnv)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			got := strings.Join(warningsOf(cfg), "\n")
			if tc.warn == "" && got != "" || !strings.Contains(got, tc.warn) {
				t.Fatalf("warnings %q, want %q", got, tc.warn)
			}
		})
	}
}
