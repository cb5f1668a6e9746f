package aritest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// action is something the replay does at a recorded time.
type action struct {
	at  int
	idx int // index of the line (or of the sipp exit that implies it)
	do  func()
}

type replay struct {
	t       *testing.T
	name    string
	s       *Server
	lines   []line
	ids     idMap
	ws      map[int]*evClient
	callers map[string]string // sipp name -> fake channel id
	auth    string
	start   time.Time
	clock   *ManualClock
	patched map[string]int // exceptions from KNOWN_DIFFERENCES.md that applied
}

func TestReplayTranscripts(t *testing.T) {
	for _, path := range transcripts(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runReplay(t, name, loadTranscript(t, path))
		})
	}
}

func runReplay(t *testing.T, name string, lines []line) {
	clock := NewManualClock(time.Date(2026, 11, 28, 20, 33, 58, 0, time.UTC))
	s, err := New(Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 1001; i <= 1010; i++ {
		s.AddEndpoint(fmt.Sprintf("PJSIP/op%d", i), false, EndpointBehavior{Answer: AnswerAfter, Delay: time.Second})
	}
	r := &replay{t: t, name: name, s: s, lines: lines, ids: idMap{}, ws: map[int]*evClient{},
		callers: map[string]string{}, clock: clock, auth: basicAuth("toritsugi", "toritsugi"), patched: map[string]int{}}
	acts := r.actions()
	r.start = clock.Now()
	for _, a := range acts {
		r.pace(a.at)
		r.barrier(a.at)
		a.do()
	}
	// let the last events arrive, then close
	for n, c := range r.ws {
		c.waitCount(r.recordedCount(n, 1<<30, true), 2*time.Second)
	}
	for _, c := range r.ws {
		c.close()
	}
	r.compareEvents()
	r.checkExceptions()
}

// pace moves the fake's clock to the recorded time of the next action:
// every ring, answer, playback end and recording end due by then happens.
func (r *replay) pace(atMs int) {
	r.clock.AdvanceTo(r.start.Add(time.Duration(atMs) * time.Millisecond))
}

// recordedCount is the number of events ws n got before atMs (or at atMs
// too, with inclusive).
func (r *replay) recordedCount(n, atMs int, inclusive bool) int {
	k := 0
	for _, l := range r.lines {
		if l.Kind == "event" && l.WS == n && (l.TMs < atMs || inclusive && l.TMs == atMs) {
			k++
		}
	}
	return k
}

// barrier waits until every websocket has as many events as the recording
// had before this point, so timer-driven events precede what depends on
// them on the websocket (the fake itself is deterministic: see pace).
func (r *replay) barrier(atMs int) {
	for n, c := range r.ws {
		c.waitCount(r.recordedCount(n, atMs, false), 2*time.Second)
	}
}

func (r *replay) actions() []action {
	var acts []action
	for i, l := range r.lines {
		l, i := l, i
		switch l.Kind {
		case "request":
			acts = append(acts, action{l.SentMs, i, func() { r.request(l) }})
		case "ws":
			acts = append(acts, action{l.TMs, i, func() { r.wsAction(l) }})
		case "sipp":
			if l.Action == "start" {
				acts = append(acts, action{l.TMs, i, func() { r.sippStart(i, l) }})
				continue
			}
			acts = append(acts, r.sippExitActions(i, l)...)
		case "note":
			acts = append(acts, r.noteActions(i, l)...)
		}
	}
	sort.SliceStable(acts, func(a, b int) bool { return acts[a].at < acts[b].at })
	return acts
}

func (r *replay) wsAction(l line) {
	switch l.Action {
	case "connect":
		q := strings.TrimPrefix(l.URL, "/events?")
		before := r.connects()
		r.ws[l.WS] = dialEvents(r.t, r.s, q, r.auth)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.s.WaitConnected(ctx, before+1); err != nil {
			r.t.Fatal(err)
		}
	case "connect_failed":
		auth := r.auth
		if l.Auth == "wrong" {
			auth = basicAuth("toritsugi", "wrong")
		}
		q, _ := url.ParseQuery(strings.TrimPrefix(l.URL, "/events?"))
		resp, body := doRequest(r.t, r.s, "GET", "/events", q, nil, auth)
		if resp.StatusCode != l.Status {
			r.t.Errorf("ws %d handshake: status %d, want %d", l.WS, resp.StatusCode, l.Status)
		}
		var want string
		if err := json.Unmarshal(l.Response, &want); err != nil {
			want = string(l.Response)
		}
		if string(body) != want {
			r.t.Errorf("ws %d handshake body %q, want %q", l.WS, body, want)
		}
	case "close":
		c := r.ws[l.WS]
		n := r.s.socketCount()
		c.close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.s.WaitFor(ctx, func(s *Server) bool { return s.socketCount() < n }); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *replay) connects() int {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.s.wsConnects
}

func (s *Server) socketCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets)
}

var reOp = regexp.MustCompile(`op\d{4}`)

func (r *replay) sippStart(i int, l line) {
	op := "PJSIP/" + reOp.FindString(l.Name)
	switch l.Scenario {
	case "register.xml":
		r.must(r.s.Register(op))
	case "unregister.xml", "unregister-all.xml":
		r.must(r.s.Unregister(op))
	case "uas-answer.xml":
		r.must(r.s.SetEndpointBehavior(op, EndpointBehavior{Answer: AnswerAfter, Delay: time.Second}))
	case "uas-ring-forever.xml":
		r.must(r.s.SetEndpointBehavior(op, EndpointBehavior{Answer: NoAnswer}))
	case "uas-busy.xml":
		r.must(r.s.SetEndpointBehavior(op, EndpointBehavior{Answer: Busy}))
	default: // a caller: uac-*.xml
		id, err := r.s.IncomingCall(argAfter(l.Args, "-s"), argAfter(l.Args, "cid"))
		if l.Scenario == "uac-expect-reject.xml" {
			if !errors.Is(err, ErrDeclined) {
				r.t.Errorf("%s: IncomingCall error %v, want ErrDeclined (603)", l.Name, err)
			}
			return
		}
		r.must(err)
		r.callers[l.Name] = id
		if rec := r.recordedChannelAfter(i); rec != "" {
			r.ids[rec] = id
		}
	}
}

// recordedChannelAfter finds the recorded id of the trunk channel a caller
// made: the first unmapped trunk channel that appears after line i.
func (r *replay) recordedChannelAfter(i int) string {
	re := regexp.MustCompile(`"id":"(\d{10}\.\d+)","name":"PJSIP/trunk-`)
	for _, l := range r.lines[i+1:] {
		text := string(l.Event) + string(l.Response)
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			if _, seen := r.ids[m[1]]; !seen {
				return m[1]
			}
		}
	}
	return ""
}

// sippExitActions turns a softphone's or caller's BYE into RemoteHangup.
func (r *replay) sippExitActions(i int, l line) []action {
	var out []action
	for _, m := range l.Messages {
		if m.Dir != "sent" || !strings.HasPrefix(m.Line, "BYE ") {
			continue
		}
		who := l.Name
		out = append(out, action{m.TMs, i, func() {
			id := r.callers[who]
			if strings.HasPrefix(who, "operator-") {
				id = r.liveChannelOn("PJSIP/" + reOp.FindString(who))
			}
			r.must(r.s.RemoteHangup(id))
		}})
	}
	return out
}

func (r *replay) liveChannelOn(ep string) string {
	for _, c := range r.s.Channels() {
		if strings.HasPrefix(c.Name, ep+"-") {
			return c.ID
		}
	}
	r.t.Fatalf("no live channel on %s", ep)
	return ""
}

var reDTMF = regexp.MustCompile(`sends DTMF ([0-9#*, ]+) \(RFC 2833, 1 s apart, starting 1 s after the ACK\)`)

// noteActions reads the DTMF the caller sends from the recorder's note.
func (r *replay) noteActions(i int, l line) []action {
	m := reDTMF.FindStringSubmatch(l.Text)
	if m == nil {
		return nil
	}
	var out []action
	for k, d := range strings.Split(m[1], ",") {
		digit := strings.TrimSpace(d)
		// end of digit: 1 s after the ACK, 1 s apart, 280 ms long (08)
		at := l.TMs + 1000*(k+1) + 140
		out = append(out, action{at, i, func() {
			r.must(r.s.SendDTMF(r.callers["caller"], digit))
		}})
	}
	return out
}

func (r *replay) must(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}
