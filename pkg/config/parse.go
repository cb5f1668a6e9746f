package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/toritsugi/toritsugi/pkg/yamlpos"
)

// Parse reads a configuration from YAML bytes. env looks up environment
// overrides (os.LookupEnv in production, nil for none); filename is used in
// messages, and its directory is where relative client script paths
// (clients[].script) are read from. On failure the error is an Errors
// listing every problem found, sorted by line.
func Parse(filename string, data []byte, env func(string) (string, bool)) (*Config, error) {
	cfg, _, err := parseRead(filename, filepath.Dir(filename), data, env)
	return cfg, err
}

// parse is Parse with the directory of relative script paths given apart
// from the name shown in messages.
func parse(filename, dir string, data []byte, env func(string) (string, bool)) (*Config, error) {
	cfg, _, err := parseRead(filename, dir, data, env)
	return cfg, err
}

// parseRead is parse that also returns the other files it read or tried
// to read (scripts, keys), whether or not the configuration is valid: a
// reload that failed on a script watches that script, so that saving it
// fixed reloads.
func parseRead(filename, dir string, data []byte, env func(string) (string, bool)) (*Config, []sourceFile, error) {
	// A file saved "UTF-8 with BOM" (Windows Notepad, some editors) starts
	// with U+FEFF, which no editor shows. The YAML decoder skips it, but
	// the line-based diagnostics did not (a tab indenting line 1 was
	// reported as a character that cannot start a token): it is dropped
	// here, and line 1's columns are then as the editor shows them.
	data = bytes.TrimPrefix(data, utf8BOM)
	doc, ok := parseDocument(filename, data)
	if !ok {
		return nil, nil, doc.errs.Sorted()
	}
	text, err := doc.encode()
	if err != nil {
		doc.addAt(yamlpos.Pos{Line: 1, Col: 1}, "", fmt.Sprintf("cannot read YAML: %v", err))
		return nil, nil, doc.errs.Sorted()
	}
	raw, fromEnv, err := decodeRaw(text, env)
	if err != nil {
		if len(doc.errs) == 0 { // the walk explains failures it could see
			doc.addAt(yamlpos.Pos{Line: 1, Col: 1}, "", err.Error())
		}
		return nil, nil, doc.errs.Sorted()
	}
	c := &checker{doc: doc, fromEnv: fromEnv, env: env, dir: dir, readFile: readScriptFile}
	cfg := c.build(raw)
	if len(doc.errs) > 0 {
		return nil, c.sources, doc.errs.Sorted()
	}
	for _, b := range doc.blanks {
		switch _, set := c.fromEnv[b.path]; {
		case set:
		case b.setting:
			c.warnf(b.path, "has no value, so its default applies: write \"\" for none, or remove the key")
		default:
			c.warnf(b.path, "has no value: as if it were not written (fill it in, or remove it)")
		}
	}
	// A value the sample gave as "change-me" (a password, a token, a
	// secret) loads, but nothing would log in or be relayed with it;
	// one its environment variable replaces is no matter.
	for _, p := range doc.placeholders {
		if _, set := c.fromEnv[p]; !set {
			c.warnf(p, "still the sample's \"change-me\": put the real value here, or in its environment variable")
		}
	}
	cfg.sources = c.sources
	cfg.Warnings = c.warnings.Sorted()
	cfg.index()
	return cfg, c.sources, nil
}

// utf8BOM is the byte-order mark some editors write at a UTF-8 file's start.
var utf8BOM = []byte("\xef\xbb\xbf")

// Load reads and parses the file at path, with overrides from the process
// environment.
func Load(path string) (*Config, error) {
	return load(path, os.LookupEnv)
}

// LoadEnv is Load with the overrides looked up in env instead of the
// process environment: check-config --env-file reads the service's
// environment file without changing its own.
func LoadEnv(path string, env func(string) (string, bool)) (*Config, error) {
	return load(path, env)
}

func load(path string, env func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, env)
}

// Check validates the file at path, for "toritsugi check-config FILE". The
// error, when not nil, is either a file error (errors.Is(err, fs.ErrNotExist)
// etc.) or an Errors with one line per problem.
func Check(path string) error {
	_, err := Load(path)
	return err
}

// AsErrors extracts the positioned problems from an error returned by Parse,
// Load, Check or Store.Reload.
func AsErrors(err error) (Errors, bool) {
	var es Errors
	if errors.As(err, &es) {
		return es, true
	}
	return nil, false
}
