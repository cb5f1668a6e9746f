package aritest

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// traceLog collects what the observation hooks report.
type traceLog struct {
	mu   sync.Mutex
	evs  []SentEvent
	reqs []ReceivedRequest
}

func (l *traceLog) event(e SentEvent) { l.mu.Lock(); l.evs = append(l.evs, e); l.mu.Unlock() }

func (l *traceLog) request(r ReceivedRequest) { l.mu.Lock(); l.reqs = append(l.reqs, r); l.mu.Unlock() }

func (l *traceLog) find(typ string) (SentEvent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.evs {
		if e.Type == typ {
			return e, true
		}
	}
	return SentEvent{}, false
}

func TestTraceHooksSeeEventsAndRequests(t *testing.T) {
	var log traceLog
	s, err := New(Options{Clock: ScaledClock(50), OnEventSent: log.event, OnRequest: log.request})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.AddSound("silence/0", 0)
	ws := dialEvents(t, s, "app=toritsugi", basicAuth("toritsugi", "toritsugi"))
	t.Cleanup(ws.close)
	if err := s.WaitConnected(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	id, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	ws.waitCount(1, 5*time.Second)
	start, ok := log.find("StasisStart")
	if !ok || start.Channel != id || start.ChannelName == "" || start.At.IsZero() {
		t.Fatalf("StasisStart traced as %+v (found %v), want channel %s with a name and a time", start, ok, id)
	}
	if resp, _ := doRequest(t, s, "POST", "/channels/"+id+"/play", nil, []byte(`{"media":"sound:silence/0"}`), basicAuth("toritsugi", "toritsugi")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("play: %d", resp.StatusCode)
	}
	// StasisStart, PlaybackStarted, PlaybackFinished: the hook runs before
	// each write, so the third arrival means all three were traced.
	ws.waitCount(3, 5*time.Second)
	if fin, ok := log.find("PlaybackFinished"); !ok || fin.Channel != id {
		t.Fatalf("PlaybackFinished traced as %+v (found %v), want the playback's target %s; events %q", fin, ok, id, ws.events())
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	var play *ReceivedRequest
	for i, r := range log.reqs {
		if r.Method == "POST" && r.Path == "/channels/"+id+"/play" {
			play = &log.reqs[i]
		}
	}
	if play == nil || !play.Mentions(id) || play.Mentions("") || play.At.Before(start.At) {
		t.Fatalf("play request traced as %+v, want one naming %s after the StasisStart", play, id)
	}
}

func TestReceivedRequestMentions(t *testing.T) {
	r := ReceivedRequest{Path: "/bridges/b1/addChannel", Query: "channel=op-7,1.123", Body: `{"appArgs":"operator,c-9"}`}
	for _, tc := range []struct {
		id   string
		want bool
	}{{"b1", true}, {"op-7", true}, {"c-9", true}, {"1.123", true}, {"1.12", false}, {"op", false}, {"c-10", false}, {"", false}} {
		if got := r.Mentions(tc.id); got != tc.want {
			t.Errorf("Mentions(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
