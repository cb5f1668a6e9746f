package console_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/console"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// saveResp is the answer to create and correct.
type saveResp struct {
	Intake struct {
		store.Intake
		Relay []struct {
			Destination, State string
		} `json:"relay"`
	} `json:"intake"`
	RelayError string `json:"relay_error"`
}

func TestValidateGivesReadBackOrFieldErrors(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	resp, body := u.do("POST", "/api/v1/console/validate", map[string]any{"call_id": "c1", "values": goodValues()})
	var ok struct {
		Values   map[string]string `json:"values"`
		ReadBack string            `json:"read_back"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &ok) != nil || ok.Values["callback"] != "0312345678" ||
		ok.ReadBack != "山田商事 山田様、折り返し先 0312345678、ご用件 other（見積もりの件）" {
		t.Fatalf("validate: %d %s", resp.StatusCode, body)
	}
	bad := goodValues()
	delete(bad, "detail")
	bad["callback"] = "12"
	resp, body = u.do("POST", "/api/v1/console/validate", map[string]any{"call_id": "c1", "values": bad})
	var fe struct {
		Fields map[string]string `json:"fields"`
	}
	if resp.StatusCode != http.StatusUnprocessableEntity || json.Unmarshal(body, &fe) != nil || fe.Fields["detail"] == "" || fe.Fields["callback"] == "" {
		t.Fatalf("invalid values: %d %s", resp.StatusCode, body)
	}
	if resp, _ := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": bad}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("save invalid: %d", resp.StatusCode)
	}
	if ins, _ := e.st.IntakesForCaller("0312345678", 0); len(ins) != 0 {
		t.Fatalf("invalid intake stored: %+v", ins)
	}
}

func TestSaveStoresBeforeRelayAndSurvivesReopen(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues(), "operator_id": "op-b", "client_id": "beta"})
	var sr saveResp
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &sr) != nil {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	in := sr.Intake.Intake
	if in.OperatorID != "op-a" || in.ClientID != "acme" || in.CallID != "c1" || in.CallerNumber != "0312345678" || in.Version != 1 {
		t.Fatalf("saved %+v: operator, client and caller must come from the session and the pop", in)
	}
	if len(sr.Intake.Relay) != 1 || sr.Intake.Relay[0].State != "queued" {
		t.Fatalf("relay status %+v", sr.Intake.Relay)
	}
	e.mu.Lock()
	n := len(e.submitted)
	e.mu.Unlock()
	if n != 1 {
		t.Fatalf("relay got %d intakes, want 1", n)
	}
	// The state of a reloaded page lists the intake under the call.
	_, body = u.do("GET", "/api/v1/console/state", nil)
	var st struct {
		Call struct {
			Intakes []store.Intake `json:"intakes"`
		} `json:"call"`
	}
	if json.Unmarshal(body, &st) != nil || len(st.Call.Intakes) != 1 || st.Call.Intakes[0].ID != in.ID {
		t.Fatalf("state after save: %s", body)
	}
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	re := storetest.OpenPath(t, e.path)
	got, err := re.Intake(in.ID)
	if err != nil || got.Values["detail"] != "見積もりの件" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func TestSaveFailsCleanlyWhenStoreFails(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()})
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("save on a closed store: %d %s, want 500", resp.StatusCode, body)
	}
	if len(e.submitted) != 0 {
		t.Fatalf("relayed an intake that was not stored")
	}
}

func TestRelayFailureStillSaved(t *testing.T) {
	e := newEnv(t)
	e.submitErr = errors.New("outbox full")
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()})
	var sr saveResp
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &sr) != nil || sr.RelayError == "" {
		t.Fatalf("save with failing relay: %d %s", resp.StatusCode, body)
	}
	if _, err := e.st.Intake(sr.Intake.ID); err != nil {
		t.Fatalf("not stored: %v", err)
	}
}

func TestCorrectionKeepsVersionsAndOwnership(t *testing.T) {
	e := newEnv(t)
	a, b, sv := e.login("op-a"), e.login("op-b"), e.login("sv")
	e.c.Pop(pop("c1", "op-a"))
	_, body := a.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()})
	var sr saveResp
	if err := json.Unmarshal(body, &sr); err != nil {
		t.Fatal(err)
	}
	id := sr.Intake.ID
	fixed := goodValues()
	fixed["name"] = "山本"
	if resp, body := a.do("PUT", "/api/v1/console/intakes/"+id, map[string]any{"values": fixed}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "version") {
		t.Fatalf("correction without the version it was made from: %d %s, want 400", resp.StatusCode, body)
	}
	if resp, body := a.do("PUT", "/api/v1/console/intakes/"+id, map[string]any{"values": fixed, "version": 1}); resp.StatusCode != http.StatusOK {
		t.Fatalf("correction: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.do("PUT", "/api/v1/console/intakes/"+id, map[string]any{"values": fixed}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("B correcting A's intake: %d, want 403", resp.StatusCode)
	}
	if resp, _ := a.do("PUT", "/api/v1/console/intakes/nope", map[string]any{"values": fixed}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown intake: %d, want 404", resp.StatusCode)
	}
	fixed["name"] = "山口"
	if resp, body := sv.do("PUT", "/api/v1/console/intakes/"+id, map[string]any{"values": fixed, "version": 2}); resp.StatusCode != http.StatusOK {
		t.Fatalf("supervisor correction: %d %s", resp.StatusCode, body)
	}
	resp, body := a.do("GET", "/api/v1/console/intakes/"+id, nil)
	var got struct {
		Intake   store.Intake   `json:"intake"`
		Versions []store.Intake `json:"versions"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &got) != nil {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	if got.Intake.Version != 3 || got.Intake.OperatorID != "op-a" || got.Intake.EditedBy != "sv" || len(got.Versions) != 3 ||
		got.Versions[0].EditedBy != "op-a" ||
		got.Versions[0].Values["name"] != "山田" || got.Versions[1].Values["name"] != "山本" || got.Versions[2].Values["name"] != "山口" {
		t.Fatalf("versions: %s", body)
	}
}

// TestClientTakenAwayByReload: once a reload takes a client away from an
// operator, they can neither read nor correct the intakes they took for
// it, nor save one for a call of it still on their screen (a correction
// would relay a 訂正 message to a client that is no longer theirs).
func TestClientTakenAwayByReload(t *testing.T) {
	e := newEnv(t)
	a := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	e.c.Pop(pop("c2", "op-a"))
	_, body := a.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()})
	var sr saveResp
	if err := json.Unmarshal(body, &sr); err != nil || sr.Intake.ID == "" {
		t.Fatalf("save: %s (%v)", body, err)
	}
	e.reload(func(ops []console.Operator) []console.Operator {
		for i := range ops {
			if ops[i].ID == "op-a" {
				ops[i].Clients = []string{"beta"}
			}
		}
		return ops
	})
	if resp, _ := a.do("GET", "/api/v1/console/intakes/"+sr.Intake.ID, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("reading it after the reload: %d, want 404", resp.StatusCode)
	}
	if resp, _ := a.do("PUT", "/api/v1/console/intakes/"+sr.Intake.ID, map[string]any{"values": goodValues()}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("correcting it after the reload: %d, want 403", resp.StatusCode)
	}
	if resp, _ := a.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c2", "values": goodValues()}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("saving one for the client's call after the reload: %d, want 404", resp.StatusCode)
	}
}

// TestSaveAfterRestart: the service restarts between the screen pop and
// the save (an upgrade during business hours); the operator, still logged
// in, saves the intake of that call, and a reloaded page shows the call.
// Another operator still cannot save against it.
func TestSaveAfterRestart(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	b := e.login("op-b")
	e.c.Pop(pop("c1", "op-a"))
	e.c.Close() // a stopping service closes its console: the pops are kept
	e2 := e.restart()
	u2, b2 := u.on(e2), b.on(e2)
	_, body := u2.do("GET", "/api/v1/console/state", nil)
	var st struct {
		Call struct {
			Pop struct {
				CallID string `json:"call_id"`
			} `json:"pop"`
		} `json:"call"`
	}
	if err := json.Unmarshal(body, &st); err != nil || st.Call.Pop.CallID != "c1" {
		t.Fatalf("state after the restart: %s", body)
	}
	resp, body := u2.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()})
	var sr saveResp
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &sr) != nil || sr.Intake.Intake.CallerNumber != "0312345678" {
		t.Fatalf("save after the restart: %d %s", resp.StatusCode, body)
	}
	if resp, body := b2.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another operator saving against op-a's call after the restart: %d %s", resp.StatusCode, body)
	}
}

// TestPopDuringTheStopsDrainKept: a stop ends the event streams first
// (EndStreams, or the HTTP server's drain waits for them), and calls are
// still put through until the controller stops: a pop then is kept for
// the restart, and its operator saves that call's message after it (the
// streams' end used to drop it: no form after the restart, a review).
func TestPopDuringTheStopsDrainKept(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	e.c.EndStreams()
	e.c.Pop(pop("c1", "op-a")) // put through during the drain
	e.c.Close()                // the controller stopped
	e2 := e.restart()
	resp, body := u.on(e2).do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("saving the message of a call put through during the stop's drain, after the restart: %d %s", resp.StatusCode, body)
	}
}

// TestWithheldCallersShareNoHistory: a withheld (or unavailable, payphone)
// caller is not one person: the pop lists no earlier messages for them,
// while a caller with a number sees theirs.
func TestWithheldCallersShareNoHistory(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	for i, number := range []string{"anonymous", "anonymous", "0312345678"} {
		p := pop(fmt.Sprintf("c%d", i), "op-a")
		p.CallerNumber = number
		e.c.Pop(p)
		if resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": p.CallID, "values": goodValues()}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("save %s: %d %s", p.CallID, resp.StatusCode, body)
		}
	}
	for number, want := range map[string]int{"anonymous": 0, "0312345678": 1} {
		p := pop("next-"+number, "op-a")
		p.CallerNumber = number
		e.c.Pop(p)
		_, body := u.do("GET", "/api/v1/console/state", nil)
		var st struct {
			Call struct {
				Intakes []store.Intake `json:"intakes"`
			} `json:"call"`
		}
		if err := json.Unmarshal(body, &st); err != nil || len(st.Call.Intakes) != want {
			t.Errorf("caller %q: the pop lists %d earlier messages (%v), want %d", number, len(st.Call.Intakes), err, want)
		}
	}
	// A withheld caller's own call still lists its own message.
	_, body := u.do("GET", "/api/v1/console/calls/c0", nil)
	var cv struct {
		Intakes []store.Intake `json:"intakes"`
	}
	if err := json.Unmarshal(body, &cv); err != nil || len(cv.Intakes) != 1 || cv.Intakes[0].CallID != "c0" {
		t.Errorf("the withheld call c0 lists %+v (%v), want its own message only", cv.Intakes, err)
	}
}

// TestSaveRepeatedCountsOnce: a save sent again with its request id (its
// answer was lost) stores and relays nothing more, for a new message and
// for a correction; a request id of another call's message is refused,
// and a malformed one is a 400.
func TestSaveRepeatedCountsOnce(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	const rid = "0123456789abcdef0123456789abcdef"
	var first saveResp
	for i, want := range []int{http.StatusCreated, http.StatusOK} {
		resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues(), "request_id": rid})
		if resp.StatusCode != want {
			t.Fatalf("copy %d: %d %s, want %d", i+1, resp.StatusCode, body, want)
		}
		var sr saveResp
		if err := json.Unmarshal(body, &sr); err != nil || sr.Intake.Intake.ID != rid || sr.Intake.Intake.Version != 1 {
			t.Fatalf("copy %d answered %s (%v)", i+1, body, err)
		}
		first = sr
	}
	fixed := goodValues()
	fixed["detail"] = "訂正後"
	const rid2 = "fedcba9876543210fedcba9876543210"
	for i := range 2 {
		resp, body := u.do("PUT", "/api/v1/console/intakes/"+first.Intake.Intake.ID, map[string]any{"values": fixed, "request_id": rid2, "version": 1})
		var sr saveResp
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &sr) != nil || sr.Intake.Intake.Version != 2 {
			t.Fatalf("correction copy %d: %d %s, want version 2", i+1, resp.StatusCode, body)
		}
	}
	e.mu.Lock()
	relayed := len(e.submitted)
	e.mu.Unlock()
	if relayed != 2 {
		t.Errorf("relayed %d times, want 2 (the message once, its correction once)", relayed)
	}
	// Pressed again after changing the form: not this request's values.
	changed := goodValues()
	changed["detail"] = "また変えた"
	if resp, body := u.do("PUT", "/api/v1/console/intakes/"+first.Intake.Intake.ID, map[string]any{"values": changed, "request_id": rid2, "version": 1}); resp.StatusCode != http.StatusConflict {
		t.Errorf("the correction's request id with other values: %d %s, want 409", resp.StatusCode, body)
	}
	if resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": changed, "request_id": rid}); resp.StatusCode != http.StatusConflict {
		t.Errorf("the first save's request id with other values: %d %s, want 409", resp.StatusCode, body)
	}
	e.c.Pop(pop("c2", "op-a"))
	if resp, _ := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c2", "values": goodValues(), "request_id": rid}); resp.StatusCode != http.StatusConflict {
		t.Errorf("another call's request id: %d, want 409", resp.StatusCode)
	}
	if resp, _ := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c2", "values": goodValues(), "request_id": "XYZ"}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed request id: %d, want 400", resp.StatusCode)
	}
}

// TestStreamPings: an event stream with nothing to say pings, so that the
// page can tell it from a dead one.
func TestStreamPings(t *testing.T) {
	e := newEnv(t)
	console.SetKeepAlive(e.c, 20*time.Millisecond)
	s := e.login("op-a").stream() // read up to its hello
	s.nextNamed(t, "ping")
	s.nextNamed(t, "ping")
}

// TestRecentCallsToFinish: a call whose message was not saved when the
// next came is listed with the state, marked unsaved until its message
// is stored, and can be opened again; another operator's call cannot.
func TestRecentCallsToFinish(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	p1 := pop("c1", "op-a")
	p1.CallerNumber = "" // no caller id at all: not in the caller index
	e.c.Pop(p1)
	e.c.Pop(pop("c2", "op-a"))
	e.c.Pop(pop("cb", "op-b"))
	type recent struct {
		CallID string `json:"call_id"`
		Saved  bool   `json:"saved"`
	}
	state := func() []recent {
		_, body := u.do("GET", "/api/v1/console/state", nil)
		var st struct {
			Recent []recent `json:"recent"`
		}
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatalf("state %s: %v", body, err)
		}
		return st.Recent
	}
	if got := state(); len(got) != 1 || got[0] != (recent{"c1", false}) {
		t.Fatalf("recent %+v, want c1 unsaved", got)
	}
	resp, body := u.do("GET", "/api/v1/console/calls/c1", nil)
	var cv struct {
		Pop struct {
			CallID string `json:"call_id"`
		} `json:"pop"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &cv) != nil || cv.Pop.CallID != "c1" {
		t.Fatalf("GET calls/c1: %d %s", resp.StatusCode, body)
	}
	if resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("save c1: %d %s", resp.StatusCode, body)
	}
	if got := state(); len(got) != 1 || got[0] != (recent{"c1", true}) {
		t.Fatalf("recent after saving %+v, want c1 saved", got)
	}
	// c1 came with no number: its own message is still listed with it.
	_, body = u.do("GET", "/api/v1/console/calls/c1", nil)
	var own struct {
		Intakes []store.Intake `json:"intakes"`
	}
	if err := json.Unmarshal(body, &own); err != nil || len(own.Intakes) != 1 || own.Intakes[0].CallID != "c1" {
		t.Fatalf("c1 (no caller number) lists %+v (%v), want its own message", own.Intakes, err)
	}
	for _, id := range []string{"cb", "nope"} {
		if resp, _ := u.do("GET", "/api/v1/console/calls/"+id, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET calls/%s: %d, want 404", id, resp.StatusCode)
		}
	}
}

// TestUnsavedCallStaysListedAndSavable: a call whose message was not
// saved fell off 直前の着信 once ten newer calls came (saved or not, the
// ten newest were listed), and its pop, and with it its save (404) and its
// class, went after twenty. Calls with no message are listed first, for a
// day (as long as their pops are kept), the others after them; twenty-five
// newer calls later its message still saves.
func TestUnsavedCallStaysListedAndSavable(t *testing.T) {
	e := newEnv(t)
	a := e.login("op-a")
	e.c.Pop(pop("call-unsaved", "op-a"))
	e.clock.Advance(time.Minute)
	e.c.Pop(pop("call-marked", "op-a"))
	if resp, body := a.do("POST", "/api/v1/console/calls/call-marked/class", map[string]string{"class": "sales"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("class: %d %s", resp.StatusCode, body)
	}
	for i := 1; i <= 25; i++ {
		e.clock.Advance(3 * time.Minute)
		id := fmt.Sprintf("call-%02d", i)
		e.c.Pop(pop(id, "op-a"))
		if resp, body := a.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": id, "values": goodValues()}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("save %s: %d %s", id, resp.StatusCode, body)
		}
	}
	type recent struct {
		CallID string `json:"call_id"`
		Saved  bool   `json:"saved"`
	}
	state := func() []recent {
		t.Helper()
		_, body := a.do("GET", "/api/v1/console/state", nil)
		var st struct {
			Recent []recent `json:"recent"`
		}
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatalf("state %s: %v", body, err)
		}
		return st.Recent
	}
	got := state()
	if len(got) != 10 || got[0] != (recent{"call-unsaved", false}) || got[1] != (recent{"call-24", true}) || got[9] != (recent{"call-16", true}) {
		t.Fatalf("recent %+v, want the unsaved call first, then the nine newest saved before the current one", got)
	}
	e.clock.Advance(20 * time.Hour) // nearly a day after the unsaved call
	e.c.Pop(pop("call-now", "op-a"))
	a = e.login("op-a") // the next shift (the session idled out)
	// The saved calls are over 12 h old: the unsaved one alone is listed.
	if got := state(); !slices.Equal(got, []recent{{"call-unsaved", false}}) {
		t.Fatalf("recent %+v, want the unsaved call", got)
	}
	if resp, body := a.do("GET", "/api/v1/console/calls/call-unsaved", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the unsaved call's view: %d %s", resp.StatusCode, body)
	}
	if resp, body := a.do("POST", "/api/v1/console/calls/call-marked/class", map[string]string{"class": ""}); resp.StatusCode != http.StatusOK {
		t.Fatalf("the mark taken back within the day: %d %s", resp.StatusCode, body)
	}
	if resp, body := a.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-unsaved", "values": goodValues()}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("its message saved within the day: %d %s", resp.StatusCode, body)
	}
	if got := state(); !slices.Equal(got, []recent{{"call-marked", false}}) {
		t.Fatalf("recent %+v, want the call whose mark was taken back", got)
	}
	e.clock.Advance(4 * time.Hour) // a day on: gone
	e.c.SweepPops()
	if resp, _ := a.do("GET", "/api/v1/console/calls/call-marked", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a day-old call's view: %d, want 404", resp.StatusCode)
	}
}

// TestLongJapaneseAnswerSaves: a multi-line answer of 1,900 Japanese
// characters (5,700 bytes) is within the form's 2,000 characters and is
// saved, not refused by the byte guard.
func TestLongJapaneseAnswerSaves(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	v := goodValues()
	v["detail"] = strings.Repeat("見積もりの件", 316) + "です" // 1,898 characters
	if resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": v}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
}

// TestSavedMarksRebuiltAtStart: pops kept by a version without saved
// marks (or whose marks were lost when the process stopped) get them
// from the stored messages at start: an earlier call whose message was
// saved does not read 未保存, inviting a second message.
func TestSavedMarksRebuiltAtStart(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	p0, p1, p2 := pop("c0", "op-a"), pop("c1", "op-a"), pop("c2", "op-a")
	p0.CallerNumber = "anonymous" // not in the caller index's reach
	for _, p := range []console.ScreenPop{p0, p1} {
		e.c.Pop(p)
		if resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": p.CallID, "values": goodValues()}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("save %s: %d %s", p.CallID, resp.StatusCode, body)
		}
	}
	e.c.Pop(p2)
	e.c.Close() // the pops are written
	// As an older version kept them: no marks.
	p0.At, p1.At, p2.At = e.clock.Now(), e.clock.Now(), e.clock.Now()
	data, _ := json.Marshal([]console.ScreenPop{p0, p1, p2})
	if err := e.st.PutScreenPops("op-a", data); err != nil {
		t.Fatal(err)
	}
	e2 := e.restart()
	_, body := u.on(e2).do("GET", "/api/v1/console/state", nil)
	var st struct {
		Recent []struct {
			CallID string `json:"call_id"`
			Saved  bool   `json:"saved"`
		} `json:"recent"`
	}
	if err := json.Unmarshal(body, &st); err != nil || len(st.Recent) != 2 || st.Recent[0].CallID != "c1" || !st.Recent[0].Saved ||
		st.Recent[1].CallID != "c0" || !st.Recent[1].Saved {
		t.Fatalf("recent after the restart: %s (%v), want c1 and c0 saved", body, err)
	}
}

// TestUnsavedMessageHoldsWrapUp: a pop shown in an open console asks the
// queue to hold the operator's wrap-up for that call's message, and saving
// the message releases it; a pop nobody saw (no console open) holds
// nothing, and saving another call's message releases only that call.
func TestUnsavedMessageHoldsWrapUp(t *testing.T) {
	e := newEnv(t)
	a := e.login("op-a")
	e.c.Pop(pop("call-unseen", "op-a"))
	s := a.stream()
	s.nextNamed(t, "state")
	e.c.Pop(pop("call-seen", "op-a"))
	s.nextNamed(t, "pop")
	if resp, body := a.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-unseen", "values": goodValues()}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("save the unseen call's message: %d %s", resp.StatusCode, body)
	}
	if resp, body := a.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-seen", "values": goodValues()}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	want := []string{"op-a:hold:call-seen", "op-a:release:call-unseen", "op-a:release:call-seen"}
	if got := e.control.actions(); !slices.Equal(got, want) {
		t.Fatalf("queue told %q, want %q", got, want)
	}

	// A page loaded after the pop (a reconnect, a restart) shows the
	// form: the hold comes then; not for a saved or classified call.
	e.c.Pop(pop("call-late", "op-b"))
	b := e.login("op-b")
	b.do("GET", "/api/v1/console/state", nil)
	if resp, body := b.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-late", "values": goodValues()}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	b.do("GET", "/api/v1/console/state", nil)
	e.c.Pop(pop("call-sales", "op-b"))
	b.do("POST", "/api/v1/console/calls/call-sales/class", map[string]string{"class": "sales"})
	b.do("GET", "/api/v1/console/state", nil)
	want = append(want, "op-b:hold:call-late", "op-b:release:call-late", "op-b:release:call-sales")
	if got := e.control.actions(); !slices.Equal(got, want) {
		t.Fatalf("queue told %q, want %q", got, want)
	}

	// Another site's link to the state (the cookie goes with a top-level
	// navigation) holds nothing; the page's own fetch does.
	e.c.Pop(pop("call-linked", "op-b"))
	for _, site := range []string{"cross-site", "same-site"} {
		if resp, _ := b.raw("GET", "/api/v1/console/state", nil, map[string]string{"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"}); resp.StatusCode != http.StatusOK {
			t.Fatalf("state from a %s link: %d", site, resp.StatusCode)
		}
	}
	if got := e.control.actions(); !slices.Equal(got, want) {
		t.Fatalf("after links from other sites the queue was told %q, want still %q", got, want)
	}
	b.raw("GET", "/api/v1/console/state", nil, map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"})
	want = append(want, "op-b:hold:call-linked")
	if got := e.control.actions(); !slices.Equal(got, want) {
		t.Fatalf("queue told %q, want %q", got, want)
	}
}

// TestClassifyCall: an operator records one of their calls as a sales
// call (not billed: the record says so once stored, and the wrap-up held
// for its message ends); the call's view shows the class; classes not
// offered, and calls of other operators, are refused.
func TestClassifyCall(t *testing.T) {
	e := newEnv(t)
	a, b := e.login("op-a"), e.login("op-b")
	e.c.Pop(pop("call-sales", "op-a"))
	if resp, body := a.do("POST", "/api/v1/console/calls/call-sales/class", map[string]string{"class": "sales"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("classify: %d %s", resp.StatusCode, body)
	}
	if resp, body := a.do("POST", "/api/v1/console/calls/call-sales/class", map[string]string{"class": "vip"}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown class: %d %s", resp.StatusCode, body)
	}
	if resp, body := b.do("POST", "/api/v1/console/calls/call-sales/class", map[string]string{"class": ""}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another operator's call: %d %s", resp.StatusCode, body)
	}
	_, body := a.do("GET", "/api/v1/console/calls/call-sales", nil)
	var cv struct {
		Class string `json:"class"`
	}
	if err := json.Unmarshal(body, &cv); err != nil || cv.Class != "sales" {
		t.Fatalf("call view %s (%v), want class sales", body, err)
	}
	if got := e.control.actions(); !slices.Contains(got, "op-a:release:call-sales") {
		t.Errorf("queue told %q, want the wrap-up released", got)
	}
	if err := e.st.PutCall(store.CallRecord{ID: "call-sales", ClientID: "acme", Result: store.ResultAnswered, Billable: true,
		StartedAt: time.Now(), OperatorID: "op-a"}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.st.Call("call-sales"); err != nil || r.Billable || r.Class != store.ClassSales {
		t.Fatalf("stored record %+v (%v), want a sales call, not billed", r, err)
	}
}

// TestMessageSavableAfterItsClientIsRemoved: a reload removes client acme
// altogether (and so from op-a's clients) while op-a is on its call: the
// desk still takes its message as the call came in, so op-a may save it
// and mark the call. A client only taken from op-a is not theirs any more.
func TestMessageSavableAfterItsClientIsRemoved(t *testing.T) {
	for _, tc := range []struct {
		name       string
		configured string // acme's name in the configuration after the reload
		save, mark int
	}{
		{"client removed", "", http.StatusCreated, http.StatusOK},
		{"client taken from the operator", "アクメ株式会社", http.StatusNotFound, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reloaded atomic.Bool
			e := newEnv(t, func(d *console.Deps, _ *env) {
				d.ClientName = func(id string) string {
					if id == "acme" && reloaded.Load() {
						return tc.configured
					}
					return map[string]string{"acme": "アクメ株式会社", "beta": "ベータ社"}[id]
				}
			})
			u := e.login("op-a")
			e.c.Pop(pop("call-r", "op-a"))
			e.reload(func(ops []console.Operator) []console.Operator {
				ops[0].Clients = []string{"beta"}
				return ops
			})
			reloaded.Store(true)
			if resp, body := u.do("POST", "/api/v1/console/calls/call-r/class", map[string]any{"class": "sales"}); resp.StatusCode != tc.mark {
				t.Errorf("marking the call: %d %s, want %d", resp.StatusCode, body, tc.mark)
			}
			resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-r", "values": goodValues(),
				"request_id": "0123456789abcdef0123456789abcdef"})
			if resp.StatusCode != tc.save {
				t.Errorf("saving the message of the call on the line: %d %s, want %d", resp.StatusCode, body, tc.save)
			}
		})
	}
}

// TestCorrectionOfAnOlderVersionRefused: op-a's page shows version 1; a
// supervisor corrects the callback number (version 2); op-a then corrects
// the detail from the form of version 1. That correction is refused (409
// with the current version), not saved over the supervisor's and relayed
// as 訂正. A correction sent again after it went through (its reply lost)
// still counts once.
func TestCorrectionOfAnOlderVersionRefused(t *testing.T) {
	e := newEnv(t)
	a, sv := e.login("op-a"), e.login("sv")
	e.c.Pop(pop("call-v", "op-a"))
	resp, body := a.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "call-v", "values": goodValues()})
	var sr saveResp
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &sr) != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	fixed := goodValues()
	fixed["callback"] = "09011112222"
	if resp, body := sv.do("PUT", "/api/v1/console/intakes/"+sr.Intake.ID, map[string]any{"values": fixed, "version": 1}); resp.StatusCode != http.StatusOK {
		t.Fatalf("the supervisor's correction: %d %s", resp.StatusCode, body)
	}
	stale := goodValues()
	stale["detail"] = "追記"
	resp, body = a.do("PUT", "/api/v1/console/intakes/"+sr.Intake.ID, map[string]any{"values": stale, "version": 1,
		"request_id": "0123456789abcdef0123456789abcdef"})
	var conflict struct {
		Current struct{ Version int } `json:"current"`
	}
	if resp.StatusCode != http.StatusConflict || json.Unmarshal(body, &conflict) != nil || conflict.Current.Version != 2 {
		t.Fatalf("a correction of version 1 after version 2: %d %s, want 409 with version 2", resp.StatusCode, body)
	}
	if in, _ := e.st.Intake(sr.Intake.ID); in.Version != 2 || in.Values["callback"] != "09011112222" {
		t.Fatalf("stored v%d callback %q: the supervisor's correction must stay", in.Version, in.Values["callback"])
	}
	// From the current version: saved; sent again (reply lost): once.
	for i := range 2 {
		resp, body = a.do("PUT", "/api/v1/console/intakes/"+sr.Intake.ID, map[string]any{"values": stale, "version": 2,
			"request_id": "fedcba9876543210fedcba9876543210"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("try %d of the correction of version 2: %d %s", i+1, resp.StatusCode, body)
		}
	}
	if in, _ := e.st.Intake(sr.Intake.ID); in.Version != 3 || in.Values["detail"] != "追記" {
		t.Fatalf("stored v%d detail %q, want v3 with the detail", in.Version, in.Values["detail"])
	}
}

// TestRemovedClientsEarlierCallReachable: a reload removes acme
// altogether while op-a has two of its calls on screen (c1's message
// unsaved, c2 current). c1 stays in 直前の着信 and opens (it could be
// saved, but its form and draft were out of reach in the page).
func TestRemovedClientsEarlierCallReachable(t *testing.T) {
	var reloaded atomic.Bool
	e := newEnv(t, func(d *console.Deps, _ *env) {
		d.ClientName = func(id string) string {
			if id == "acme" && reloaded.Load() {
				return ""
			}
			return map[string]string{"acme": "アクメ株式会社", "beta": "ベータ社"}[id]
		}
	})
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	e.c.Pop(pop("c2", "op-a"))
	e.reload(func(ops []console.Operator) []console.Operator { ops[0].Clients = []string{"beta"}; return ops })
	reloaded.Store(true)
	_, body := u.do("GET", "/api/v1/console/state", nil)
	var st struct {
		Recent []struct {
			CallID string `json:"call_id"`
		} `json:"recent"`
	}
	_ = json.Unmarshal(body, &st)
	if len(st.Recent) != 1 {
		t.Errorf("recent %s: want c1 listed (its message can still be saved)", body)
	}
	if resp, _ := u.do("GET", "/api/v1/console/calls/c1", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET calls/c1: %d, want 200", resp.StatusCode)
	}
	if resp, _ := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()}); resp.StatusCode != http.StatusCreated {
		t.Errorf("save c1: %d", resp.StatusCode)
	}
}

// TestClassifiedCallListedDone: a call marked 営業電話 needs no message:
// 直前の着信 does not call it 未保存.
func TestClassifiedCallListedDone(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	if resp, b := u.do("POST", "/api/v1/console/calls/c1/class", map[string]any{"class": "sales"}); resp.StatusCode != 200 {
		t.Fatalf("class: %d %s", resp.StatusCode, b)
	}
	e.c.Pop(pop("c2", "op-a"))
	_, body := u.do("GET", "/api/v1/console/state", nil)
	var st struct {
		Recent []struct {
			CallID string `json:"call_id"`
			Saved  bool   `json:"saved"`
		} `json:"recent"`
	}
	_ = json.Unmarshal(body, &st)
	if len(st.Recent) != 1 || !st.Recent[0].Saved {
		t.Errorf("recent %+v: the sales call is listed as 未保存 (saved=false)", st.Recent)
	}
}

// TestPopShowsNoOtherClientsMessages: one caller phones two clients of the
// same answering service (competitors, say), both served by op-b. The pop
// of the second call lists the caller's earlier message to the same
// client, never the one taken for the other: its values would be put
// before the other's operator, and perhaps copied into its message.
func TestPopShowsNoOtherClientsMessages(t *testing.T) {
	e := newEnv(t)
	b := e.login("op-b")
	save := func(callID string) {
		t.Helper()
		if resp, body := b.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": callID, "values": goodValues()}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("save for %s: %d %s", callID, resp.StatusCode, body)
		}
	}
	e.c.Pop(pop("call-acme", "op-b")) // acme, caller 0312345678
	save("call-acme")
	beta := pop("call-beta", "op-b")
	beta.ClientID, beta.ClientName = "beta", "ベータ株式会社"
	e.c.Pop(beta)
	save("call-beta")
	intakesOnScreen := func() (clients []string) {
		t.Helper()
		_, body := b.do("GET", "/api/v1/console/state", nil)
		var st struct {
			Call struct {
				Intakes []store.Intake `json:"intakes"`
			} `json:"call"`
		}
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatal(err)
		}
		for _, in := range st.Call.Intakes {
			clients = append(clients, in.ClientID)
		}
		return clients
	}
	e.c.Pop(pop("call-acme-2", "op-b")) // the caller phones acme again
	if got := intakesOnScreen(); !slices.Equal(got, []string{"acme"}) {
		t.Fatalf("pop of acme's call lists messages of %v, want acme's only", got)
	}
	beta2 := pop("call-beta-2", "op-b")
	beta2.ClientID, beta2.ClientName = "beta", "ベータ株式会社"
	e.c.Pop(beta2)
	if got := intakesOnScreen(); !slices.Equal(got, []string{"beta"}) {
		t.Fatalf("pop of beta's call lists messages of %v, want beta's only", got)
	}
}

// TestOldScreenPopsForgotten: screen pops are kept for a restart for a day
// (twice the console's recent calls), no longer: an operator who left kept
// their last twenty callers' numbers and names in the store for ever.
// Those aged are gone from the store at the next start.
func TestOldScreenPopsForgotten(t *testing.T) {
	e := newEnv(t)
	kept := func(op, has string) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			all, err := e.st.ScreenPops()
			if err != nil {
				t.Fatal(err)
			}
			if s := string(all[op]); has == "" || strings.Contains(s, has) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's pops never kept %s: %s", op, has, all[op])
			}
			time.Sleep(time.Millisecond)
		}
	}
	old := pop("c-old", "op-a")
	old.CallerNumber = "09011112222"
	e.c.Pop(old)
	e.c.Pop(pop("c-b", "op-b")) // op-b leaves after this call
	kept("op-a", "c-old")
	kept("op-b", "c-b")
	e.clock.Advance(25 * time.Hour)
	// A save drops the aged pops...
	e.c.Pop(pop("c-new", "op-a"))
	if s := kept("op-a", "c-new"); strings.Contains(s, "c-old") || strings.Contains(s, "09011112222") {
		t.Fatalf("op-a's screen pops kept: %s", s)
	}
	// ...and a start those of an operator who has no more calls (as after
	// a crash: the first console never stopped).
	e.restart()
	if s := kept("op-b", ""); strings.Contains(s, "c-b") {
		t.Fatalf("op-b's screen pops kept after the restart: %s", s)
	}
}

// TestForgetCallerDropsTheirScreenPops: a caller erased on request leaves
// no screen pop of their calls, in memory or kept for a restart, whatever
// spelling their number came in; another caller's stay.
func TestForgetCallerDropsTheirScreenPops(t *testing.T) {
	e := newEnv(t)
	theirs := pop("c-theirs", "op-a")
	theirs.CallerNumber = "+819011112222"
	e.c.Pop(theirs)
	e.c.Pop(pop("c-other", "op-a"))
	e.c.ForgetCaller("+819011112222")
	deadline := time.Now().Add(5 * time.Second)
	for {
		kept, err := e.st.ScreenPops()
		if err != nil {
			t.Fatal(err)
		}
		s := string(kept["op-a"])
		if !strings.Contains(s, "c-theirs") && strings.Contains(s, "c-other") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen pops kept after the erasure: %s", s)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSweepPopsDropsAgedOnes: the hourly sweep drops the pops of an
// operator who takes no more calls once they are a day old, from memory
// and from what is kept for a restart, while the process runs.
func TestSweepPopsDropsAgedOnes(t *testing.T) {
	e := newEnv(t)
	e.c.Pop(pop("c-b", "op-b"))
	e.clock.Advance(23 * time.Hour)
	e.c.Pop(pop("c-a", "op-a"))
	e.clock.Advance(2 * time.Hour)
	e.c.SweepPops()
	deadline := time.Now().Add(5 * time.Second)
	for {
		kept, err := e.st.ScreenPops()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(kept["op-b"]), "c-b") && strings.Contains(string(kept["op-a"]), "c-a") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen pops kept after the sweep: %q", kept)
		}
		time.Sleep(time.Millisecond)
	}
}
