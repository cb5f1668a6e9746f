package aritest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// line is one line of a recorded transcript (see testdata/recordings/README.md).
type line struct {
	TMs      int               `json:"t_ms"`
	Kind     string            `json:"kind"`
	SentMs   int               `json:"sent_ms"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Query    map[string]string `json:"query"`
	Body     json.RawMessage   `json:"body"`
	BodyText *string           `json:"body_text"`
	Auth     string            `json:"auth"`
	Status   int               `json:"status"`
	Headers  map[string]string `json:"headers"`
	Response json.RawMessage   `json:"response"`
	RespText string            `json:"response_text"`
	Trunc    json.RawMessage   `json:"truncated"`
	WS       int               `json:"ws"`
	Event    json.RawMessage   `json:"event"`
	Action   string            `json:"action"`
	URL      string            `json:"url"`
	Name     string            `json:"name"`
	Scenario string            `json:"scenario"`
	Args     []string          `json:"args"`
	Messages []sipMsg          `json:"messages"`
	Text     string            `json:"text"`
}

type sipMsg struct {
	TMs  int    `json:"t_ms"`
	Dir  string `json:"dir"`
	Line string `json:"line"`
}

func loadTranscript(t *testing.T, path string) []line {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func transcripts(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/recordings/*.jsonl")
	if err != nil || len(files) != 14 {
		t.Fatalf("want 14 transcripts, got %d (%v)", len(files), err)
	}
	sort.Strings(files)
	return files
}

func argAfter(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

var (
	reTimestamp = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}`)
	reUUID      = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	reChanID    = regexp.MustCompile(`\b\d{10}\.\d+\b`)
	reChanName  = regexp.MustCompile(`((?:PJSIP|Recorder)/[A-Za-z0-9]+)-[0-9a-f]{8}`)
	reSIPCallID = regexp.MustCompile(`\b1-\d+@127\.0\.0\.1\b`)
)

// idMap maps recorded ids to the ids the fake made.
type idMap map[string]string

// toFake rewrites recorded ids in text into the fake's.
func (m idMap) toFake(s string) string {
	s = reChanID.ReplaceAllStringFunc(s, func(id string) string {
		if v, ok := m[id]; ok {
			return v
		}
		return id
	})
	return reUUID.ReplaceAllStringFunc(s, func(id string) string {
		if v, ok := m[id]; ok {
			return v
		}
		return id
	})
}

// normalize removes what legitimately differs between runs: timestamps,
// generated names, SIP call ids, unmapped UUIDs and RTP statistics.
func normalize(s string) string {
	s = reTimestamp.ReplaceAllString(s, "TS")
	s = reChanName.ReplaceAllString(s, "$1-N")
	s = reSIPCallID.ReplaceAllString(s, "CALLID")
	s = reUUID.ReplaceAllString(s, "UUID")
	return s
}

// canonical parses JSON text for deep comparison, blanking RTP QOS values.
func canonical(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("bad json %q: %v", text, err)
	}
	if m, ok := v.(map[string]any); ok {
		if name, _ := m["variable"].(string); strings.HasPrefix(name, "RTPAUDIOQOS") {
			m["value"] = "QOS"
		}
	}
	return v
}
