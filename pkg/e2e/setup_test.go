//go:build e2e

package e2e

import (
	"errors"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/sipphone"
)

// TestLoadEnv checks what the scenario demands of its environment, so
// that a missing variable is reported by name before any PBX is needed.
func TestLoadEnv(t *testing.T) {
	full := map[string]string{
		envARIURL: "http://127.0.0.1:8088/ari", envARIUser: "toritsugi", envARIPassword: "pw",
		envSIPAddr: "127.0.0.1:5060", envSIPLocalIP: "127.0.0.1", envSIPPassword: "shared",
		envSIPPwPrefix + "OP1002": "own",
	}
	tests := []struct {
		name     string
		drop     []string
		wantErr  []string // substrings of the error; nil means success
		accounts int
	}{
		{name: "complete", accounts: 4},
		{name: "per-operator password only", drop: []string{envSIPPassword}, accounts: 1},
		{name: "nothing set", drop: []string{envARIURL, envARIUser, envARIPassword, envSIPAddr, envSIPPassword, envSIPPwPrefix + "OP1002"},
			wantErr: []string{envARIURL, envARIUser, envARIPassword, envSIPAddr, envSIPPassword}},
		{name: "no sip address", drop: []string{envSIPAddr}, wantErr: []string{envSIPAddr}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			for k, v := range full {
				vars[k] = v
			}
			for _, k := range tt.drop {
				delete(vars, k)
			}
			e, err := loadEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
			if tt.wantErr != nil {
				if !errors.Is(err, errEnv) {
					t.Fatalf("err %v, want errEnv", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Accounts) != tt.accounts || e.LocalIP.String() != "127.0.0.1" {
				t.Fatalf("accounts %v local %v, want %d accounts on 127.0.0.1", e.Accounts, e.LocalIP, tt.accounts)
			}
			for _, a := range e.Accounts {
				if want := map[bool]string{true: "own", false: "shared"}[a.User == "op1002"]; a.Password != want {
					t.Errorf("%s password %q, want %q", a.User, a.Password, want)
				}
			}
		})
	}
}

// TestScenarioConfig checks that the scenario's configuration is valid
// and routes each dialled number to its client.
func TestScenarioConfig(t *testing.T) {
	e := env{ARIURL: "http://127.0.0.1:8088/ari", ARIUser: "toritsugi", ARIPassword: `p"w`,
		Accounts: []sipphone.OperatorAccount{{User: "op1001"}, {User: "op1003"}}}
	cfg, err := config.Parse("e2e.yaml", []byte(configYAML(e, t.TempDir(), "http://127.0.0.1:1/hook")), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, configYAML(e, "/tmp", "http://127.0.0.1:1/hook"))
	}
	if cfg.ARI.Password != `p"w` || len(cfg.Operators) != 2 || cfg.Operators[1].Endpoint != "PJSIP/op1003" {
		t.Fatalf("ari %+v operators %+v", cfg.ARI, cfg.Operators)
	}
	for _, c := range clients {
		cl, ok := cfg.ClientByDID(c.Dial)
		if !ok || cl.ID != c.ID || cl.Name != c.Name {
			t.Errorf("dialling %s reaches %v, want %s", c.Dial, cl, c.ID)
		}
	}
	if _, ok := cfg.Destination("hook"); !ok {
		t.Error("no webhook destination")
	}
}
