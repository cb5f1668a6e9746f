package yamlpos

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Pos is a 1-based line and column in a file; 0 is unknown.
type Pos struct{ Line, Col int }

// Child appends a mapping key to a path: Child("a", "b") is "a.b".
func Child(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a list index to a path: Index("a", 2) is "a[2]".
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Parent strips the last ".key" or "[i]" of a path: "a[2].b" → "a[2]" →
// "a" → "".
func Parent(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

// Positions remembers where each path was written.
type Positions map[string]Pos

// Mark records where path was written, keeping the first position recorded.
func (ps Positions) Mark(path string, p Pos) {
	if _, ok := ps[path]; !ok {
		ps[path] = p
	}
}

// Locate finds where path, or the nearest enclosing path, was written.
func (ps Positions) Locate(path string) (Pos, bool) {
	for {
		if p, ok := ps[path]; ok {
			return p, true
		}
		if path == "" {
			return Pos{}, false
		}
		path = Parent(path)
	}
}

// PathSet is a set of paths, such as those whose value had the wrong kind.
type PathSet map[string]bool

// Covers reports whether path or an enclosing path is in the set.
func (s PathSet) Covers(path string) bool {
	for {
		if s[path] {
			return true
		}
		if path == "" {
			return false
		}
		path = Parent(path)
	}
}

// IsNull reports whether n is an explicit null (~, null or nothing).
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}
