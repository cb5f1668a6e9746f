package config

import (
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

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
