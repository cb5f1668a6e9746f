package config

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/intake"
)

// DefaultScript is the intake preset of a client without a script key.
const DefaultScript = intake.ScopeStandard

// scriptPresets are the preset names a client's script key accepts.
var scriptPresets = []string{intake.ScopeSimple, intake.ScopeStandard, intake.ScopeGuided}

// maxScriptFile bounds what is read of a script file.
const maxScriptFile = 1 << 20

// errNotRegular refuses devices, directories and the like as script files.
var errNotRegular = errors.New("not a regular file")

// script resolves a client's script: a preset name, or a YAML file read
// relative to the configuration's directory and checked by
// intake.ParseScript, whose problems are reported at the script key with
// their own file:line:col.
func (c *checker) script(path string, raw *string) (string, intake.Script) {
	ref := DefaultScript
	if raw != nil && strings.TrimSpace(*raw) != "" {
		ref = strings.TrimSpace(*raw)
	}
	if slices.Contains(scriptPresets, ref) {
		s, err := intake.Preset(ref)
		if err != nil { // the presets listed above always exist
			c.errf(path, "preset %q: %v", ref, err)
		}
		return ref, s
	}
	if ext := strings.ToLower(filepath.Ext(ref)); ext != ".yaml" && ext != ".yml" {
		c.errf(path, "%q is not one of %s or a path to a .yaml script file", ref, strings.Join(scriptPresets, ", "))
		return ref, intake.Script{}
	}
	file := ref
	if !filepath.IsAbs(file) {
		file = filepath.Join(c.dir, file)
	}
	data, err := c.readSource(file)
	if err != nil {
		c.errf(path, "cannot read script %q: %s", ref, fileReason(err))
		return ref, intake.Script{}
	}
	s, err := intake.ParseScript(ref, data)
	if err != nil {
		var es intake.Errors
		if !errors.As(err, &es) {
			c.errf(path, "%v", err)
			return ref, intake.Script{}
		}
		for _, e := range es {
			c.errf(path, "%s", e.Error())
		}
		return ref, intake.Script{}
	}
	return ref, s
}

// fileReason is the reason of a file error without the path (which the
// message already quotes as written).
func fileReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// readScriptFile reads a regular file of at most maxScriptFile bytes (one
// more is read so that intake reports the file as too large).
func readScriptFile(path string) ([]byte, error) {
	// Stat before opening: opening a named pipe would block.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errNotRegular}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScriptFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// Script is the client's intake script: its preset or its file, loaded and
// checked by Parse (the standard preset for a hand-built Client). Each call
// returns a copy the caller may change.
func (c *Client) Script() intake.Script {
	s := c.script
	if s.ID == "" && len(s.Fields) == 0 {
		def, _ := intake.Preset(DefaultScript)
		return def
	}
	s.Fields = slices.Clone(s.Fields)
	for i := range s.Fields {
		f := &s.Fields[i]
		f.Choices = slices.Clone(f.Choices)
		if f.ShowIf != nil {
			cond := *f.ShowIf
			cond.Equals = slices.Clone(cond.Equals)
			cond.Caller = slices.Clone(cond.Caller)
			f.ShowIf = &cond
		}
	}
	return s
}

// sourceFile is a file a configuration read besides itself (a script, a
// private key), and a digest of what it read (or of why it could not).
type sourceFile struct {
	path string
	sum  [32]byte
}

// readSource reads file and keeps it among the configuration's sources.
func (c *checker) readSource(file string) ([]byte, error) {
	data, err := c.readFile(file)
	if !slices.ContainsFunc(c.sources, func(s sourceFile) bool { return s.path == file }) {
		c.sources = append(c.sources, sourceFile{path: file, sum: sourceSum(data, err)})
	}
	return data, err
}

func sourceSum(data []byte, err error) [32]byte {
	if err != nil {
		return sha256.Sum256([]byte("unreadable: " + err.Error()))
	}
	return sha256.Sum256(data)
}
