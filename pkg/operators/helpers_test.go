package operators

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// recorded returns the raw endpoint events of recording 12 (op1001
// registers, then unregisters), in order.
func recorded(t testing.TB) [][]byte {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", "12-endpoint-events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out [][]byte
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != 6 {
		t.Fatalf("want the 6 recorded endpoint events, got %d", len(out))
	}
	return out
}

func decode(t testing.TB, raw []byte) ari.Event {
	t.Helper()
	e, err := pbx.DecodeEvent(raw)
	if err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return e
}

// collector records the changes a registry reports.
type collector struct {
	mu      sync.Mutex
	changes []Change
}

func (c *collector) add(ch Change) {
	c.mu.Lock()
	c.changes = append(c.changes, ch)
	c.mu.Unlock()
}

func (c *collector) all() []Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Change(nil), c.changes...)
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(b *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
