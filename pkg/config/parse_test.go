package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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

// TestPlaceholderWarnings: each of the sample's "change-me" values is
// warned of at its line and field, unless its environment variable
// replaces it (the README's way to keep secrets out of the file).
func TestPlaceholderWarnings(t *testing.T) {
	data, err := os.ReadFile("sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]string{
		"TORITSUGI_ARI_PASSWORD":                "p",
		"TORITSUGI_RELAY_SAKURA_MAIL_PASSWORD":  "p",
		"TORITSUGI_RELAY_SAKURA_CHATWORK_TOKEN": "t",
		"TORITSUGI_RELAY_AOZORA_WEBHOOK_SECRET": "s",
		"TORITSUGI_RELAY_HOSHINO_MAIL_PASSWORD": "p",
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string // fields warned of
	}{
		{"none replaced", nil, []string{"ari.password", "relay.destinations[0].password", "relay.destinations[2].token", "relay.destinations[3].secret", "relay.destinations[4].password"}},
		{"ARI password replaced", map[string]string{"TORITSUGI_ARI_PASSWORD": "p"}, []string{"relay.destinations[0].password", "relay.destinations[2].token", "relay.destinations[3].secret", "relay.destinations[4].password"}},
		{"all replaced", all, nil},
		{"replaced by an empty value", map[string]string{"TORITSUGI_RELAY_AOZORA_WEBHOOK_SECRET": ""}, []string{"ari.password", "relay.destinations[0].password", "relay.destinations[2].token", "relay.destinations[3].secret", "relay.destinations[4].password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("sample.yaml", data, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range cfg.Warnings {
				if strings.Contains(w.Msg, "change-me") {
					if w.Line <= 0 || !strings.Contains(strings.Split(string(data), "\n")[w.Line-1], "change-me") {
						t.Errorf("warning %v not at a line with change-me", w)
					}
					got = append(got, w.Path)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("change-me warned at %q, want %q", got, tt.want)
			}
		})
	}
}
