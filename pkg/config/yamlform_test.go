package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

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
