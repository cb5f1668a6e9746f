package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// envName is a variable's name as an environment file may write it.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// readEnvFile reads the variables of an environment file as systemd's
// EnvironmentFile= writes them (the service's secrets, README's
// /etc/toritsugi/env), for check-config to see the configuration as the
// service does. It reads a strict, small part of that syntax: blank
// lines; comments, lines starting # or ;; KEY=VALUE, spaces around both
// trimmed, the value in single quotes (taken as written) or double
// quotes (\" \\ \$ and \` escaped) or bare. A line it cannot read, one
// systemd would read otherwise (a backslash outside double quotes, a
// continued line, text after a closing quote), is an error naming
// file:line, never a guess (a check must not pass on values the service
// will not have), and never repeats a value (a secret).
func readEnvFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--env-file: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	vars := map[string]string{}
	var errs []error
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, value, err := envLine(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", path, i+1, err))
			continue
		}
		vars[key] = value
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return vars, nil
}

// envLine splits one KEY=VALUE line, its quotes taken off.
func envLine(line string) (key, value string, err error) {
	key, value, ok := strings.Cut(line, "=")
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	switch {
	case !ok:
		return "", "", errors.New("no \"=\": write KEY=VALUE")
	case strings.HasPrefix(key, "export "):
		return "", "", errors.New("\"export\" is shell, not an environment file: write KEY=VALUE")
	case !envName.MatchString(key):
		// Not repeated: it may be a secret written without its name.
		return "", "", errors.New("the name before \"=\" is not a variable name (letters, digits and _)")
	case value == "":
		return key, "", nil
	}
	switch q := value[0]; q {
	case '\'', '"':
		end := closingQuote(value, q)
		if end < 0 {
			return "", "", fmt.Errorf("%s's value: the quote %c is not closed on its line", key, q)
		}
		if strings.TrimSpace(value[end+1:]) != "" {
			return "", "", fmt.Errorf("%s's value goes on after its closing quote", key)
		}
		inner := value[1:end]
		if q == '"' {
			inner = unescapeDouble(inner)
		}
		return key, inner, nil
	}
	if strings.ContainsAny(value, "\\\"'") {
		return "", "", fmt.Errorf("%s's value has a backslash or a quote inside: quote it, '...' (taken as written) or \"...\" (\\\" \\\\ \\$ \\` escaped)", key)
	}
	return key, value, nil
}

// closingQuote is the index of the quote q closing s (s[0] is the
// opening one), a double quote escaped with a backslash passed over; -1
// when there is none.
func closingQuote(s string, q byte) int {
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q:
			return i
		}
	}
	return -1
}

// unescapeDouble takes the backslash off \" \\ \$ and \` as systemd does
// in double quotes; any other backslash stays.
func unescapeDouble(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
