package aritest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/CyCoreSystems/ari/v6/client/native"
)

// startFake starts a fake with a fast clock and an events websocket, so
// that the app exists and accepts calls.
func startFake(t *testing.T) (*Server, *evClient) {
	t.Helper()
	return startFakeWith(t, Options{})
}

// startFakeWith is startFake with opts (its clock the fast one).
func startFakeWith(t *testing.T, opts Options) (*Server, *evClient) {
	t.Helper()
	opts.Clock = ScaledClock(50)
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ws := dialEvents(t, s, "app=toritsugi&subscribeAll=false", basicAuth("toritsugi", "toritsugi"))
	t.Cleanup(ws.close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return s, ws
}

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestNativeClientAgainstFake(t *testing.T) {
	s, _ := startFake(t)
	s.AddEndpoint("PJSIP/op1001", true, EndpointBehavior{Answer: AnswerAfter, Delay: time.Second})
	cl := restClient(s)

	callerID, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	caller := ari.NewKey(ari.ChannelKey, callerID)
	if err := cl.Channel().Answer(caller); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if snap, _ := s.Channel(callerID); snap.State != "Up" {
		t.Fatalf("caller state %q after answer", snap.State)
	}
	if _, err := cl.Channel().Play(caller, "pb-1", "sound:hello-world"); err != nil {
		t.Fatalf("play: %v", err)
	}
	op, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "PJSIP/op1001", App: "toritsugi", AppArgs: "operator," + callerID, ChannelID: "op-1", Timeout: 15})
	if err != nil {
		t.Fatalf("originate: %v", err)
	}
	if err := s.WaitFor(waitCtx(t), func(s *Server) bool { c, ok := s.Channel("op-1"); return ok && c.InStasis }); err != nil {
		t.Fatal(err)
	}
	br, err := cl.Bridge().Create(ari.NewKey(ari.BridgeKey, "br-1"), "mixing", "call")
	if err != nil {
		t.Fatalf("bridge create: %v", err)
	}
	for _, id := range []string{callerID, op.ID()} {
		if err := cl.Bridge().AddChannel(br.Key(), id); err != nil {
			t.Fatalf("addChannel %s: %v", id, err)
		}
	}
	data, err := cl.Bridge().Data(br.Key())
	if err != nil || len(data.ChannelIDs) != 2 {
		t.Fatalf("bridge data %+v, %v", data, err)
	}
	if _, err := cl.Bridge().Record(br.Key(), "rec-1", &ari.RecordingOptions{Format: "wav"}); err != nil {
		t.Fatalf("record: %v", err)
	}
	if err := cl.Channel().Answer(ari.NewKey(ari.ChannelKey, "no-such")); err == nil {
		t.Fatal("answer of an unknown channel succeeded")
	}
	if _, err := cl.Channel().Originate(nil, ari.OriginateRequest{Endpoint: "PJSIP/op1005", App: "toritsugi"}); err == nil {
		t.Fatal("originate to an unknown endpoint succeeded")
	}
}

func TestIncomingCallDeclinedWithoutApp(t *testing.T) {
	s, err := New(Options{Clock: ScaledClock(50)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.IncomingCall("0312345678", "0901234567"); !errors.Is(err, ErrDeclined) {
		t.Fatalf("IncomingCall without app: %v, want ErrDeclined", err)
	}
	if len(s.Channels()) != 0 {
		t.Fatal("a declined call left a channel")
	}
}

func TestDropWebSocketsKeepsAppWithChannels(t *testing.T) {
	s, ws := startFake(t)
	id, err := s.IncomingCall("0312345678", "0901234567", WithCallerName("Taro"))
	if err != nil {
		t.Fatal(err)
	}
	s.DropWebSockets()
	<-ws.done
	if err := s.WaitFor(waitCtx(t), func(s *Server) bool { return s.socketCount() == 0 }); err != nil {
		t.Fatal(err)
	}
	// the app outlives the websocket while it has channels
	resp, body := doRequest(t, s, "GET", "/applications/toritsugi", nil, nil, basicAuth("toritsugi", "toritsugi"))
	if resp.StatusCode != 200 {
		t.Fatalf("app gone with a channel: %d %s", resp.StatusCode, body)
	}
	if c, ok := s.Channel(id); !ok || c.CallerName != "Taro" {
		t.Fatalf("channel %+v", c)
	}
	if err := s.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IncomingCall("0312345678", "0901234567"); !errors.Is(err, ErrDeclined) {
		t.Fatalf("call after the app was destroyed: %v, want ErrDeclined", err)
	}
}

// TestPlaylistFromNativeClient: the ari library sends media as a JSON array
// (ARI's media parameter is allowMultiple); each item plays in turn, as
// res_stasis_playback's play_on_channel does: PlaybackStarted for each
// (next_media_uri while more follow), PlaybackContinuing after each but
// the last, PlaybackFinished after the last. An item that cannot be
// played (a missing sound) is not the end of the playback unless it is
// the last.
func TestPlaylistFromNativeClient(t *testing.T) {
	for _, tc := range []struct {
		media []string
		want  []string
	}{
		{[]string{"sound:beep", "sound:hello-world"}, []string{
			"StasisStart",
			"PlaybackStarted sound:beep sound:hello-world playing",
			"PlaybackContinuing sound:beep sound:hello-world continuing",
			"PlaybackStarted sound:hello-world playing",
			"PlaybackFinished sound:hello-world done",
		}},
		{[]string{"sound:no-such-prompt", "digits:0312345678"}, []string{
			"StasisStart",
			"PlaybackStarted sound:no-such-prompt digits:0312345678 playing",
			"PlaybackContinuing sound:no-such-prompt digits:0312345678 continuing",
			"PlaybackStarted digits:0312345678 playing",
			"PlaybackFinished digits:0312345678 done",
		}},
		{[]string{"sound:beep", "sound:no-such-prompt"}, []string{
			"StasisStart",
			"PlaybackStarted sound:beep sound:no-such-prompt playing",
			"PlaybackContinuing sound:beep sound:no-such-prompt continuing",
			"PlaybackStarted sound:no-such-prompt playing",
			"PlaybackFinished sound:no-such-prompt failed",
		}},
	} {
		t.Run(strings.Join(tc.media, ","), func(t *testing.T) {
			s, ws := startFake(t)
			id, err := s.IncomingCall("0312345678", "0901234567")
			if err != nil {
				t.Fatal(err)
			}
			c := native.New(&native.Options{URL: s.URL(), Username: "toritsugi", Password: "toritsugi", Application: "toritsugi"})
			if _, err := c.Channel().Play(ari.NewKey(ari.ChannelKey, id), "pl-1", tc.media...); err != nil {
				t.Fatal(err)
			}
			ws.waitCount(len(tc.want), 10*time.Second)
			var got []string
			for _, raw := range ws.events() {
				var e struct {
					Type     string
					Playback struct {
						MediaURI     string `json:"media_uri"`
						NextMediaURI string `json:"next_media_uri"`
						State        string
					}
				}
				if err := json.Unmarshal([]byte(raw), &e); err != nil {
					t.Fatal(err)
				}
				got = append(got, strings.Join(strings.Fields(e.Type+" "+e.Playback.MediaURI+" "+e.Playback.NextMediaURI+" "+e.Playback.State), " "))
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestRequestLogLimit: with a limit, Requests keeps the latest requests,
// in order, between half the limit and the limit.
func TestRequestLogLimit(t *testing.T) {
	s, err := New(Options{RequestLogLimit: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	auth := basicAuth("toritsugi", "toritsugi")
	for i := range 25 {
		doRequest(t, s, "GET", fmt.Sprintf("/channels/c%d", i), nil, nil, auth)
	}
	got := s.Requests()
	if len(got) < 5 || len(got) > 10 || got[len(got)-1].Path != "/channels/c24" {
		t.Fatalf("kept %d requests ending %+v", len(got), got[len(got)-1])
	}
	for i, r := range got {
		if want := fmt.Sprintf("/channels/c%d", 25-len(got)+i); r.Path != want {
			t.Fatalf("request %d is %s, want %s", i, r.Path, want)
		}
	}
}

// TestHangupEndsChannelRecordingBeforeStasisEnd: a channel's recording runs
// on its Stasis thread in Asterisk (res_stasis_recording's record_file), so
// a hangup during it stores the message and raises RecordingFinished
// before the channel leaves Stasis.
func TestHangupEndsChannelRecordingBeforeStasisEnd(t *testing.T) {
	s, ws := startFake(t)
	cl, key := answeredCall(t, s)
	id := key.ID
	if _, err := cl.Channel().Record(key, "vm-1", &ari.RecordingOptions{Format: "wav", Beep: true, Terminate: "#"}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ws, "RecordingStarted vm-1 recording")
	for deadline := time.Now().Add(5 * time.Second); s.ChannelRecording(id) != "recording"; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the beep never ended")
		}
	}
	if err := s.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitFor(waitCtx(t), func(s *Server) bool { _, ok := s.Channel(id); return !ok }); err != nil {
		t.Fatal(err)
	}
	waitInOrder(t, ws, []string{`"type":"RecordingFinished"`}, `"type":"StasisEnd"`)
	if _, err := cl.StoredRecording().Data(ari.NewKey(ari.StoredRecordingKey, "vm-1")); err != nil {
		t.Fatalf("the message is not stored: %v", err)
	}
}

// TestHangupDuringTheBeepRecordsNothing: a caller who hangs up while the
// recording's beep plays leaves nothing: __ast_play_and_record (main/app.c)
// returns before it opens the file, and the recording ends "done" with
// neither duration nor talking (res_stasis_recording's -1s left out).
func TestHangupDuringTheBeepRecordsNothing(t *testing.T) {
	hw := answeredInHangupWindow(t, 0)
	s, clock, ws, id := hw.s, hw.clock, hw.ws, hw.id
	q := url.Values{"name": {"vm"}, "format": {"wav"}, "beep": {"true"}, "maxSilenceSeconds": {"10"}}
	if got := hw.req("POST", "/channels/"+id+"/record", q); got != 201 {
		t.Fatalf("record = %d", got)
	}
	clock.Advance(0)
	waitEvent(t, ws, "RecordingStarted vm recording")
	clock.Advance(500 * time.Millisecond) // into the beep
	if err := s.SendDTMF(id, "#"); err != nil {
		t.Fatal(err)
	}
	if got := s.ChannelRecording(id); got == "" {
		t.Fatal("a # during the beep ended the recording")
	}
	if err := s.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	if got := finished(t, ws); strings.Contains(got, "duration") || !strings.Contains(got, `"state":"done"`) {
		t.Fatalf("RecordingFinished %s, want done with no duration nor talking", got)
	}
	if got := hw.req("GET", "/recordings/stored/vm", nil); got != 404 {
		t.Fatalf("stored recording = %d, want 404: nothing was recorded", got)
	}
}

// TestVariableSetWaitsForPlayback: Asterisk runs a variable set on the
// channel's Stasis thread, after the playback (or recording) that holds
// it: 204 at once, the old value until the playback ends.
func TestVariableSetWaitsForPlayback(t *testing.T) {
	s, _ := startFake(t)
	s.AddSound("long", 50*time.Second) // 1 s of test time
	cl, key := answeredCall(t, s)
	id := key.ID
	if err := cl.Channel().SetVariable(key, "STEP", "one"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Channel().Play(key, "pb-1", "sound:long"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Channel().SetVariable(key, "STEP", "two"); err != nil {
		t.Fatal(err)
	}
	if v, err := cl.Channel().GetVariable(key, "STEP"); err != nil || v != "one" {
		t.Fatalf("STEP during the playback = %q, %v; want the old value", v, err)
	}
	if err := s.WaitFor(waitCtx(t), func(s *Server) bool { c, _ := s.Channel(id); return c.Vars["STEP"] == "two" }); err != nil {
		t.Fatalf("the set never ran after the playback: %v", err)
	}
}

// restClient is the ari library's client for s's application.
func restClient(s *Server) ari.Client {
	return native.New(&native.Options{Application: "toritsugi", URL: s.URL(), WebsocketURL: s.WebsocketURL(), Username: "toritsugi", Password: "toritsugi"})
}

// answeredCall places a call on s, answers it through the ari library's
// client, and returns the client and the caller's channel.
func answeredCall(t *testing.T, s *Server) (ari.Client, *ari.Key) {
	t.Helper()
	cl := restClient(s)
	id, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	key := ari.NewKey(ari.ChannelKey, id)
	if err := cl.Channel().Answer(key); err != nil {
		t.Fatal(err)
	}
	return cl, key
}

// TestRefusalsAsAsteriskAnswers pins answers taken from Asterisk 22's
// source where the recordings have none: a variable set on a channel not
// in Stasis (resource_channels.c find_control: 409), a recording whose
// name is taken, live or stored with ifExists=fail (EEXIST: 409), and an
// unsubscription from a source never subscribed
// (STASIS_ASR_EVENT_SOURCE_NOT_FOUND: 422).
func TestRefusalsAsAsteriskAnswers(t *testing.T) {
	s, _ := startFake(t)
	s.AddEndpoint("PJSIP/op1001", true, EndpointBehavior{})
	s.AddStoredRecording("taken", "wav")
	own, err := s.OutboundCall("PJSIP/op1001", "0312345678") // the softphone's own call
	if err != nil {
		t.Fatal(err)
	}
	_, key := answeredCall(t, s)
	auth := basicAuth("toritsugi", "toritsugi")
	tests := []struct {
		name, method, path string
		query              url.Values
		status             int
		message            string
	}{
		{"variable on a channel not in Stasis", "POST", "/channels/" + own + "/variable",
			url.Values{"variable": {"X"}, "value": {"1"}}, 409, "Channel not in Stasis application"},
		{"recording stored under that name", "POST", "/channels/" + key.ID + "/record",
			url.Values{"name": {"taken"}, "format": {"wav"}, "ifExists": {"fail"}}, 409, "Recording 'taken' already exists and can not be overwritten"},
		{"recording live under that name", "POST", "/channels/" + key.ID + "/record",
			url.Values{"name": {"live"}, "format": {"wav"}}, 201, ""},
		{"the same name again", "POST", "/channels/" + key.ID + "/record",
			url.Values{"name": {"live"}, "format": {"wav"}}, 409, "Recording 'live' already exists and can not be overwritten"},
		{"unsubscribe from a source never subscribed", "DELETE", "/applications/toritsugi/subscription",
			url.Values{"eventSource": {"endpoint:PJSIP/op1001"}}, 422, "Event source was not subscribed to"},
	}
	for _, tt := range tests {
		resp, body := doRequest(t, s, tt.method, tt.path, tt.query, nil, auth)
		if resp.StatusCode != tt.status || tt.message != "" && !strings.Contains(string(body), `"message":"`+tt.message+`"`) {
			t.Errorf("%s: %d %s; want %d %q", tt.name, resp.StatusCode, body, tt.status, tt.message)
		}
	}
}

// TestDigitsAloneCannotBeStopped: res_stasis_playback makes a playback
// controllable once a sound: or recording: item plays; a playing playback
// of digits: alone is refused a stop (resource_playbacks.c: 500 "Could
// not stop playback"); one that played a sound first stops.
func TestDigitsAloneCannotBeStopped(t *testing.T) {
	s, _ := startFake(t)
	_, key := answeredCall(t, s)
	auth := basicAuth("toritsugi", "toritsugi")
	for _, tt := range []struct {
		id     string
		media  []string
		status int
	}{
		{"pb-digits", []string{"digits:0312345678"}, 500},
		{"pb-sound", []string{"sound:hello-world", "digits:0312345678"}, 204},
	} {
		if resp, body := doRequest(t, s, "POST", "/channels/"+key.ID+"/play/"+tt.id, url.Values{"media": tt.media}, nil, auth); resp.StatusCode != 201 {
			t.Fatalf("play %v: %d %s", tt.media, resp.StatusCode, body)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := s.WaitFor(ctx, func(s *Server) bool {
			resp, body := doRequest(t, s, "GET", "/playbacks/"+tt.id, nil, nil, auth)
			return resp.StatusCode == 200 && strings.Contains(string(body), `"state":"playing"`)
		})
		cancel()
		if err != nil {
			t.Fatalf("%s never played: %v", tt.id, err)
		}
		resp, body := doRequest(t, s, "DELETE", "/playbacks/"+tt.id, nil, nil, auth)
		if resp.StatusCode != tt.status || tt.status == 500 && !strings.Contains(string(body), `"message":"Could not stop playback"`) {
			t.Errorf("stop %v: %d %s, want %d", tt.media, resp.StatusCode, body, tt.status)
		}
	}
}
