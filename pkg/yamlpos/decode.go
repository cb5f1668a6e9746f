package yamlpos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Decode reads the first YAML document of data as a node tree and peeks at
// a second one, which callers usually refuse. first is nil for empty input.
// A panic of the YAML library is returned as an error.
func Decode(data []byte) (first, next *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			first, next, err = nil, nil, fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var second yaml.Node
	switch err := dec.Decode(&second); {
	case err == nil:
		return &doc, &second, nil
	case errors.Is(err, io.EOF):
		return &doc, nil, nil
	default:
		return nil, nil, err
	}
}

// yamlLineErr matches the syntax errors of the YAML decoder.
var yamlLineErr = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// SyntaxLine splits a YAML decoder error of the form "yaml: line N: msg"
// into N and msg; ok is false, line 1 and msg the whole text otherwise.
func SyntaxLine(err error) (line int, msg string, ok bool) {
	msg = err.Error()
	m := yamlLineErr.FindStringSubmatch(msg)
	if m == nil {
		return 1, msg, false
	}
	line = 1
	if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
		line = n
	}
	return line, m[2], true
}

// maxProblemSearch bounds the lines ProblemLine searches: each step of its
// search parses the document up to a line again.
const maxProblemSearch = 100000

// ProblemLine is SyntaxLine, with the line of the problem when the YAML
// decoder names another. For a problem inside a block mapping or list (a
// key indented one space too few or too many in a client's settings) it
// names the line before the block's start, often far above: the problem is
// on the first line whose document up to it fails with the same message
// at the same named line (a document cut before the problem parses, or
// fails otherwise; cut after it, it fails as the whole does).
func ProblemLine(data []byte, err error) (line int, msg string, ok bool) {
	line, msg, ok = SyntaxLine(err)
	if !ok {
		return line, msg, ok
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxProblemSearch || line >= len(lines) {
		return line, msg, ok
	}
	failsAlike := func(n int) bool {
		_, _, err := Decode(bytes.Join(lines[:n], nil))
		if err == nil {
			return false
		}
		l, m, ok := SyntaxLine(err)
		return ok && l == line && m == msg
	}
	n := line + sort.Search(len(lines)-line, func(i int) bool { return failsAlike(line + i) })
	if n < len(lines) || failsAlike(len(lines)) {
		return n, msg, ok
	}
	return line, msg, ok
}
