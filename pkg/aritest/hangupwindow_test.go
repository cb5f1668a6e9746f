package aritest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHangupWindow: with Options.HangupWindow a channel hung up by its
// far end ends in Asterisk's three stages. While its hangup is only
// requested, its control takes commands that come to nothing (an answer
// fails with 500 once the channel leaves Stasis; a DELETE raises a
// ChannelHangupRequest of its own); after StasisEnd it is refused with
// 409 (a bridge add with 422) and still found; after ChannelDestroyed,
// 404.
func TestHangupWindow(t *testing.T) {
	hw := answeredInHangupWindow(t, 10*time.Millisecond)
	s, clock, ws, id, req := hw.s, hw.clock, hw.ws, hw.id, hw.req
	if got := req("POST", "/bridges/br-1", url.Values{"type": {"mixing"}}); got != 200 {
		t.Fatalf("bridge = %d", got)
	}
	if err := s.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	// Stage 1: the hangup is requested, the channel is in the app.
	answered := hw.answerInBackground(t)
	for _, tt := range []struct {
		method, path string
		q            url.Values
		want         int
	}{
		{"POST", "/channels/" + id + "/moh", nil, 204},
		{"POST", "/channels/" + id + "/variable", url.Values{"variable": {"X"}, "value": {"1"}}, 204},
		{"POST", "/channels/" + id + "/play/pb-1", url.Values{"media": {"sound:hello-world"}}, 201},
		{"GET", "/channels/" + id, nil, 200},
		{"DELETE", "/channels/" + id, nil, 204},
	} {
		if got := req(tt.method, tt.path, tt.q); got != tt.want {
			t.Errorf("while hanging up: %s %s = %d, want %d", tt.method, tt.path, got, tt.want)
		}
	}
	select {
	case code := <-answered:
		t.Fatalf("an answer while hanging up got %d before the channel left Stasis", code)
	case <-time.After(50 * time.Millisecond):
	}
	// Stage 2: StasisEnd, not destroyed.
	clock.Advance(10 * time.Millisecond)
	if code := <-answered; code != http.StatusInternalServerError {
		t.Errorf("the answer sent while hanging up = %d, want 500", code)
	}
	for _, tt := range []struct {
		method, path string
		q            url.Values
		want         int
	}{
		{"POST", "/channels/" + id + "/answer", nil, 409},
		{"POST", "/channels/" + id + "/variable", url.Values{"variable": {"X"}, "value": {"2"}}, 409},
		{"POST", "/bridges/br-1/addChannel", url.Values{"channel": {id}}, 422},
		{"GET", "/channels/" + id, nil, 200},
		{"DELETE", "/channels/" + id, nil, 204},
	} {
		if got := req(tt.method, tt.path, tt.q); got != tt.want {
			t.Errorf("after StasisEnd: %s %s = %d, want %d", tt.method, tt.path, got, tt.want)
		}
	}
	// Stage 3: destroyed.
	clock.Advance(10 * time.Millisecond)
	if got := req("GET", "/channels/"+id, nil); got != 404 {
		t.Errorf("after ChannelDestroyed: GET = %d, want 404", got)
	}
	waitEvent(t, ws, "StasisEnd")
	var types []string
	var hangupRequests int
	for _, raw := range ws.events() {
		var e struct {
			Type    string `json:"type"`
			Channel *struct {
				ID string `json:"id"`
			} `json:"channel"`
		}
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			t.Fatal(err)
		}
		if e.Channel == nil || e.Channel.ID != id {
			continue
		}
		switch e.Type {
		case "ChannelHangupRequest":
			if !slices.Contains(types, "StasisEnd") {
				hangupRequests++
			}
		case "StasisEnd", "ChannelDestroyed":
			types = append(types, e.Type)
		}
	}
	// The BYE's, and the DELETE's while the channel was in the app; an
	// inbound channel is not followed after StasisEnd (recording 02).
	if hangupRequests != 2 || !slices.Equal(types, []string{"StasisEnd"}) {
		t.Errorf("%d ChannelHangupRequest before %v; want 2 before StasisEnd, nothing after", hangupRequests, types)
	}
	// The playback taken while hanging up starts and fails as the channel
	// leaves Stasis (control_dispatch_all), before StasisEnd.
	waitMedia(t, ws, []string{"PlaybackStarted pb-1 playing", "PlaybackFinished pb-1 failed", "StasisEnd"})
}

// TestHangupWindowWithAPlayback: a playback playing when the hangup is
// requested fails at once (the channel's thread sees the hangup), and its
// end does not let the commands sent while hanging up run: an answer sent
// then still fails with 500 when the channel leaves Stasis. (A first
// version held the thread, and the playback's natural end inside the
// window released it: done, and 204.)
func TestHangupWindowWithAPlayback(t *testing.T) {
	hw := answeredInHangupWindow(t, 100*time.Millisecond, func(s *Server) { s.AddSound("short", 10*time.Millisecond) })
	s, clock, ws, id, req := hw.s, hw.clock, hw.ws, hw.id, hw.req
	if got := req("POST", "/channels/"+id+"/play/pb-1", url.Values{"media": {"sound:short"}}); got != 201 {
		t.Fatalf("play = %d", got)
	}
	clock.Advance(time.Millisecond)
	waitEvent(t, ws, "PlaybackStarted pb-1 playing")
	if err := s.RemoteHangup(id); err != nil {
		t.Fatal(err)
	}
	answered := hw.answerInBackground(t)
	time.Sleep(50 * time.Millisecond)
	clock.Advance(20 * time.Millisecond) // the playback's end, inside stage 1
	select {
	case code := <-answered:
		t.Errorf("an answer sent while hanging up = %d before StasisEnd; want it held, then 500", code)
	case <-time.After(200 * time.Millisecond):
	}
	clock.Advance(100 * time.Millisecond)
	waitMedia(t, ws, []string{"PlaybackStarted pb-1 playing", "PlaybackFinished pb-1 failed", "StasisEnd"})
	if code := <-answered; code != http.StatusInternalServerError {
		t.Errorf("answer = %d", code)
	}
}

// hangupWindowCall is an answered inbound call on a fake with a hangup
// window and a manual clock, with its app's events and a way to ask.
type hangupWindowCall struct {
	s     *Server
	clock *ManualClock
	ws    *evClient
	id    string
	auth  string
	req   func(method, path string, q url.Values) int
}

// answeredInHangupWindow places and answers the call (window 0: none, the
// channel ends at once on a hangup, as Asterisk's does).
func answeredInHangupWindow(t *testing.T, window time.Duration, setup ...func(*Server)) hangupWindowCall {
	t.Helper()
	clock := NewManualClock(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC))
	s, err := New(Options{Clock: clock, HangupWindow: window})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, f := range setup {
		f(s)
	}
	auth := basicAuth("toritsugi", "toritsugi")
	ws := dialEvents(t, s, "app=toritsugi&subscribeAll=false", auth)
	t.Cleanup(ws.close)
	if err := s.WaitConnected(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	id, err := s.IncomingCall("0312345678", "0901234567")
	if err != nil {
		t.Fatal(err)
	}
	req := func(method, path string, q url.Values) int {
		t.Helper()
		resp, _ := doRequest(t, s, method, path, q, nil, auth)
		return resp.StatusCode
	}
	if got := req("POST", "/channels/"+id+"/answer", nil); got != 204 {
		t.Fatalf("answer = %d", got)
	}
	return hangupWindowCall{s: s, clock: clock, ws: ws, id: id, auth: auth, req: req}
}

// answerInBackground sends an answer of the call, whose status comes on
// the channel returned (it may wait for the channel's thread).
func (hw hangupWindowCall) answerInBackground(t *testing.T) <-chan int {
	answered := make(chan int, 1)
	go func() {
		resp, _ := doRequest(t, hw.s, "POST", "/channels/"+hw.id+"/answer", nil, nil, hw.auth)
		answered <- resp.StatusCode
	}()
	return answered
}

// TestAddChannelGoesOnPastAHangingUpChannel: POST
// /bridges/{id}/addChannel with two channels, the first of which is hanging
// up (its ChannelHangupRequest raised, still in Stasis). In Asterisk
// (res/ari/resource_bridges.c ast_ari_bridges_add_channel) each control is
// added in turn; the hanging-up channel's add returns -1 from
// app_send_command_on_condition (its control is done, or its queued
// command is completed with -1 by control_flush_queue), which
// check_add_remove_channel treats as OKAY (it only fails on
// STASIS_APP_CHANNEL_RECORDING), so the loop goes on and the second channel
// IS added: ChannelEnteredBridge for it, 204.
func TestAddChannelGoesOnPastAHangingUpChannel(t *testing.T) {
	hw := answeredInHangupWindow(t, 10*time.Millisecond)
	s, clock, ws, caller, req := hw.s, hw.clock, hw.ws, hw.id, hw.req
	other, err := s.IncomingCall("0312345678", "0901234599")
	if err != nil {
		t.Fatal(err)
	}
	if got := req("POST", "/channels/"+other+"/answer", nil); got != 204 {
		t.Fatalf("answer other = %d", got)
	}
	if got := req("POST", "/bridges/br-1", url.Values{"type": {"mixing"}}); got != 200 {
		t.Fatalf("bridge = %d", got)
	}
	if err := s.RemoteHangup(caller); err != nil { // stage 1: still in Stasis
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string][]string{"channel": {caller, other}})
	done := make(chan int, 1)
	go func() {
		resp, _ := doRequest(t, s, "POST", "/bridges/br-1/addChannel", nil, body, hw.auth)
		done <- resp.StatusCode
	}()
	time.Sleep(50 * time.Millisecond)
	clock.Advance(10 * time.Millisecond) // StasisEnd of the caller
	var code int
	select {
	case code = <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("addChannel never answered")
	}
	if code != 204 {
		t.Fatalf("addChannel = %d, want 204", code)
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range ws.events() {
			if strings.Contains(e, `"type":"ChannelEnteredBridge"`) && strings.Contains(e, `"id":"`+other+`"`) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp, b := doRequest(t, s, "GET", "/bridges/br-1", nil, nil, hw.auth)
	t.Fatalf("the second channel was never added (Asterisk adds it after the first one's add fails): GET bridge %d %s", resp.StatusCode, b)
}
