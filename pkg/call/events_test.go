package call_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// TestUnreadEventsAreUnread: no event type the link asks Asterisk not to
// send is one the controller's packages act on (a type switch case or
// type assertion on *ari.X, an ari.Events.X, or a string literal naming an
// event type, in their non-test sources), and every entry is an event type
// the ari library knows.
func TestUnreadEventsAreUnread(t *testing.T) {
	read := map[string]string{}
	for _, dir := range []string{".", "../queue", "../operators", "../controller", "../desk", "../console"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") || f == "events.go" { // events.go: the list itself
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				var types []ast.Expr
				switch n := n.(type) {
				case *ast.CaseClause:
					types = n.List
				case *ast.TypeAssertExpr:
					types = []ast.Expr{n.Type}
				case *ast.SelectorExpr:
					// ari.Events.X: a type name compared or switched on.
					if inner, ok := n.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "Events" {
						if pkg, ok := inner.X.(*ast.Ident); ok && pkg.Name == "ari" {
							read[eventName(n.Sel.Name)] = f
						}
					}
				case *ast.BasicLit:
					// "X" compared with an event's type.
					if n.Kind == token.STRING {
						if v, err := strconv.Unquote(n.Value); err == nil && pbx.KnownEventType(v) {
							read[v] = f
						}
					}
				}
				for _, e := range types {
					if star, ok := e.(*ast.StarExpr); ok {
						e = star.X
					}
					if sel, ok := e.(*ast.SelectorExpr); ok {
						if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "ari" {
							read[sel.Sel.Name] = f
						}
					}
				}
				return true
			})
		}
	}
	for _, want := range []string{"StasisStart", "PlaybackFinished", "ChannelDestroyed", "EndpointStateChange"} {
		if read[want] == "" {
			t.Fatalf("the scan missed %s (found %v): the test is broken", want, read)
		}
	}
	for _, typ := range call.UnreadEvents {
		if f := read[typ]; f != "" {
			t.Errorf("%s is in call.UnreadEvents but %s reads it", typ, f)
		}
		if !pbx.KnownEventType(typ) {
			t.Errorf("%s is not an ARI event type", typ)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(call.UnreadEvents)))) != len(call.UnreadEvents) {
		t.Error("call.UnreadEvents has duplicates")
	}
}

// eventName maps an ari.Events field to its type name (the library spells
// ChannelCallerID, the event is ChannelCallerId).
func eventName(field string) string {
	if field == "ChannelCallerID" {
		return "ChannelCallerId"
	}
	return field
}
