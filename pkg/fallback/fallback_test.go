package fallback_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/fallback"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// testConfig is a configuration with one client; log "" leaves
// fallback_log to its default.
func testConfig(t *testing.T, log string) *config.Config {
	t.Helper()
	key := ""
	if log != "" {
		key = "fallback_log: " + log
	}
	cfg, err := config.Parse("test.yaml", []byte(`
ari: {user: toritsugi, password: x}
data_dir: /nonexistent
`+key+`
clients:
  - {id: acme, name: 株式会社ACME, dids: ["03-1234-5678"], greeting: sound:acme}
operators:
  - {id: op1, name: 佐藤, endpoint: PJSIP/op1, clients: ["*"]}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		want fallback.Line
		err  bool
	}{
		{in: "v1|1795900000|1795900000.12|exten|0312345678|09012345678|%E5%B1%B1%E7%94%B0",
			want: fallback.Line{At: time.Unix(1795900000, 0), UniqueID: "1795900000.12", DID: "0312345678", CallerNumber: "09012345678", CallerName: "山田"}},
		{in: "v1|1795900000|1795900000.13|to|%3Csip%3A0312345678%40192.168.1.1%3E|anonymous|Anonymous\r",
			want: fallback.Line{At: time.Unix(1795900000, 0), UniqueID: "1795900000.13", DIDInTo: true, DID: "<sip:0312345678@192.168.1.1>", CallerNumber: "anonymous", CallerName: "Anonymous"}},
		{in: "v1|1795900000|1795900000.14|exten|%2B81312345678||", want: fallback.Line{At: time.Unix(1795900000, 0), UniqueID: "1795900000.14", DID: "+81312345678"}},
		{in: "v2|1795900000|x|exten|0312345678||", err: true},
		{in: "v1|yesterday|x|exten|0312345678||", err: true},
		{in: "v1|1795900000||exten|0312345678||", err: true},
		{in: "v1|1795900000|a/b|exten|0312345678||", err: true},
		{in: "v1|1795900000|x|from|0312345678||", err: true},
		{in: "v1|1795900000|x|exten|%ZZ||", err: true},
		{in: "v1|1795900000|x|exten|0312345678|", err: true},
		{in: "", err: true},
	} {
		got, err := fallback.ParseLine(c.in)
		if c.err {
			if !errors.Is(err, fallback.ErrLine) {
				t.Errorf("ParseLine(%q) = %+v, %v; want ErrLine", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseLine(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add("v1|1795900000|1795900000.12|exten|0312345678|09012345678|%E5%B1%B1")
	f.Add("v1|1795900000|1795900000.13|to|%3Csip%3A0312345678%40h%3E|anonymous|")
	f.Add("v1|0|x|to|||")
	cfg := &config.Config{}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := fallback.ParseLine(s)
		if err != nil {
			if !errors.Is(err, fallback.ErrLine) {
				t.Fatalf("error %v is not ErrLine", err)
			}
			return
		}
		if l.UniqueID == "" || l.At.Unix() <= 0 {
			t.Fatalf("%q read as %+v", s, l)
		}
		rec := fallback.Record(l, cfg)
		if !strings.HasPrefix(rec.ID, fallback.IDPrefix) || rec.Billable || rec.Result != store.ResultUnknownDID {
			t.Fatalf("%q: record %+v (no client is configured)", s, rec)
		}
	})
}

// TestRecord: a call to a client's number is that client's failed call,
// not billable; to a number no client has, an unknown-did; a gateway's To
// header is read for the number.
func TestRecord(t *testing.T) {
	cfg := testConfig(t, "/var/spool/asterisk/toritsugi-fallback.log")
	at := time.Unix(1795900000, 0)
	for _, c := range []struct {
		line                fallback.Line
		client, did, caller string
		result              store.Result
	}{
		{fallback.Line{At: at, UniqueID: "u1", DID: "0312345678", CallerNumber: "09012345678"}, "acme", "0312345678", "09012345678", store.ResultFailed},
		{fallback.Line{At: at, UniqueID: "u2", DIDInTo: true, DID: "<sip:0312345678@192.168.1.1>", CallerNumber: "anonymous", CallerName: "Coin line/payphone"}, "acme", "0312345678", "Coin line/payphone", store.ResultFailed},
		{fallback.Line{At: at, UniqueID: "u3", DID: "0399999999"}, "", "0399999999", "", store.ResultUnknownDID},
		{fallback.Line{At: at, UniqueID: "u4", DIDInTo: true, DID: "<sip:3@192.168.1.1>"}, "", "", "", store.ResultUnknownDID},
	} {
		rec := fallback.Record(c.line, cfg)
		if rec.ID != fallback.IDPrefix+c.line.UniqueID || rec.ClientID != c.client || rec.DID != c.did || rec.CallerID != c.caller ||
			rec.Result != c.result || rec.Billable || !rec.StartedAt.Equal(at) || !rec.EndedAt.Equal(at) || !strings.Contains(rec.Reason, fallback.Reason) {
			t.Errorf("%+v: record %+v", c.line, rec)
		}
	}
}

// scanEnv is a fallback file, a store and a reader of that file.
type scanEnv struct {
	t    *testing.T
	path string
	st   *store.Store
	r    *fallback.Reader
	told []string
}

func newScanEnv(t *testing.T) *scanEnv {
	e := &scanEnv{t: t, path: filepath.Join(t.TempDir(), "toritsugi-fallback.log"), st: storetest.Open(t)}
	cfg := testConfig(t, e.path)
	e.r = &fallback.Reader{Store: e.st, Config: func() *config.Config { return cfg }, Logger: storetest.Logger(t),
		OnRecord: func(rec store.CallRecord) { e.told = append(e.told, rec.ID) }}
	return e
}

func (e *scanEnv) scan(want int) {
	e.t.Helper()
	if n, err := e.r.Scan(context.Background()); err != nil || n != want {
		e.t.Fatalf("Scan = %d, %v; want %d stored", n, err, want)
	}
}

func (e *scanEnv) write(s string) {
	e.t.Helper()
	f, err := os.OpenFile(e.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		e.t.Fatal(err)
	}
}

// rewrite writes the file's lines again into a new file put in its place
// (a new inode: the reader reads them again).
func (e *scanEnv) rewrite() {
	e.t.Helper()
	b, err := os.ReadFile(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.path+".tmp", b, 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(e.path+".tmp", e.path); err != nil {
		e.t.Fatal(err)
	}
}

func line(id, did string) string {
	return "v1|1795900000|" + id + "|exten|" + did + "|09012345678|\n"
}

// TestScanRecordsEachCallOnce: lines appended are recorded once each and
// handed on; a line still being written waits; a bad line, and one whose
// time no record can have, are passed over.
func TestScanRecordsEachCallOnce(t *testing.T) {
	e := newScanEnv(t)
	e.scan(0) // no file yet: nothing refused
	e.write(line("u1", "0312345678") + "garbage\n" + "v1|9999999999|u9|exten|0312345678||\n" + line("u2", "0399999999") + "v1|1795900120|u3|exten|03123")
	e.scan(2)
	e.write("45678|09033334444|\n")
	e.scan(1)
	e.scan(0)
	if strings.Join(e.told, ",") != "fallback-u1,fallback-u2,fallback-u3" {
		t.Fatalf("handed on %v", e.told)
	}
	if rec, err := e.st.Call("fallback-u3"); err != nil || rec.ClientID != "acme" || rec.CallerID != "09033334444" || rec.CallerKind != "number" {
		t.Fatalf("the line written in two parts: %+v, %v", rec, err)
	}
	c, err := e.st.MonthlyCounts("acme", time.Unix(1795900000, 0))
	if err != nil || c.Total != 2 || c.Billable != 0 {
		t.Fatalf("acme's counts %+v (%v), want 2 calls, none billable", c, err)
	}
}

// TestScanAfterRotations: the lines written between the last Scan and a
// rotation are read from path.1, whether logrotate renamed the file
// (create) or copied and cut it (copytruncate); the new file is read from
// its start; nothing is stored twice.
func TestScanAfterRotations(t *testing.T) {
	for _, mode := range []string{"create", "copytruncate"} {
		t.Run(mode, func(t *testing.T) {
			e := newScanEnv(t)
			e.write(line("u1", "0312345678"))
			e.scan(1)
			e.write(line("u2", "0312345678")) // after the Scan, before the rotation
			e.rotate(mode)
			// The new file grows past where the old one was read to.
			e.write(line("u3", "0312345678") + line("u4", "0312345678") + line("u5", "0312345678"))
			e.scan(4)
			if strings.Join(e.told, ",") != "fallback-u1,fallback-u2,fallback-u3,fallback-u4,fallback-u5" {
				t.Fatalf("handed on %v", e.told)
			}
			e.scan(0)
		})
	}
}

// TestScanHandsOnAgainAfterAStop: a call stored but not handed on (a stop
// in between: the cursor was not saved) is handed on at the next Scan (the
// desk relays a call once); one the controller recorded itself (Stasis
// failed after it saw the call) is not recorded a second time.
func TestScanHandsOnAgainAfterAStop(t *testing.T) {
	e := newScanEnv(t)
	rec := fallback.Record(fallback.Line{At: time.Unix(1795900000, 0), UniqueID: "u1", DID: "0312345678"}, testConfig(t, e.path))
	if _, err := e.st.PutCallIfAbsent(rec); err != nil { // stored, then the stop
		t.Fatal(err)
	}
	if err := e.st.PutCall(store.CallRecord{ID: "u2", ClientID: "acme", Result: store.ResultAnswered, StartedAt: time.Unix(1795900000, 0)}); err != nil {
		t.Fatal(err)
	}
	e.write(line("u1", "0312345678") + line("u2", "0312345678"))
	e.scan(0)
	if strings.Join(e.told, ",") != "fallback-u1" {
		t.Fatalf("handed on %v, want fallback-u1 only", e.told)
	}
	if _, err := e.st.Call("fallback-u2"); err == nil {
		t.Fatal("a call the controller recorded was recorded again from the fallback file")
	}
}

// TestScanUnreadable: a file that cannot be read is an error Run logs (and
// tries again), not a crash; nothing is recorded.
func TestScanUnreadable(t *testing.T) {
	e := newScanEnv(t)
	if err := os.Mkdir(e.path, 0o700); err != nil { // unreadable as a file, for root too
		t.Fatal(err)
	}
	if n, err := e.r.Scan(context.Background()); err == nil || n != 0 {
		t.Fatalf("Scan of a directory = %d, %v; want an error", n, err)
	}
	// Run says so (for /healthz) until a read works again.
	e.r.Interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.r.Run(ctx) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never %s", what)
			}
		}
	}
	waitFor("failing", e.r.Failing)
	if err := os.Remove(e.path); err != nil {
		t.Fatal(err)
	}
	e.write(line("1795900000.1", "0312345678"))
	waitFor("readable again", func() bool { return !e.r.Failing() })
	cancel()
	<-done
}

// TestShippedDialplanWritesWhatScanReads: the lines asterisk-conf's
// fallback writes, with the dialplan's expressions given values as
// Asterisk would (URIENCODE: percent-encoding), are lines ParseLine reads,
// field for field, in the file the configuration reads by default.
func TestShippedDialplanWritesWhatScanReads(t *testing.T) {
	b, err := os.ReadFile("../../asterisk-conf/extensions.conf")
	if err != nil {
		t.Fatal(err)
	}
	// al,u: append lines, Unix line ends (without the format, FILE()
	// will not write a file that does not exist yet: func_env.c).
	set := regexp.MustCompile(`Set\(FILE\(\$\{ASTSPOOLDIR\}/([^,]+),,,al,u\)=(.*)\)$`)
	values := map[string]string{
		"${EPOCH}": "1795900000", "${UNIQUEID}": "1795900000.12",
		"${EXTEN}": "0312345678", "${PJSIP_HEADER(read,To)}": "<sip:0312345678@192.168.1.1>",
		"${CALLERID(num)}": "09012345678", "${CALLERID(name)}": "山田 太郎|株式会社",
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		m := set.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		n++
		// ASTSPOOLDIR is /var/spool/asterisk (asterisk.conf's default).
		if got, def := "/var/spool/asterisk/"+m[1], testConfig(t, "").FallbackLog; got != def {
			t.Errorf("the dialplan writes %s, the configuration reads %s by default", got, def)
		}
		text := m[2]
		for _, enc := range regexp.MustCompile(`\$\{URIENCODE\((\$\{[^}]*\})\)\}`).FindAllStringSubmatch(text, -1) {
			v, ok := values[enc[1]]
			if !ok {
				t.Fatalf("no value for %s", enc[1])
			}
			text = strings.Replace(text, enc[0], url.PathEscape(v), 1)
		}
		for k, v := range values {
			text = strings.ReplaceAll(text, k, v)
		}
		l, err := fallback.ParseLine(text)
		if err != nil || l.UniqueID != "1795900000.12" || l.CallerNumber != "09012345678" || l.CallerName != "山田 太郎|株式会社" ||
			!(l.DID == "0312345678" && !l.DIDInTo || l.DID == "<sip:0312345678@192.168.1.1>" && l.DIDInTo) {
			t.Errorf("the dialplan's line %q reads as %+v, %v", text, l, err)
		}
	}
	if n != 4 {
		t.Errorf("%d fallback lines written by the dialplan, want 4 (trunk national and E.164, registration, gateway)", n)
	}
}

// rotate rotates the file as logrotate would: create (renamed to .1, a new
// empty file) or copytruncate (copied to .1, cut).
func (e *scanEnv) rotate(mode string) {
	e.t.Helper()
	switch mode {
	case "create":
		if err := os.Rename(e.path, e.path+".1"); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(e.path, nil, 0o600); err != nil {
			e.t.Fatal(err)
		}
	case "copytruncate":
		b, err := os.ReadFile(e.path)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(e.path+".1", b, 0o600); err != nil {
			e.t.Fatal(err)
		}
		if err := os.Truncate(e.path, 0); err != nil {
			e.t.Fatal(err)
		}
	}
}

// TestScanRotatedWhileEmpty: the usual case: the file is empty at a Scan
// (lines come only during outages), an outage writes a line, the file is
// rotated, toritsugi starts: the line is read from .1.
func TestScanRotatedWhileEmpty(t *testing.T) {
	for _, mode := range []string{"create", "copytruncate"} {
		t.Run(mode, func(t *testing.T) {
			e := newScanEnv(t)
			e.write(line("u1", "0312345678"))
			e.scan(1)
			e.rotate(mode)
			e.scan(0) // the new, empty file
			e.write(line("u2", "0312345678"))
			e.rotate(mode)
			e.write(line("u3", "0312345678"))
			e.scan(2)
			if strings.Join(e.told, ",") != "fallback-u1,fallback-u2,fallback-u3" {
				t.Fatalf("handed on %v", e.told)
			}
		})
	}
}

// TestScanPassesOverALongJunkLine: 4 MiB without a line end are passed
// over to the next line end, once; the lines before and after are read
// once each.
func TestScanPassesOverALongJunkLine(t *testing.T) {
	e := newScanEnv(t)
	e.write(line("u1", "0312345678") + strings.Repeat("x", 5<<20) + "\n" + line("u2", "0312345678"))
	for range 4 {
		if _, err := e.r.Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(e.told, ",") != "fallback-u1,fallback-u2" {
		t.Fatalf("handed on %v, want u1 and u2 once each", e.told)
	}
}

// TestScanOldLinesReadAgainAreNotRelayed: a line read again (the file
// copied to a new inode) is not handed on again if its call is a week old
// or more: its relay's outbox entry may have been purged (30 days after
// delivery), and the client would be told twice; a recent one is (a stop
// may have come between storing and handing on; the relay is idempotent
// while the entry is kept).
func TestScanOldLinesReadAgainAreNotRelayed(t *testing.T) {
	for _, c := range []struct {
		age  time.Duration
		want string
	}{{30 * 24 * time.Hour, "fallback-u1"}, {24 * time.Hour, "fallback-u1,fallback-u1"}} {
		e := newScanEnv(t)
		e.r.Now = func() time.Time { return time.Unix(1795900000, 0).Add(c.age) }
		e.write(line("u1", "0312345678"))
		e.scan(1)
		e.rewrite() // same lines, a new inode
		e.scan(0)
		if got := strings.Join(e.told, ","); got != c.want {
			t.Errorf("a call %v old read again: handed on %s, want %s", c.age, got, c.want)
		}
	}
}

// TestScanLineWrittenWhileRotatedIsRead: a line appended to the live file
// while .1 is read (Asterisk still refusing calls as toritsugi starts) is
// read, and the file it is in is recognised at the next copytruncate: the
// line written after that read is read from .1.
func TestScanLineWrittenWhileRotatedIsRead(t *testing.T) {
	e := newScanEnv(t)
	e.write(line("u1", "0312345678"))
	e.scan(1)
	e.write(line("u2", "0312345678"))
	e.rotate("copytruncate") // the live file is empty
	tell := e.r.OnRecord
	e.r.OnRecord = func(rec store.CallRecord) {
		tell(rec)
		if rec.ID == "fallback-u2" { // while .1 is read
			e.write(line("u3", "0312345678"))
		}
	}
	e.scan(2) // u2 from .1, u3 from the live file
	e.r.OnRecord = tell
	e.write(line("u4", "0312345678")) // after the Scan, before the rotation
	e.rotate("copytruncate")
	e.scan(1)
	if got := strings.Join(e.told, ","); got != "fallback-u1,fallback-u2,fallback-u3,fallback-u4" {
		t.Fatalf("handed on %s, want u1 to u4", got)
	}
}

// TestScanPartialFirstLineIsNoRotation: a first Scan that sees only part
// of the first line, then the rest: no rotation is seen, nothing is read
// or handed on twice.
func TestScanPartialFirstLineIsNoRotation(t *testing.T) {
	e := newScanEnv(t)
	l := line("u1", "0312345678")
	e.write(l[:20])
	e.scan(0)
	e.write(l[20:])
	e.scan(1)
	e.write(line("u2", "0312345678"))
	e.scan(1)
	e.scan(0)
	if got := strings.Join(e.told, ","); got != "fallback-u1,fallback-u2" {
		t.Fatalf("handed on %s", got)
	}
}
