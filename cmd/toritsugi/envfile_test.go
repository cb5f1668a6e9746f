package main

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadEnvFile: the part of systemd's EnvironmentFile= syntax read
// (comments, blank lines, quotes), and every line it cannot read named
// by file:line, its value never repeated.
func TestReadEnvFile(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string]string
		errs       []string // each error line, after "env:"
	}{
		{"empty", "", map[string]string{}, nil},
		{"comments and blank lines", "# a comment\n; another\n\n   \nA=1\n", map[string]string{"A": "1"}, nil},
		{"spaces trimmed, CRLF, BOM", "\ufeff  A = x y \r\nB=\r\n", map[string]string{"A": "x y", "B": ""}, nil},
		{"single quotes as written", `P='pa ss#w\o"rd'`, map[string]string{"P": `pa ss#w\o"rd`}, nil},
		{"double quotes, escapes", `P="a\"b\\c\$d\x"`, map[string]string{"P": `a"b\c$d\x`}, nil},
		{"a # inside a value", "T=abc#def", map[string]string{"T": "abc#def"}, nil},
		{"the last of a name wins", "A=1\nA=2", map[string]string{"A": "2"}, nil},
		{"lines it cannot read", "A=1\nno-equals-s3cret\nexport B=2\n9X=s3cret\nC=\"s3cret\nD='s3' cret\nE=s3\\cret\nF=s3\"cret\"\n",
			nil, []string{
				`:2: no "=": write KEY=VALUE`,
				`:3: "export" is shell, not an environment file: write KEY=VALUE`,
				`:4: the name before "=" is not a variable name (letters, digits and _)`,
				`:5: C's value: the quote " is not closed on its line`,
				`:6: D's value goes on after its closing quote`,
				`:7: E's value has a backslash or a quote inside`,
				`:8: F's value has a backslash or a quote inside`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "env")
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readEnvFile(path)
			if tc.errs == nil {
				if err != nil || !maps.Equal(got, tc.want) {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("read %q, want errors", got)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.errs) {
				t.Fatalf("errors:\n%v\nwant %d", err, len(tc.errs))
			}
			for i, l := range lines {
				if !strings.HasPrefix(l, path+tc.errs[i]) {
					t.Errorf("error %q, want %q", l, path+tc.errs[i])
				}
			}
			if strings.Contains(err.Error(), "s3") {
				t.Errorf("an error repeats a value: %v", err)
			}
		})
	}
	if _, err := readEnvFile(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "--env-file") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestCheckConfigEnvFile: with the secrets moved to the service's
// environment file (README), check-config FILE fails falsely; with
// --env-file it sees them, and the file's errors of the environment's
// making, without setting them in its own environment.
func TestCheckConfigEnvFile(t *testing.T) {
	dir := t.TempDir()
	good := writeConfig(t, dir, "http://127.0.0.1:8088/ari")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "nopassword.yaml")
	if err := os.WriteFile(cfgPath, bytes.Replace(data, []byte("  password: toritsugi\n"), nil, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(text string) string {
		p := filepath.Join(t.TempDir(), "env")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secrets := env("# /etc/toritsugi/env\nTORITSUGI_ARI_PASSWORD='s3cret'\n")
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string // "" for ok
	}{
		{"without the environment file", []string{cfgPath}, "ari.password: is required (in the file or as $TORITSUGI_ARI_PASSWORD)"},
		{"with it", []string{"--env-file", secrets, cfgPath}, ""},
		{"with it, after the file", []string{cfgPath, "--env-file=" + secrets}, ""},
		{"with it, and --config", []string{"--env-file", secrets, "--config", cfgPath}, ""},
		{"an error of the environment's making", []string{"--env-file", env("TORITSUGI_ARI_PASSWORD=s3cret\nTORITSUGI_HTTP_LISTEN=localhost\n"), cfgPath},
			`http.listen: "localhost" is not host:port (from $TORITSUGI_HTTP_LISTEN)`},
		{"a line it cannot read", []string{"--env-file", env("TORITSUGI_ARI_PASSWORD=s3cret\nexport X=1\n"), cfgPath}, `env:2: "export" is shell`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"check-config"}, tc.args...), &stdout, &stderr)
			switch {
			case tc.stderr == "" && (err != nil || !strings.HasSuffix(stdout.String(), cfgPath+": ok\n")):
				t.Fatalf("%v, stdout %q, stderr %q; want ok", err, stdout.String(), stderr.String())
			case tc.stderr != "" && (err == nil || !strings.Contains(stderr.String(), tc.stderr)):
				t.Fatalf("%v, stderr %q; want %q", err, stderr.String(), tc.stderr)
			}
		})
	}
	if v, ok := os.LookupEnv("TORITSUGI_ARI_PASSWORD"); ok {
		t.Errorf("check-config set TORITSUGI_ARI_PASSWORD=%q in its own environment", v)
	}
	for _, args := range [][]string{{"--env-file"}, {"--env-file", secrets}, {"--env-file=", cfgPath}, {"--env", secrets, cfgPath}} {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"check-config"}, args...), &out, &out)
		if !errors.As(err, new(usageError)) {
			t.Errorf("check-config %q = %v, want the usage", args, err)
		}
	}
}
