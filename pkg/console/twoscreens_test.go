package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOneMessagePerCallFromTwoScreens: an operator has the console open on
// two PCs (or in two tabs). The first saves the call's message; the other
// is told at once (a "saved" event on its stream) and, saving its own
// message for the call, is refused with 409 and the saved message, to
// correct: one message stored and relayed. The first save sent again
// (its answer lost) is still answered as stored; corrections, the
// operator's from either page and a supervisor's, still work.
func TestOneMessagePerCallFromTwoScreens(t *testing.T) {
	e := newEnv(t)
	pc1, pc2 := e.login("op-a"), e.login("op-a")
	s2 := pc2.stream()
	e.c.Pop(pop("c1", "op-a"))
	s2.nextNamed(t, "pop")
	rid1, rid2 := strings.Repeat("a", 32), strings.Repeat("b", 32)
	if resp, body := pc1.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues(), "request_id": rid1}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("pc1's save: %d %s", resp.StatusCode, body)
	}
	var ev struct {
		CallID string `json:"call_id"`
		Intake struct {
			ID     string `json:"id"`
			CallID string `json:"call_id"`
		} `json:"intake"`
	}
	got := make(chan string, 1)
	go func() { n, d := s2.next(t); got <- n + " " + d }()
	var data string
	select {
	case data = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("pc2's stream said nothing of pc1's save")
	}
	if name, d, _ := strings.Cut(data, " "); name != "saved" || json.Unmarshal([]byte(d), &ev) != nil || ev.CallID != "c1" || ev.Intake.ID != rid1 || ev.Intake.CallID != "c1" {
		t.Fatalf("pc2's event after pc1's save: %s, want saved", data)
	}
	other := goodValues()
	other["detail"] = "別の画面で書いた内容"
	for _, tc := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"pc2's own save", map[string]any{"call_id": "c1", "values": other, "request_id": rid2}, http.StatusConflict},
		{"a save without a request id", map[string]any{"call_id": "c1", "values": other}, http.StatusConflict},
		{"pc1's save sent again", map[string]any{"call_id": "c1", "values": goodValues(), "request_id": rid1}, http.StatusOK},
	} {
		u := pc2
		if strings.HasPrefix(tc.name, "pc1") {
			u = pc1
		}
		resp, body := u.do("POST", "/api/v1/console/intakes", tc.body)
		var ans struct {
			saveResp
			SavedElsewhere bool `json:"saved_elsewhere"`
		}
		if resp.StatusCode != tc.want || json.Unmarshal(body, &ans) != nil || ans.Intake.Intake.ID != rid1 || ans.SavedElsewhere != (tc.want == http.StatusConflict) {
			t.Fatalf("%s: %d %s, want %d with pc1's message", tc.name, resp.StatusCode, body, tc.want)
		}
	}
	ins, err := e.st.IntakesForCaller("0312345678", 0)
	if err != nil || len(ins) != 1 || ins[0].ID != rid1 {
		t.Fatalf("stored %+v (%v), want pc1's message alone", ins, err)
	}
	e.mu.Lock()
	relayed := len(e.submitted)
	e.mu.Unlock()
	if relayed != 1 {
		t.Fatalf("relayed %d messages, want 1", relayed)
	}
	// Corrections go on: pc2 makes its text a correction, a supervisor
	// corrects it again.
	if resp, body := pc2.do("PUT", "/api/v1/console/intakes/"+rid1, map[string]any{"values": other, "request_id": rid2, "version": 1}); resp.StatusCode != http.StatusOK {
		t.Fatalf("pc2's correction: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.login("sv").do("PUT", "/api/v1/console/intakes/"+rid1, map[string]any{"values": goodValues(), "version": 2}); resp.StatusCode != http.StatusOK {
		t.Fatalf("a supervisor's correction: %d %s", resp.StatusCode, body)
	}
	if in, err := e.st.Intake(rid1); err != nil || in.Version != 3 {
		t.Fatalf("message %+v (%v), want version 3", in, err)
	}
}

// TestTwoScreensSavingAtOnce: the two pages press Save at the same moment:
// one message is stored and relayed, the other page told 409.
func TestTwoScreensSavingAtOnce(t *testing.T) {
	e := newEnv(t)
	pcs := []*user{e.login("op-a"), e.login("op-a")}
	for round := range 10 {
		id := "c" + strings.Repeat("x", round)
		e.c.Pop(pop(id, "op-a"))
		var wg sync.WaitGroup
		codes := make([]int, len(pcs))
		for i, u := range pcs {
			wg.Go(func() {
				resp, _ := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": id, "values": goodValues()})
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		created := 0
		for _, c := range codes {
			if c == http.StatusCreated {
				created++
			} else if c != http.StatusConflict {
				t.Fatalf("%s: answers %v", id, codes)
			}
		}
		if created != 1 {
			t.Fatalf("%s: answers %v, want one 201 and one 409", id, codes)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.submitted) != 10 {
		t.Fatalf("relayed %d messages for 10 calls", len(e.submitted))
	}
}
