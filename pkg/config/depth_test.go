package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDepthThroughAliases: a tree under an x- key nested far deeper
// than maxDepth once its aliases are expanded (a chain of anchors, each
// 30 levels deep, each naming the last) passes tooDeep, which does not
// follow aliases, and reaches the decoder: the depth limit is bypassed.
func TestDepthThroughAliases(t *testing.T) {
	sample, err := os.ReadFile("sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("\nx-chain:\n")
	prev := ""
	for j := range 8 { // 8 anchors of 30 levels: 240 deep expanded
		fmt.Fprintf(&b, "  l%d: &l%d\n", j, j)
		for i := range 30 {
			fmt.Fprintf(&b, "%sa%d:", strings.Repeat("  ", i+2), i)
			if i == 29 {
				if prev == "" {
					b.WriteString(" 1")
				} else {
					b.WriteString(" *" + prev)
				}
			}
			b.WriteString("\n")
		}
		prev = fmt.Sprintf("l%d", j)
	}
	_, err = Parse("deep.yaml", append(sample, b.String()...), nil)
	if err == nil || !strings.Contains(err.Error(), "levels deep") {
		t.Fatalf("a tree 240 levels deep through its aliases: Parse = %v, want it refused as too deep", err)
	}
}
