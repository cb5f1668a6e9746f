package call_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/toritsugi/toritsugi/pkg/aritest"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
)

func TestFirstCallPath(t *testing.T) {
	tests := []struct {
		name       string
		did        string
		wantResult store.Result
		wantClient string
		wantMedia  string
		wantReason string
		// savesState: the call's outcome is decided before it is answered
		// (unknown DID), so it is saved on the channel first; a greeted
		// call's first command is the answer.
		savesState bool
	}{
		{"known DID national form", "0312345678", store.ResultCompleted, "acme", "sound:toritsugi/acme-greeting", "greeting played", false},
		{"known DID in E.164", "+81312345678", store.ResultCompleted, "acme", "sound:toritsugi/acme-greeting", "greeting played", false},
		{"unknown DID", "0399999999", store.ResultUnknownDID, "", "sound:ss-noservice", "no client has DID 0399999999", true},
		{"greeting file missing", "0611112222", store.ResultFailed, "bogus", "sound:toritsugi/no-such-file", "greeting media could not be played", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddSound("ss-noservice", 3*time.Second)
			h.start()
			h.waitConnected(1)

			id, err := h.fake.IncomingCall(tt.did, "0901234567")
			if err != nil {
				t.Fatal(err)
			}
			rec := h.waitRecord(id)
			if rec.Result != tt.wantResult || rec.ClientID != tt.wantClient || rec.Reason != tt.wantReason {
				t.Fatalf("record = %s/%s/%q, want %s/%s/%q", rec.Result, rec.ClientID, rec.Reason, tt.wantResult, tt.wantClient, tt.wantReason)
			}
			if rec.CallerID != "0901234567" || rec.DID != tt.did || rec.StartedAt.IsZero() || rec.EndedAt.Before(rec.StartedAt) || rec.AnsweredAt.IsZero() {
				t.Fatalf("record fields wrong: %+v", rec)
			}
			got := strings.Join(h.requestLines(id), "\n")
			want := strings.Join([]string{
				"POST /channels/ID/answer",
				"POST /channels/ID/play/ID-pb-N",
				"DELETE /channels/ID",
			}, "\n")
			if tt.savesState {
				want = "POST /channels/ID/variable\n" + want
			}
			if got != want {
				t.Fatalf("requests for the call:\n%s\nwant:\n%s", got, want)
			}
			if _, ok := h.fake.Channel(id); ok {
				t.Fatal("channel still exists after the call")
			}
			if !strings.Contains(fmt.Sprint(rec.Events), "playing "+tt.wantMedia) {
				t.Fatalf("timeline %v does not mention playing %s", rec.Events, tt.wantMedia)
			}
		})
	}
}

func TestCallerHangsUpMidGreeting(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.waitConnected(1)
	id := h.callPlaying()
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	rec := h.waitRecord(id)
	if rec.Result != store.ResultAbandoned || rec.Reason != "caller hung up during the greeting" || rec.ClientID != "acme" {
		t.Fatalf("record = %s %q client %q, want abandoned during greeting for acme", rec.Result, rec.Reason, rec.ClientID)
	}
	for _, line := range h.requestLines(id) {
		if strings.HasPrefix(line, "DELETE") {
			t.Fatalf("controller hung up a channel the caller had already left: %v", h.requestLines(id))
		}
	}
}

func TestCallerHangsUpBeforeAnswer(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.waitConnected(1)
	id, err := h.fake.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	_ = h.fake.RemoteHangup(id) // may lose the race with our whole flow
	rec := h.waitRecord(id)
	if rec.Result != store.ResultAbandoned && rec.Result != store.ResultCompleted {
		t.Fatalf("result %s (%s), want abandoned (or completed if the greeting won the race)", rec.Result, rec.Reason)
	}
}

func TestReconnectMidCallKeepsTheCall(t *testing.T) {
	h := newHarness(t)
	c := h.start()
	h.waitConnected(1)
	id := h.callPlaying()
	h.fake.DropWebSockets()
	h.waitConnected(2)
	rec := h.waitRecord(id)
	if rec.Result != store.ResultCompleted || rec.ClientID != "acme" {
		t.Fatalf("after reconnect the call ended %s (%s), want completed for acme", rec.Result, rec.Reason)
	}
	if c.link.Connects() < 2 {
		t.Fatalf("link connected %d times, want a reconnect", c.link.Connects())
	}
}

func TestCallerLeavesWhileLinkIsDown(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.waitConnected(1)
	id := h.callPlaying()
	// Hang up in the same instant as the drop: StasisEnd may be lost; the
	// re-sync after the reconnect must still end and record the call.
	h.fake.DropWebSockets()
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	rec := h.waitRecord(id)
	if rec.Result != store.ResultAbandoned {
		t.Fatalf("result %s (%s), want abandoned", rec.Result, rec.Reason)
	}
}

func TestRestartReadoptsCallInProgress(t *testing.T) {
	h := newHarness(t)
	first := h.start()
	h.waitConnected(1)
	id := h.callPlaying()
	first.stop() // the controller dies; the caller stays on the line
	if _, err := h.store.Call(id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a stopped controller recorded the call: %v", err)
	}
	if _, ok := h.fake.Channel(id); !ok {
		t.Fatal("the caller's channel did not outlive the controller")
	}

	h.start()
	h.waitConnected(2)
	rec := h.waitRecord(id)
	if rec.Result != store.ResultCompleted || rec.ClientID != "acme" || rec.DID != "0312345678" {
		t.Fatalf("re-adopted call ended %s (%s) client %q did %q", rec.Result, rec.Reason, rec.ClientID, rec.DID)
	}
	if !strings.Contains(fmt.Sprint(rec.Events), "re-adopted") {
		t.Fatalf("timeline does not show the re-adoption: %v", rec.Events)
	}
	// (The fake's clock runs 50 times faster here: its channel's creation
	// time is ahead of ours, so the re-adoption time is kept; see
	// TestReadoptedCallKeepsItsStartTime.)
	if plays := h.plays(id); plays != 2 {
		t.Fatalf("greeting played %d times, want 2 (again after the restart)", plays)
	}
}

// TestRecordedCallIsNotRunAgain: a call finished and recorded whose
// hang-up Asterisk failed is still in the application at the next start.
// It is hung up, not greeted and queued anew, and its record stays.
func TestRecordedCallIsNotRunAgain(t *testing.T) {
	h := newHarness(t)
	first := h.start()
	h.waitConnected(1)
	id := h.callPlaying()
	first.stop()
	done := store.CallRecord{ID: id, ClientID: "acme", DID: "0312345678", CallerID: "0901234567", CallerKind: "number",
		Result: store.ResultCompleted, Reason: "greeting played", StartedAt: time.Now().Add(-time.Minute), EndedAt: time.Now()}
	if err := h.store.PutCall(done); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.waitConnected(2)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, up := h.fake.Channel(id); !up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recorded call's channel was not hung up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if plays := h.plays(id); plays != 1 {
		t.Fatalf("greeting played %d times, want once (not again after the restart)", plays)
	}
	if rec, err := h.store.Call(id); err != nil || rec.Reason != "greeting played" || len(rec.Events) != 0 {
		t.Fatalf("record after the restart: %+v, %v; want the one stored", rec, err)
	}
}

func TestAppGoneDeclinesCalls(t *testing.T) {
	h := newHarness(t)
	// No controller has ever connected: Stasis() fails, the dialplan's
	// fallback takes the call (603 in the recordings).
	if _, err := h.fake.IncomingCall("0312345678", "0901234567"); !errors.Is(err, aritest.ErrDeclined) {
		t.Fatalf("IncomingCall without a controller = %v, want ErrDeclined", err)
	}
}

func TestManyConcurrentCalls(t *testing.T) {
	h := newHarness(t)
	c := h.start()
	h.waitConnected(1)
	const n = 50
	ids := make([]string, n)
	for i := range ids {
		id, err := h.fake.IncomingCall("0312345678", fmt.Sprintf("09000000%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	for _, id := range ids {
		if rec := h.waitRecord(id); rec.Result != store.ResultCompleted {
			t.Fatalf("call %s: %s (%s)", id, rec.Result, rec.Reason)
		}
	}
	list, err := h.store.ListCalls(store.CallFilter{ClientID: "acme"})
	if err != nil || len(list) != n {
		t.Fatalf("ListCalls = %d records, %v; want %d", len(list), err, n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.calls.Active() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if a := c.calls.Active(); a != 0 {
		t.Fatalf("%d actors still alive after every call ended", a)
	}
}

// TestEventFilterSetOnEveryConnect: after each connect the link asks
// Asterisk not to send the events nobody reads, and calls still finish.
func TestEventFilterSetOnEveryConnect(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.waitConnected(1)
	filters := func() []aritest.RequestLog {
		var out []aritest.RequestLog
		for _, r := range h.fake.Requests() {
			if r.Method == "PUT" && r.Path == "/applications/toritsugi/eventFilter" {
				out = append(out, r)
			}
		}
		return out
	}
	if f := filters(); len(f) != 1 || f[0].Status != 200 || !strings.Contains(f[0].Body, `{"type":"ChannelVarset"}`) {
		t.Fatalf("event filter requests after the first connect: %+v", f)
	}
	h.fake.DropWebSockets()
	h.waitConnected(2)
	if f := filters(); len(f) != 2 || f[1].Status != 200 {
		t.Fatalf("event filter requests after the reconnect: %+v", f)
	}
	id, err := h.fake.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	if rec := h.waitRecord(id); rec.Result != store.ResultCompleted {
		t.Fatalf("call ended %s (%s) with the filter set", rec.Result, rec.Reason)
	}
}

// TestReadoptedCallKeepsItsStartTime: a call re-adopted before any step was
// saved (its greeting playing) is recorded as started when it came in,
// taken from the channel's creation time, not when it was re-adopted.
func TestReadoptedCallKeepsItsStartTime(t *testing.T) {
	h := newHarnessClock(t, aritest.RealClock())
	h.fake.AddSound("toritsugi/acme-greeting", 300*time.Millisecond)
	first := h.start()
	h.waitConnected(1)
	called := time.Now()
	id := h.callPlaying()
	first.stop()
	restarted := time.Now()
	h.start()
	h.waitConnected(2)
	rec := h.waitRecord(id)
	if rec.Result != store.ResultCompleted || !strings.Contains(fmt.Sprint(rec.Events), "re-adopted") {
		t.Fatalf("re-adopted call: %s (%s), events %v", rec.Result, rec.Reason, rec.Events)
	}
	if rec.StartedAt.Before(called.Add(-time.Second)) || !rec.StartedAt.Before(restarted) {
		t.Fatalf("started at %v; called at %v, restarted at %v", rec.StartedAt, called, restarted)
	}
}

// failingRecorder fails every PutCall.
type failingRecorder struct{ *store.Store }

func (failingRecorder) PutCall(store.CallRecord) error { return errors.New("disk full") }

// flakyRecorder fails the first fails PutCalls.
type flakyRecorder struct {
	*store.Store
	fails *atomic.Int32
}

func (r flakyRecorder) PutCall(c store.CallRecord) error {
	if r.fails.Add(-1) >= 0 {
		return errors.New("write toritsugi.db: input/output error")
	}
	return r.Store.PutCall(c)
}

// TestRecordStoredOnALaterTry: a record the store failed to take is stored
// again a moment later by the running controller, not only at the next
// start.
func TestRecordStoredOnALaterTry(t *testing.T) {
	h := newHarness(t)
	var fails atomic.Int32
	fails.Store(2)
	h.rec = flakyRecorder{h.store, &fails}
	h.start()
	h.waitConnected(1)
	id := h.callPlaying()
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	if rec := h.waitRecord(id); rec.Result != store.ResultAbandoned {
		t.Fatalf("record stored on a later try: %s (%s)", rec.Result, rec.Reason)
	}
	if live, _, err := h.store.LiveCalls(); err != nil || live[id] != "" {
		t.Fatalf("live state after the record: %q, %v", live[id], err)
	}
}

// outageRecorder fails every PutCall while down, and notes the call of
// every PutCall tried and of every one stored, in order.
type outageRecorder struct {
	*store.Store
	down   *atomic.Bool
	mu     *sync.Mutex
	tried  *[]string
	stored *[]string
}

func (r outageRecorder) PutCall(c store.CallRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.tried = append(*r.tried, c.ID)
	if r.down.Load() {
		return errors.New("write toritsugi.db: no space left on device")
	}
	if err := r.Store.PutCall(c); err != nil {
		return err
	}
	*r.stored = append(*r.stored, c.ID)
	return nil
}

// TestFailedRecordsRetriedOneAtATime: while the store keeps failing (a
// disk full), the records it refused are tried again one at a time, the
// oldest first, not each by a goroutine of its own every minute; once it
// takes one, the rest follow at once, in the order the calls ended.
func TestFailedRecordsRetriedOneAtATime(t *testing.T) {
	h := newHarness(t)
	h.recordRetry = 10 * time.Millisecond
	var down atomic.Bool
	down.Store(true)
	var mu sync.Mutex
	var tried, stored []string
	h.rec = outageRecorder{h.store, &down, &mu, &tried, &stored}
	h.start()
	h.waitConnected(1)
	var ended []string
	for range 4 {
		id := h.callPlaying()
		if err := h.fake.RemoteHangup(id); err != nil {
			t.Fatal(err)
		}
		ended = append(ended, id)
		// its first try, before the next call ends
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			mu.Lock()
			n := len(tried)
			mu.Unlock()
			if n >= len(ended) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("call %d ended; PutCall tried for %v", len(ended), tried)
			}
		}
	}
	// some rounds of retries, 10, 20, 40, 80 ms apart
	time.Sleep(250 * time.Millisecond)
	mu.Lock()
	again := slices.Clone(tried)
	mu.Unlock()
	// Each call's first try, at its end; every try after it of the oldest.
	first, retries := map[string]bool{}, 0
	for _, id := range again {
		if !first[id] {
			first[id] = true
			continue
		}
		if id != ended[0] {
			t.Fatalf("tried %v while the store failed; ended %v: only the oldest is tried again", again, ended)
		}
		retries++
	}
	if retries < 2 {
		t.Fatalf("tried %v: not tried again", again)
	}
	down.Store(false)
	for _, id := range ended {
		if rec := h.waitRecord(id); rec.Result != store.ResultAbandoned {
			t.Fatalf("record of %s: %s (%s)", id, rec.Result, rec.Reason)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(stored, ended) {
		t.Fatalf("stored %v; ended %v", stored, ended)
	}
}

// TestRecordFailureLeavesTheCallToTheNextStart: a call whose record could
// not be stored keeps, in the store, its settled result and the time it
// was watched until; the next controller records it from that.
func TestRecordFailureLeavesTheCallToTheNextStart(t *testing.T) {
	h := newHarness(t)
	h.rec = failingRecorder{h.store}
	first := h.start()
	h.waitConnected(1)
	id := h.callPlaying()
	if err := h.fake.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		live, _, err := h.store.LiveCalls()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(live[id], "x=abandoned") && strings.Contains(live[id], "u=") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live state after the failed record: %q", live[id])
		}
		time.Sleep(5 * time.Millisecond)
	}
	first.stop()
	h.rec = nil
	h.start()
	rec := h.waitRecord(id)
	if rec.Result != store.ResultAbandoned || rec.Reason != "caller hung up during the greeting" || rec.ClientID != "acme" {
		t.Fatalf("record at the next start: %s %q client %q", rec.Result, rec.Reason, rec.ClientID)
	}
}

// answerRefused is a channel API whose Answer meets a caller hanging up at
// that instant: Asterisk refuses to answer a channel that is hanging up
// ("500 Failed to answer channel").
type answerRefused struct {
	ari.Channel
	fake *aritest.Server
}

// Answer is refused 500 as the caller hangs up; an answer sent again
// (answer retries a 5xx) once the caller is gone goes to the fake, which
// answers as Asterisk does.
func (c answerRefused) Answer(key *ari.Key) error {
	if err := c.fake.RemoteHangup(key.ID); err != nil {
		return c.Channel.Answer(key)
	}
	return ariError{500, "Internal Server Error: Failed to answer channel"}
}

// ariError is a failed ARI request with its status (as the ari library's).
type ariError struct {
	code int
	text string
}

func (e ariError) Error() string { return e.text }
func (e ariError) Code() int     { return e.code }

// lateDelete also answers our DELETE of a caller already gone with 204, as
// Asterisk does while the caller's own hangup is still under way.
type lateDelete struct{ answerRefused }

func (c lateDelete) Hangup(key *ari.Key, reason string) error { return nil }

// TestAnswerRefusedAsCallerHangsUp: a command (answer, play) refused
// because the caller is hanging up ends the call as the caller's leaving (a missed call,
// relayed as one), not as a failure: whether our hang-up then finds the
// channel gone, or the caller's own ChannelHangupRequest (not soft, as
// ours is) comes after it. A refusal that came with no hangup stays a
// failure.
func TestAnswerRefusedAsCallerHangsUp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wrap   func(ari.Client, *aritest.Server) ari.Client
		reason string
	}{
		{"our hang-up finds the channel gone", func(c ari.Client, f *aritest.Server) ari.Client {
			return channelsOf{c, func(ch ari.Channel) ari.Channel { return answerRefused{ch, f} }}
		}, "caller hung up before the answer"},
		{"the caller's hangup request follows", func(c ari.Client, f *aritest.Server) ari.Client {
			return channelsOf{c, func(ch ari.Channel) ari.Channel { return lateDelete{answerRefused{ch, f}} }}
		}, "caller hung up before the answer"},
		// Greeting-only mode: a greeting refused as the caller hangs up
		// used to end the call as "greeting media could not be played".
		{"the greeting refused", func(c ari.Client, f *aritest.Server) ari.Client {
			return channelsOf{c, func(ch ari.Channel) ari.Channel { return playRefused{ch, f} }}
		}, "caller hung up during the greeting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.wrap = func(c ari.Client) ari.Client { return tc.wrap(c, h.fake) }
			h.start()
			h.waitConnected(1)
			id, err := h.fake.IncomingCall("0312345678", "0901234567")
			if err != nil {
				t.Fatal(err)
			}
			rec := h.waitRecord(id)
			if rec.Result != store.ResultAbandoned || rec.Reason != tc.reason {
				t.Fatalf("record %s (%s), want abandoned (%s); events %v", rec.Result, rec.Reason, tc.reason, rec.Events)
			}
		})
	}
}

// channelsOf wraps the channels of an ARI client.
type channelsOf struct {
	ari.Client
	wrap func(ari.Channel) ari.Channel
}

func (c channelsOf) Channel() ari.Channel { return c.wrap(c.Client.Channel()) }

// TestPayphoneFromTheDisplayName: a Japanese network sends a payphone as
// the user "anonymous" with the display name "Coin line/payphone"; the
// record says payphone, not withheld (block_withheld must not refuse it).
func TestPayphoneFromTheDisplayName(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.waitConnected(1)
	for _, tc := range []struct{ name, kind string }{
		{"Coin line/payphone", "payphone"}, {"Interaction with other service", "unavailable"}, {"Anonymous", "withheld"}, {"", "withheld"},
	} {
		id, err := h.fake.IncomingCall("0312345678", "anonymous", aritest.WithCallerName(tc.name))
		if err != nil {
			t.Fatal(err)
		}
		if rec := h.waitRecord(id); rec.CallerKind != tc.kind {
			t.Errorf("caller anonymous named %q: kind %s (caller id %q), want %s", tc.name, rec.CallerKind, rec.CallerID, tc.kind)
		}
	}
}

// playRefused is a channel API whose Play meets a caller hanging up at
// that instant: Asterisk refuses the command (500) and the caller's
// ChannelHangupRequest follows.
type playRefused struct {
	ari.Channel
	fake *aritest.Server
}

func (c playRefused) Play(key *ari.Key, playbackID string, mediaURI ...string) (*ari.PlaybackHandle, error) {
	if err := c.fake.RemoteHangup(key.ID); err != nil {
		return nil, err
	}
	return nil, ariError{500, "Internal Server Error: Failed to queue media for playback"}
}

// answerNotSent is a channel API whose first Answers never reach
// Asterisk (every REST connection busy in a burst of calls).
type answerNotSent struct {
	ari.Channel
	left *atomic.Int32 // answers still to fail
}

func (c answerNotSent) Answer(key *ari.Key) error {
	if c.left.Add(-1) >= 0 {
		return fmt.Errorf("%w: fasthttp: no free connections available to host", pbx.ErrNotSent)
	}
	return c.Channel.Answer(key)
}

// TestAnswerNotSentIsSentAgain: an answer that never reached Asterisk is
// sent again, and the caller is greeted and served, not failed and hung
// up; one that keeps failing still fails the call.
func TestAnswerNotSentIsSentAgain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   int32
		result store.Result
	}{
		{"twice", 2, store.ResultCompleted},
		{"every time", 100, store.ResultFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var left atomic.Int32
			left.Store(tc.fail)
			h.wrap = func(c ari.Client) ari.Client {
				return channelsOf{c, func(ch ari.Channel) ari.Channel { return answerNotSent{ch, &left} }}
			}
			h.start()
			h.waitConnected(1)
			id, err := h.fake.IncomingCall("0312345678", "0901234567")
			if err != nil {
				t.Fatal(err)
			}
			if rec := h.waitRecord(id); rec.Result != tc.result {
				t.Fatalf("record %s (%s), want %s", rec.Result, rec.Reason, tc.result)
			}
		})
	}
}

// playNotSent is a channel API whose first Plays never reach Asterisk
// (every REST connection busy in a burst of calls).
type playNotSent struct {
	ari.Channel
	left *atomic.Int32 // plays still to fail
}

func (c playNotSent) Play(key *ari.Key, playbackID string, mediaURI ...string) (*ari.PlaybackHandle, error) {
	if c.left.Add(-1) >= 0 {
		return nil, fmt.Errorf("%w: fasthttp: no free connections available to host", pbx.ErrNotSent)
	}
	return c.Channel.Play(key, playbackID, mediaURI...)
}

// TestGreetingNotSentIsSentAgain: a greeting whose play never reached
// Asterisk is sent again, and the caller hears the client's greeting
// rather than nothing; one that keeps failing still counts as a greeting
// that could not be played.
func TestGreetingNotSentIsSentAgain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   int32
		result store.Result
	}{
		{"twice", 2, store.ResultCompleted},
		{"every time", 100, store.ResultFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var left atomic.Int32
			left.Store(tc.fail)
			h.wrap = func(c ari.Client) ari.Client {
				return channelsOf{c, func(ch ari.Channel) ari.Channel { return playNotSent{ch, &left} }}
			}
			h.start()
			h.waitConnected(1)
			id, err := h.fake.IncomingCall("0312345678", "0901234567")
			if err != nil {
				t.Fatal(err)
			}
			if rec := h.waitRecord(id); rec.Result != tc.result {
				t.Fatalf("record %s (%s), want %s", rec.Result, rec.Reason, tc.result)
			}
			if played := h.plays(id) > 0; played != (tc.result == store.ResultCompleted) {
				t.Fatalf("greeting reached the fake: %v; requests:\n%s", played, h.requests())
			}
		})
	}
}
