package controller_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/gcpercent"
)

// fakeProcessEnv, set to a benchSetup ("operators talk", e.g. "600 200ms"),
// makes this test binary serve a benchmark's fake Asterisk instead of
// running tests: a benchmark starts it so that the fake runs in a process
// of its own, as Asterisk does, and not in the controller's Go runtime
// (its scheduler, its collector).
const fakeProcessEnv = "TORITSUGI_BENCH_FAKE_PROCESS"

func TestMain(m *testing.M) {
	if spec, ok := os.LookupEnv(fakeProcessEnv); ok {
		if err := serveFakeProcess(spec, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "fake process:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeReport is what the fake's process measured since it last reported:
// event-to-command latencies by kind, events the controller left without a
// command, events written, requests received, and its CPU time.
type fakeReport struct {
	Latency   map[string][]time.Duration
	Unmatched int
	Events    int
	Requests  int
	CPU       time.Duration
}

// serveFakeProcess runs the fake's side of a process benchmark. It writes
// "url <ARI URL>" once the fake listens, then answers one line per command
// read from in until in ends:
//
//	calls N RATE  places N calls to acme, one every 1/RATE s; replies
//	              "placed <first> <last>" (Unix nanoseconds)
//	report        replies a fakeReport as one line of JSON, and starts afresh
func serveFakeProcess(spec string, in io.Reader, out io.Writer) error {
	var s benchSetup
	var talk string
	if _, err := fmt.Sscanf(spec, "%d %s", &s.operators, &talk); err != nil {
		return fmt.Errorf("%s=%q: want \"operators talk\": %w", fakeProcessEnv, spec, err)
	}
	var err error
	if s.talk, err = time.ParseDuration(talk); err != nil {
		return fmt.Errorf("%s=%q: %w", fakeProcessEnv, spec, err)
	}
	s.registered, s.trace = true, true
	gcpercent.Apply()
	tr := &tracer{}
	fake, err := newBenchFake(s, tr)
	if err != nil {
		return err
	}
	defer fake.Close()
	w := bufio.NewWriter(out)
	reply := func(format string, args ...any) error {
		fmt.Fprintf(w, format+"\n", args...)
		return w.Flush()
	}
	if err := reply("url %s", fake.URL()); err != nil {
		return err
	}
	cpu0 := cpuTime()
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		switch {
		case len(f) == 3 && f[0] == "calls":
			n, err1 := strconv.Atoi(f[1])
			rate, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil || n < 1 || rate < 1 {
				return fmt.Errorf("bad command %q", lines.Text())
			}
			var placeErr error
			first, last := paceCalls(n, rate, func(i int) {
				if placeErr == nil {
					_, placeErr = fake.IncomingCall(benchDID, fmt.Sprintf("090%08d", i))
				}
			})
			if placeErr != nil {
				return placeErr
			}
			err = reply("placed %d %d", first.UnixNano(), last.UnixNano())
		case len(f) == 1 && f[0] == "report":
			events, requests := tr.counts()
			r := fakeReport{Events: events, Requests: requests, CPU: cpuTime() - cpu0}
			r.Latency, r.Unmatched = commandLatencies(tr.take())
			cpu0 += r.CPU
			var b []byte
			if b, err = json.Marshal(r); err == nil {
				err = reply("%s", b)
			}
		default:
			return fmt.Errorf("bad command %q", lines.Text())
		}
		if err != nil {
			return err
		}
	}
	return lines.Err()
}

// fakeProcess is a benchmark's handle on the fake's process.
type fakeProcess struct {
	tb   testing.TB
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	url  string
	once sync.Once
}

// startFakeProcess starts this test binary as the fake Asterisk of s; it
// stops when tb ends.
func startFakeProcess(tb testing.TB, s benchSetup) *fakeProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %s", fakeProcessEnv, s.operators, s.talk))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &fakeProcess{tb: tb, cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	tb.Cleanup(p.stop)
	url := p.expect("url")
	if len(url) != 1 {
		tb.Fatalf("fake process: url line %q", url)
	}
	p.url = url[0]
	return p
}

// send writes a command line and returns the fields of the reply line,
// which must start with word (the reply's first field, dropped).
func (p *fakeProcess) send(cmd, word string) []string {
	p.tb.Helper()
	if _, err := io.WriteString(p.in, cmd+"\n"); err != nil {
		p.tb.Fatalf("fake process: %s: %v", cmd, err)
	}
	return p.expect(word)
}

func (p *fakeProcess) expect(word string) []string {
	p.tb.Helper()
	line, err := p.out.ReadString('\n')
	if err != nil {
		p.tb.Fatalf("fake process: waiting for %q: %v", word, err)
	}
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != word {
		p.tb.Fatalf("fake process: got %q, want %q", line, word)
	}
	return f[1:]
}

// calls places n calls at rate and returns when the first and the last
// were placed.
func (p *fakeProcess) calls(n, rate int) (first, last time.Time) {
	p.tb.Helper()
	f := p.send(fmt.Sprintf("calls %d %d", n, rate), "placed")
	a, err1 := strconv.ParseInt(f[0], 10, 64)
	b, err2 := strconv.ParseInt(f[1], 10, 64)
	if len(f) != 2 || err1 != nil || err2 != nil {
		p.tb.Fatalf("fake process: placed %q", f)
	}
	return time.Unix(0, a), time.Unix(0, b)
}

// report is what the fake measured since the last report.
func (p *fakeProcess) report() fakeReport {
	p.tb.Helper()
	if _, err := io.WriteString(p.in, "report\n"); err != nil {
		p.tb.Fatalf("fake process: report: %v", err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		p.tb.Fatalf("fake process: report: %v", err)
	}
	var r fakeReport
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		p.tb.Fatalf("fake process: report %.200q: %v", line, err)
	}
	return r
}

// stop ends the process (its input ends, so it closes the fake and exits)
// and waits for it (once).
func (p *fakeProcess) stop() { p.once.Do(p.end) }

func (p *fakeProcess) end() {
	_ = p.in.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			p.tb.Errorf("fake process: %v", err)
		}
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		p.tb.Errorf("fake process did not exit within 10 s of its input's end; killed")
		<-done
	}
}

// startBenchProcess is startBench with the fake Asterisk in a process of
// its own (fakeProcessEnv); the benchEnv has no fake and no tracer: the
// process measures, and reports.
func startBenchProcess(tb testing.TB, s benchSetup) (*benchEnv, *fakeProcess) {
	tb.Helper()
	gcpercent.Apply()
	p := startFakeProcess(tb, s)
	e := &benchEnv{tb: tb, done: make(chan struct{}), closeFake: p.stop}
	startBenchController(e, s, p.url)
	return e, p
}
