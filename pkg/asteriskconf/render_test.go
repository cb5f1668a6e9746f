package asteriskconf

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/internal/golden"
)

func TestRenderOperatorsGolden(t *testing.T) {
	ops := []Operator{
		{ID: "op1001", Name: "山田 花子", Endpoint: "PJSIP/op1001"},
		{ID: "op1002", Name: `Bad "name" <x>; y`, Endpoint: "PJSIP/op1002"},
		{ID: "op1003", Name: "", Endpoint: ""},
	}
	secrets := map[string]string{"op1001": "s3cret;with-semicolon", "op1002": ""}
	var buf bytes.Buffer
	if err := RenderOperators(&buf, ops, func(id string) string { return secrets[id] }); err != nil {
		t.Fatalf("RenderOperators: %v", err)
	}
	golden.Check(t, filepath.Join("testdata", "render_operators.golden"), buf.Bytes())
}

// The rendered sections, appended to the shipped pjsip.conf, must parse,
// resolve through the shipped templates and pass Check.
func TestRenderOperatorsPassesCheck(t *testing.T) {
	dir := fillShipped(t)
	ops := []Operator{{ID: "op2001", Name: "Sato", Endpoint: "PJSIP/op2001"}, {ID: "op2002", Name: "Ito"}}
	var buf bytes.Buffer
	if err := RenderOperators(&buf, ops, func(string) string { return "pw;1-long-enough" }); err != nil {
		t.Fatal(err)
	}
	appendFile(t, filepath.Join(dir, "pjsip.conf"), buf.String())
	if errs := Check(dir, "toritsugi", ops); len(errs) != 0 {
		t.Fatalf("Check: %v", errs)
	}
	f := mustParseFile(t, filepath.Join(dir, "pjsip.conf"))
	auth, ok := objectOfType(f, "op2001", "auth")
	if !ok {
		t.Fatal("no auth for op2001")
	}
	if pw, _ := auth.Get("password"); pw != "pw;1-long-enough" {
		t.Errorf("password = %q, want pw;1-long-enough (escaped semicolon round trip)", pw)
	}
	if typ, _ := auth.Get("auth_type"); typ != "userpass" {
		t.Errorf("auth_type = %q, want userpass from the template", typ)
	}
}

func TestRenderOperatorsErrors(t *testing.T) {
	tests := []struct {
		name   string
		ops    []Operator
		secret string
	}{
		{"not pjsip", []Operator{{ID: "a", Endpoint: "SIP/a"}}, ""},
		{"no slash", []Operator{{ID: "a", Endpoint: "op1001"}}, ""},
		{"bad name", []Operator{{ID: "a", Endpoint: "PJSIP/op 1"}}, ""},
		{"section injection", []Operator{{ID: "x]\n[evil"}}, ""},
		{"empty id", []Operator{{}}, ""},
		{"duplicate", []Operator{{ID: "a"}, {ID: "b", Endpoint: "PJSIP/a"}}, ""},
		{"newline password", []Operator{{ID: "a"}}, "pw\n[evil]"},
		{"spaces around password", []Operator{{ID: "a"}}, " pw "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := RenderOperators(&bytes.Buffer{}, tt.ops, func(string) string { return tt.secret })
			if !errors.Is(err, ErrOperator) {
				t.Errorf("err = %v, want ErrOperator", err)
			}
		})
	}
}

func TestRenderOperatorsNilSecret(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderOperators(&buf, []Operator{{ID: "op9"}}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "password = CHANGE_ME_op9\n") {
		t.Errorf("no placeholder password in:\n%s", buf.String())
	}
}

func TestRenderOperatorsWriteError(t *testing.T) {
	err := RenderOperators(failWriter{}, []Operator{{ID: "op1"}}, nil)
	if !errors.Is(err, errWrite) {
		t.Errorf("err = %v, want the writer's error", err)
	}
}

var errWrite = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }
