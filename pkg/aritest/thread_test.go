package aritest

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// mediaEvents are the playback and recording events written so far, as
// "Type id state" ("PlaybackStarted pb-1 playing"; recordings by name).
func mediaEvents(t *testing.T, ws *evClient) []string {
	t.Helper()
	var out []string
	for _, raw := range ws.events() {
		var e struct {
			Type     string `json:"type"`
			Playback *struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"playback"`
			Recording *struct {
				Name  string `json:"name"`
				State string `json:"state"`
			} `json:"recording"`
		}
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			t.Fatalf("event %s: %v", raw, err)
		}
		switch {
		case e.Playback != nil:
			out = append(out, e.Type+" "+e.Playback.ID+" "+e.Playback.State)
		case e.Recording != nil:
			out = append(out, e.Type+" "+e.Recording.Name+" "+e.Recording.State)
		case e.Type == "StasisEnd":
			out = append(out, e.Type)
		}
	}
	return out
}

// waitMedia waits until the media events are want, and fails with what
// came otherwise.
func waitMedia(t *testing.T, ws *evClient, want []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		if got = mediaEvents(t, ws); len(got) >= len(want) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // anything more that was to come
	if got = mediaEvents(t, ws); !slices.Equal(got, want) {
		t.Fatalf("media events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestPlaybacksRunOneAtATime: a channel's (and a bridge's) playbacks run
// one after another on its thread: the second is queued (201 "queued")
// and starts only once the first finished.
func TestPlaybacksRunOneAtATime(t *testing.T) {
	for _, onBridge := range []bool{false, true} {
		name := "channel"
		if onBridge {
			name = "bridge"
		}
		t.Run(name, func(t *testing.T) {
			s, ws := startFake(t)
			s.AddSound("short", 10*time.Second) // 0.2 s of test time
			cl, key := answeredCall(t, s)
			play := func(id string) (*ari.PlaybackHandle, error) {
				return cl.Channel().Play(key, id, "sound:short")
			}
			if onBridge {
				br, err := cl.Bridge().Create(ari.NewKey(ari.BridgeKey, "br-1"), "mixing", "call")
				if err != nil {
					t.Fatal(err)
				}
				if err := cl.Bridge().AddChannel(br.Key(), key.ID); err != nil {
					t.Fatal(err)
				}
				play = func(id string) (*ari.PlaybackHandle, error) { return cl.Bridge().Play(br.Key(), id, "sound:short") }
			}
			if _, err := play("pb-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := play("pb-2"); err != nil {
				t.Fatal(err)
			}
			d, err := cl.Playback().Data(ari.NewKey(ari.PlaybackKey, "pb-2"))
			if err != nil || d.State != "queued" {
				t.Fatalf("second playback while the first plays: %+v, %v; want queued", d, err)
			}
			waitMedia(t, ws, []string{
				"PlaybackStarted pb-1 playing", "PlaybackFinished pb-1 done",
				"PlaybackStarted pb-2 playing", "PlaybackFinished pb-2 done",
			})
		})
	}
}

// TestStoppedQueuedPlaybackFinishesInItsTurn: stopping a playback that
// has not started answers 204 and raises nothing then; when its turn
// comes it is reported finished ("done") without having started
// (res_stasis_playback.c playback_cancel, playback_first_update). A second
// stop is a no-op.
func TestStoppedQueuedPlaybackFinishesInItsTurn(t *testing.T) {
	s, ws := startFake(t)
	s.AddSound("short", 10*time.Second)
	cl, key := answeredCall(t, s)
	for _, id := range []string{"pb-1", "pb-2", "pb-3"} {
		if _, err := cl.Channel().Play(key, id, "sound:short"); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := cl.Playback().Stop(ari.NewKey(ari.PlaybackKey, "pb-2")); err != nil {
			t.Fatalf("stopping a queued playback: %v", err)
		}
	}
	if got := mediaEvents(t, ws); slices.Contains(got, "PlaybackFinished pb-2 done") {
		t.Fatalf("a queued playback reported finished when stopped, before its turn: %v", got)
	}
	waitMedia(t, ws, []string{
		"PlaybackStarted pb-1 playing", "PlaybackFinished pb-1 done",
		"PlaybackFinished pb-2 done",
		"PlaybackStarted pb-3 playing", "PlaybackFinished pb-3 done",
	})
}

// TestRecordingWaitsForPlayback: a recording asked for while a playback
// runs is created at once (201 queued) and starts after the playback.
func TestRecordingWaitsForPlayback(t *testing.T) {
	s, ws := startFake(t)
	s.AddSound("short", 10*time.Second)
	cl, key := answeredCall(t, s)
	if _, err := cl.Channel().Play(key, "pb-1", "sound:short"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Channel().Record(key, "vm-1", &ari.RecordingOptions{Format: "wav", MaxDuration: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	d, err := cl.LiveRecording().Data(ari.NewKey(ari.LiveRecordingKey, "vm-1"))
	if err != nil || d.State != "queued" {
		t.Fatalf("recording while the playback plays: %+v, %v; want queued", d, err)
	}
	waitMedia(t, ws, []string{
		"PlaybackStarted pb-1 playing", "PlaybackFinished pb-1 done",
		"RecordingStarted vm-1 recording", "RecordingFinished vm-1 done",
	})
}

// TestPlaybackStopsMusicOnHold: a playback ends the channel's music on
// hold, which stays off after it; music on hold asked for during a
// playback starts when the playback ends.
func TestPlaybackStopsMusicOnHold(t *testing.T) {
	s, ws := startFake(t)
	s.AddSound("short", 10*time.Second)
	cl, key := answeredCall(t, s)
	moh := func() string { c, _ := s.Channel(key.ID); return c.MOHClass }
	if err := cl.Channel().MOH(key, "default"); err != nil {
		t.Fatal(err)
	}
	if got := moh(); got != "default" {
		t.Fatalf("music on hold %q, want default", got)
	}
	if _, err := cl.Channel().Play(key, "pb-1", "sound:short"); err != nil {
		t.Fatal(err)
	}
	waitMedia(t, ws, []string{"PlaybackStarted pb-1 playing", "PlaybackFinished pb-1 done"})
	if got := moh(); got != "" {
		t.Fatalf("music on hold %q after a playback; want it stopped", got)
	}
	if _, err := cl.Channel().Play(key, "pb-2", "sound:short"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Channel().MOH(key, "jazz"); err != nil {
		t.Fatal(err)
	}
	if got := moh(); got != "" {
		t.Fatalf("music on hold %q while a playback plays; want it to wait", got)
	}
	if err := s.WaitFor(waitCtx(t), func(*Server) bool { return moh() == "jazz" }); err != nil {
		t.Fatalf("music on hold never started after the playback: %v", err)
	}
}

// TestHangupRunsWhatWaited: the hangup ends the playback that plays
// (finished, "failed", before StasisEnd); what waited behind it then runs
// on the hanging-up channel (control_dispatch_all): the queued playback
// starts and fails, the variable is set. The queued recording never
// starts.
func TestHangupRunsWhatWaited(t *testing.T) {
	s, ws := startFake(t)
	s.AddSound("short", 10*time.Second)
	cl, key := answeredCall(t, s)
	if _, err := cl.Channel().Play(key, "pb-1", "sound:short"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Channel().Play(key, "pb-2", "sound:short"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Channel().Record(key, "vm-1", &ari.RecordingOptions{Format: "wav"}); err != nil {
		t.Fatal(err)
	}
	if err := cl.Channel().SetVariable(key, "STEP", "late"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ws, "PlaybackStarted pb-1 playing")
	if err := s.RemoteHangup(key.ID); err != nil {
		t.Fatal(err)
	}
	waitMedia(t, ws, []string{
		"PlaybackStarted pb-1 playing", "PlaybackFinished pb-1 failed",
		"PlaybackStarted pb-2 playing", "PlaybackFinished pb-2 failed",
		"StasisEnd",
	})
	waitInOrder(t, ws, []string{`"ChannelVarset"`, `"variable":"STEP"`, `"value":"late"`}, `"StasisEnd"`)
	if _, err := cl.Playback().Data(ari.NewKey(ari.PlaybackKey, "pb-2")); err == nil {
		t.Fatal("the queued playback outlived its channel")
	}
	if _, err := cl.StoredRecording().Data(ari.NewKey(ari.StoredRecordingKey, "vm-1")); err == nil {
		t.Fatal("a recording that never started was stored")
	}
}

// TestAnswerAndAddChannelWaitForPlayback: answer and addChannel run on
// the channel's thread and their 204 waits for it: after a playback
// already playing there, the reply comes once it finished. If the
// channel hangs up first, addChannel still answers 204 (the failed join
// is not reported: check_add_remove_channel) and adds nothing.
func TestAnswerAndAddChannelWaitForPlayback(t *testing.T) {
	s, ws := startFake(t)
	s.AddSound("short", 10*time.Second)
	cl := restClient(s)
	id, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	key := ari.NewKey(ari.ChannelKey, id)
	if _, err := cl.Channel().Play(key, "pb-1", "sound:short"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Channel().Answer(key); err != nil {
		t.Fatal(err)
	}
	// The 204 comes after the events raised before it: the answer's own
	// ChannelStateChange, and the end of the playback it waited for.
	waitInOrder(t, ws, []string{`"PlaybackFinished"`, `"id":"pb-1"`}, `"ChannelStateChange"`)
	br, err := cl.Bridge().Create(ari.NewKey(ari.BridgeKey, "br-1"), "mixing", "call")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Channel().Play(key, "pb-2", "sound:short"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Bridge().AddChannel(br.Key(), id); err != nil {
		t.Fatal(err)
	}
	waitInOrder(t, ws, []string{`"PlaybackFinished"`, `"id":"pb-2"`}, `"ChannelEnteredBridge"`)
	if c, _ := s.Channel(id); c.BridgeID != br.ID() {
		t.Fatalf("channel in bridge %q, want %q", c.BridgeID, br.ID())
	}

	other, err := s.IncomingCall("0312345678", "0901234568")
	if err != nil {
		t.Fatal(err)
	}
	okey := ari.NewKey(ari.ChannelKey, other)
	s.AddSound("long", 250*time.Second) // 5 s of test time: it outlasts the test
	if _, err := cl.Channel().Play(okey, "pb-3", "sound:long"); err != nil {
		t.Fatal(err)
	}
	refused := make(chan error, 1)
	go func() { refused <- cl.Bridge().AddChannel(br.Key(), other) }()
	waitEvent(t, ws, "PlaybackStarted pb-3 playing")
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-refused:
		t.Fatalf("addChannel answered (%v) while the channel's playback plays", err)
	default:
	}
	if err := s.RemoteHangup(other); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-refused:
		if err != nil {
			t.Fatalf("addChannel of a channel that hung up while it waited: %v; want 204", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("addChannel never answered after the channel hung up")
	}
	if d, err := cl.Bridge().Data(br.Key()); err != nil || slices.Contains(d.ChannelIDs, other) {
		t.Fatalf("bridge %+v, %v: want it without the channel that hung up", d, err)
	}
}

// waitEvent waits until the media events include want (the client's
// view: the fake's WaitFor sees only the fake's state).
func waitEvent(t *testing.T, ws *evClient, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(mediaEvents(t, ws), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s among %v", want, mediaEvents(t, ws))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitInOrder waits for an event containing all of first, followed by
// one containing then, and fails if then comes first or they never come.
func waitInOrder(t *testing.T, ws *evClient, first []string, then string) {
	t.Helper()
	matches := func(e string) bool {
		for _, f := range first {
			if !strings.Contains(e, f) {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		a, b := -1, -1
		evs := ws.events()
		for i, e := range evs {
			if a < 0 && matches(e) {
				a = i
			}
			if b < 0 && strings.Contains(e, then) {
				b = i
			}
		}
		switch {
		case b >= 0 && (a < 0 || b < a):
			t.Fatalf("%s came before %v:\n%s", then, first, strings.Join(evs, "\n"))
		case a >= 0 && b > a:
			return
		case time.Now().After(deadline):
			t.Fatalf("never saw %v then %s:\n%s", first, then, strings.Join(evs, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWaitingRequestEndsAtClose: a request waiting for a channel's thread
// gets an answer when the fake closes, and Close does not wait for it.
func TestWaitingRequestEndsAtClose(t *testing.T) {
	s, _ := startFake(t)
	s.AddSound("long", 250*time.Second)
	cl := restClient(s)
	id, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	key := ari.NewKey(ari.ChannelKey, id)
	if _, err := cl.Channel().Play(key, "pb-1", "sound:long"); err != nil {
		t.Fatal(err)
	}
	answered := make(chan error, 1)
	go func() { answered <- cl.Channel().Answer(key) }()
	time.Sleep(50 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Close waits for a request waiting on a channel's thread")
	}
	select {
	case err := <-answered:
		if err == nil {
			t.Fatal("the answer waiting at Close succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the answer waiting at Close never ended")
	}
}

// TestBridgeIDReusedWhilePlaybackEnds: a playback of a destroyed bridge
// does not free the thread of a new bridge with the same id, and an
// addChannel that waited joins no destroyed bridge.
func TestBridgeIDReusedWhilePlaybackEnds(t *testing.T) {
	s, ws := startFake(t)
	s.AddSound("short", 10*time.Second)
	s.AddSound("longer", 20*time.Second)
	cl, key := answeredCall(t, s)
	bkey := ari.NewKey(ari.BridgeKey, "br-1")
	if _, err := cl.Bridge().Create(bkey, "mixing", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Bridge().Play(bkey, "pb-a", "sound:short"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Bridge().Delete(bkey); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Bridge().Create(bkey, "mixing", "b"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"pb-b", "pb-c"} {
		if _, err := cl.Bridge().Play(bkey, id, "sound:longer"); err != nil {
			t.Fatal(err)
		}
	}
	waitInOrder(t, ws, []string{`"PlaybackFinished"`, `"id":"pb-b"`}, `"id":"pb-c"`)

	// addChannel waiting behind a playback on the channel, while its
	// bridge is destroyed and made again
	if _, err := cl.Channel().Play(key, "pb-1", "sound:short"); err != nil {
		t.Fatal(err)
	}
	added := make(chan error, 1)
	go func() { added <- cl.Bridge().AddChannel(bkey, key.ID) }()
	time.Sleep(20 * time.Millisecond)
	if err := cl.Bridge().Delete(bkey); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Bridge().Create(bkey, "mixing", "c"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-added:
		if err == nil || !strings.Contains(err.Error(), "404") {
			t.Fatalf("addChannel to a bridge destroyed while it waited: %v; want 404", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("addChannel never answered")
	}
	if c, _ := s.Channel(key.ID); c.BridgeID != "" {
		t.Fatalf("channel in bridge %q, want none", c.BridgeID)
	}
}

// TestRecordingChannelRefusesBridge: addChannel of a channel with a live
// recording (even one still queued) is refused at once, 409.
func TestRecordingChannelRefusesBridge(t *testing.T) {
	s, ws := startFake(t)
	s.AddSound("short", 10*time.Second)
	cl, key := answeredCall(t, s)
	br, err := cl.Bridge().Create(ari.NewKey(ari.BridgeKey, "br-1"), "mixing", "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Channel().Play(key, "pb-1", "sound:short"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Channel().Record(key, "vm-1", &ari.RecordingOptions{Format: "wav"}); err != nil {
		t.Fatal(err)
	}
	if err := cl.Bridge().AddChannel(br.Key(), key.ID); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("addChannel of a recording channel: %v; want 409", err)
	}
	// Stopping the queued recording only marks it: nothing now.
	if err := cl.LiveRecording().Stop(ari.NewKey(ari.LiveRecordingKey, "vm-1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	for _, e := range mediaEvents(t, ws) {
		if strings.Contains(e, "vm-1") {
			t.Fatalf("stopping a queued recording raised %q", e)
		}
	}
}

// TestStasisRefusedWhileNoWebsocket: while the application has no
// websocket (the client's link is down) Stasis() fails ("not active"): a
// new call stays in the dialplan, and an operator leg that answers then
// hangs up.
func TestStasisRefusedWhileNoWebsocket(t *testing.T) {
	s, ws := startFake(t)
	s.AddEndpoint("PJSIP/op1", true, EndpointBehavior{Answer: AnswerAfter, Delay: 5 * time.Second}) // 0.1 s of test time
	cl, _ := answeredCall(t, s)                                                                     // the application lives on with its channel
	leg, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "PJSIP/op1", App: "toritsugi", ChannelID: "op-1", Timeout: 30})
	if err != nil {
		t.Fatal(err)
	}
	ws.close()
	if err := s.WaitFor(waitCtx(t), func(s *Server) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.apps["toritsugi"] != nil && s.apps["toritsugi"].sock == nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IncomingCall("0312345678", "0901234568"); !errors.Is(err, ErrAppInactive) {
		t.Fatalf("call while no websocket: %v, want ErrAppInactive", err)
	}
	if err := s.WaitFor(waitCtx(t), func(s *Server) bool { _, ok := s.Channel(leg.ID()); return !ok }); err != nil {
		t.Fatalf("the leg answered while no websocket was not hung up: %v", err)
	}
}

// TestHoldEventsDelaysEventsNotReplies: a held link delivers its events
// late and in order; REST replies do not wait for them.
func TestHoldEventsDelaysEventsNotReplies(t *testing.T) {
	s, ws := startFake(t)
	cl := restClient(s)
	id, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !slices.ContainsFunc(ws.events(), func(e string) bool { return strings.Contains(e, `"StasisStart"`) }); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no StasisStart")
		}
	}
	s.HoldEvents(true)
	done := make(chan error, 1)
	go func() { done <- cl.Channel().Answer(ari.NewKey(ari.ChannelKey, id)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("answer waited for the held events")
	}
	time.Sleep(20 * time.Millisecond)
	for _, e := range ws.events() {
		if strings.Contains(e, `"ChannelStateChange"`) {
			t.Fatalf("an event came through the held link: %s", e)
		}
	}
	s.HoldEvents(false)
	waitInOrder(t, ws, []string{`"StasisStart"`}, `"ChannelStateChange"`)
}
