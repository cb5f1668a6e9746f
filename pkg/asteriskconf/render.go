package asteriskconf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Template names defined in asterisk-conf/pjsip.conf that operator sections
// inherit from.
const (
	OperatorEndpointTemplate = "operator-endpoint"
	OperatorAuthTemplate     = "operator-auth"
	OperatorAORTemplate      = "operator-aor"
)

// ErrOperator is wrapped by errors about an Operator that cannot be rendered
// or checked.
var ErrOperator = errors.New("invalid operator")

// Operator is an operator as toritsugi knows it.
type Operator struct {
	ID       string // toritsugi's id, e.g. "op1001"
	Name     string // shown as the caller ID of the softphone's own calls
	Endpoint string // the dial string, e.g. "PJSIP/op1001"
}

// EndpointName returns the PJSIP endpoint name of op: Endpoint without its
// "PJSIP/" prefix, or ID when Endpoint is empty.
func (op Operator) EndpointName() (string, error) {
	name := op.ID
	if op.Endpoint != "" {
		tech, res, ok := strings.Cut(op.Endpoint, "/")
		if !ok || !strings.EqualFold(tech, "PJSIP") {
			return "", fmt.Errorf("%w %q: endpoint %q is not PJSIP/<name>", ErrOperator, op.ID, op.Endpoint)
		}
		name = res
	}
	if !validObjectName(name) {
		return "", fmt.Errorf("%w %q: endpoint name %q must be letters, digits, '-', '_' or '.'", ErrOperator, op.ID, name)
	}
	return name, nil
}

func validObjectName(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// RenderOperators writes the pjsip.conf sections (endpoint, auth, aor) of
// every operator, inheriting from the operator templates of
// asterisk-conf/pjsip.conf. The password of an operator is secret(op.ID), or
// the placeholder CHANGE_ME_<id> when secret is nil or returns "".
func RenderOperators(w io.Writer, ops []Operator, secret func(id string) string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "; Operators for toritsugi. In pjsip.conf, REPLACE the operator sections below the\n; \"Operators\" banner with these (a section defined twice: no endpoint loads).\n")
	seen := make(map[string]string, len(ops))
	for _, op := range ops {
		name, err := op.EndpointName()
		if err != nil {
			return err
		}
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("%w %q: endpoint %q already used by %q", ErrOperator, op.ID, name, prev)
		}
		seen[name] = op.ID
		password := ""
		if secret != nil {
			password = secret(op.ID)
		}
		if password == "" {
			password = "CHANGE_ME_" + name
		} else if why := weakPassword(name, password); why != "" {
			return fmt.Errorf("%w %q: the SIP password %s: softphones register across the Internet; use at least %d random characters", ErrOperator, op.ID, why, MinPasswordLen)
		}
		if strings.ContainsAny(password, "\r\n\x00") || strings.TrimSpace(password) != password {
			return fmt.Errorf("%w %q: password has a line break, NUL or surrounding spaces", ErrOperator, op.ID)
		}
		display := callerName(op.Name, op.ID)
		fmt.Fprintf(bw, "\n; %s\n", display)
		fmt.Fprintf(bw, "[%s](%s)\nauth = %s\naors = %s\ncallerid = \"%s\" <%s>\n\n", name, OperatorEndpointTemplate, name, name, display, name)
		fmt.Fprintf(bw, "[%s](%s)\nusername = %s\npassword = %s\n\n", name, OperatorAuthTemplate, name, escapeValue(password))
		fmt.Fprintf(bw, "[%s](%s)\n", name, OperatorAORTemplate)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write operators: %w", err)
	}
	return nil
}

// callerName makes name safe inside a quoted caller ID: no quotes, angle
// brackets, semicolons, backslashes or control characters.
func callerName(name, fallback string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '<' || r == '>' || r == ';' || r == '\\':
			return -1
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, name)
	clean = strings.Join(strings.Fields(clean), " ")
	if clean == "" {
		clean = callerName(fallback, "operator")
	}
	return clean
}

// escapeValue protects semicolons, which would otherwise start a comment.
func escapeValue(v string) string { return strings.ReplaceAll(v, ";", `\;`) }
