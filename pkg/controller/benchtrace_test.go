package controller_test

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/toritsugi/toritsugi/pkg/aritest"
)

// tracer keeps, with real timestamps, the events that cause commands and
// the REST requests the fake received (fed by aritest's hooks).
type tracer struct {
	mu      sync.Mutex
	evs     []aritest.SentEvent
	reqs    []aritest.ReceivedRequest
	nEvents int // every event written, kept or not
}

func (t *tracer) event(e aritest.SentEvent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nEvents++
	switch e.Type {
	case "StasisStart", "PlaybackFinished", "ChannelHangupRequest":
		t.evs = append(t.evs, e)
	}
}

func (t *tracer) request(r aritest.ReceivedRequest) {
	if r.Path == "/asterisk/ping" || r.Path == "/events" {
		return
	}
	t.mu.Lock()
	t.reqs = append(t.reqs, r)
	t.mu.Unlock()
}

// take returns what was traced (requests by arrival) and starts afresh.
func (t *tracer) take() ([]aritest.SentEvent, []aritest.ReceivedRequest) {
	t.mu.Lock()
	evs, reqs := t.evs, t.reqs
	t.evs, t.reqs, t.nEvents = nil, nil, 0
	t.mu.Unlock()
	slices.SortStableFunc(reqs, func(a, b aritest.ReceivedRequest) int { return a.At.Compare(b.At) })
	return evs, reqs
}

// counts are the events written and requests received since the last take.
func (t *tracer) counts() (events, requests int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nEvents, len(t.reqs)
}

// window bounds how far after an event its command is looked for.
const window = 2 * time.Second

// firstAfter is the index of the first request that arrived at or after t.
func firstAfter(reqs []aritest.ReceivedRequest, t time.Time) int {
	i, _ := slices.BinarySearchFunc(reqs, t, func(r aritest.ReceivedRequest, t time.Time) int {
		if r.At.Before(t) {
			return -1
		}
		return 1
	})
	return i
}

// commandLatencies pairs each StasisStart and PlaybackFinished on a channel
// with the first later request naming its call, grouped by kind
// ("StasisStart caller", "PlaybackFinished operator", ...).
func commandLatencies(evs []aritest.SentEvent, reqs []aritest.ReceivedRequest) (map[string][]time.Duration, int) {
	names := map[string]string{}
	for _, e := range evs {
		if e.ChannelName != "" {
			names[e.Channel] = e.ChannelName
		}
	}
	out := map[string][]time.Duration{}
	unmatched := 0
	for _, e := range evs {
		if e.Channel == "" || (e.Type != "StasisStart" && e.Type != "PlaybackFinished") {
			continue
		}
		kind := e.Type + " caller"
		if strings.HasPrefix(names[e.Channel], "PJSIP/op") {
			kind = e.Type + " operator"
		}
		// The command an event causes names the call: the caller's channel,
		// or an id the controller builds from it (the operator's leg
		// "<call>-op-…", the bridge "<call>-br-…": the whisper's end on the
		// operator leg first creates the bridge).
		call, _, _ := strings.Cut(e.Channel, "-op-")
		found := false
		for _, r := range reqs[firstAfter(reqs, e.At):] {
			if r.At.Sub(e.At) > window {
				break
			}
			if namesCall(r, call) {
				out[kind] = append(out[kind], r.At.Sub(e.At))
				found = true
				break
			}
		}
		if !found {
			unmatched++
		}
	}
	return out, unmatched
}

// reuseStart is when an operator's phone became free for a waiting call.
type reuseStart struct {
	endpoint string
	at       time.Time
}

// hangupStarts lists the first hangup request of each operator leg: with a
// wrap-up of 0 the operator is available again from that moment.
func hangupStarts(evs []aritest.SentEvent) []reuseStart {
	seen := map[string]bool{}
	var out []reuseStart
	for _, e := range evs {
		if e.Type != "ChannelHangupRequest" || !strings.HasPrefix(e.ChannelName, "PJSIP/op") || seen[e.Channel] {
			continue
		}
		seen[e.Channel] = true
		ep := e.ChannelName[:strings.LastIndexByte(e.ChannelName, '-')]
		out = append(out, reuseStart{endpoint: ep, at: e.At})
	}
	return out
}

// callerHangupStarts lists, for each call whose caller hung up, the
// caller's first hangup request and the operator whose leg last entered
// Stasis for it (the one they talked to): with a wrap-up of 0 the call
// ended then, and the operator is rung again once their leg is gone.
func callerHangupStarts(evs []aritest.SentEvent) []reuseStart {
	opOf := map[string]string{}
	for _, e := range evs {
		if call, _, ok := strings.Cut(e.Channel, "-op-"); ok && e.Type == "StasisStart" && strings.HasPrefix(e.ChannelName, "PJSIP/op") {
			opOf[call] = e.ChannelName[:strings.LastIndexByte(e.ChannelName, '-')]
		}
	}
	seen := map[string]bool{}
	var out []reuseStart
	for _, e := range evs {
		ep, ok := opOf[e.Channel]
		if e.Type != "ChannelHangupRequest" || !ok || seen[e.Channel] {
			continue
		}
		seen[e.Channel] = true
		out = append(out, reuseStart{endpoint: ep, at: e.At})
	}
	return out
}

// originateGaps measures each start to the next originate to its
// endpoint within limit; starts not followed by one (no caller left)
// are skipped.
func originateGaps(starts []reuseStart, reqs []aritest.ReceivedRequest, limit time.Duration) []time.Duration {
	var out []time.Duration
	for _, s := range starts {
		want := `"endpoint":"` + s.endpoint + `"`
		for _, r := range reqs[firstAfter(reqs, s.at):] {
			if r.At.Sub(s.at) > limit {
				break
			}
			if r.Method == "POST" && strings.HasPrefix(r.Path, "/channels") && strings.Contains(r.Body, want) {
				out = append(out, r.At.Sub(s.at))
				break
			}
		}
	}
	return out
}

// pct is the q-quantile (nearest rank) in milliseconds.
func pct(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := max(int(math.Ceil(q*float64(len(s))))-1, 0)
	return float64(s[i]) / float64(time.Millisecond)
}

// namesCall reports whether r names call id or an id built from it
// ("<call>-…"): call must start an id in the path, query or body.
func namesCall(r aritest.ReceivedRequest, call string) bool {
	for _, s := range []string{r.Path, r.Query, r.Body} {
		for from := 0; ; {
			i := strings.Index(s[from:], call)
			if i < 0 {
				break
			}
			i += from
			end := i + len(call)
			if (i == 0 || !isIDChar(s[i-1])) && (end == len(s) || !isIDChar(s[end]) || s[end] == '-') {
				return true
			}
			from = i + 1
		}
	}
	return false
}

func isIDChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_'
}
