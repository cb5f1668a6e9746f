package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestNoClassForACallWithAMessage: a call whose message is saved (and so
// relayed to the client) cannot be marked as needing none, which would
// make it not billed: each class is refused with 409 and the call stays
// an ordinary, billed one; taking a class back ("") is still allowed.
func TestNoClassForACallWithAMessage(t *testing.T) {
	for _, tc := range []struct {
		class string
		want  int
	}{
		{store.ClassSales, http.StatusConflict},
		{store.ClassWrongNumber, http.StatusConflict},
		{store.ClassSilent, http.StatusConflict},
		{"", http.StatusOK},
	} {
		t.Run(fmt.Sprintf("class %q", tc.class), func(t *testing.T) {
			e := newEnv(t)
			u := e.login("op-a")
			e.c.Pop(pop("c1", "op-a"))
			if resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()}); resp.StatusCode != http.StatusCreated {
				t.Fatalf("save: %d %s", resp.StatusCode, body)
			}
			resp, body := u.do("POST", "/api/v1/console/calls/c1/class", map[string]string{"class": tc.class})
			if resp.StatusCode != tc.want {
				t.Fatalf("class %q after the message: %d %s, want %d", tc.class, resp.StatusCode, body, tc.want)
			}
			var ans struct {
				HasMessage bool `json:"has_message"`
			}
			if err := json.Unmarshal(body, &ans); err != nil || ans.HasMessage != (tc.want == http.StatusConflict) {
				t.Errorf("answer %s (%v): has_message should say why", body, err)
			}
			if class, err := e.st.CallClass("c1"); err != nil || class != "" {
				t.Fatalf("stored class %q (%v), want none", class, err)
			}
			if err := e.st.PutCall(store.CallRecord{ID: "c1", ClientID: "acme", Result: store.ResultAnswered, Billable: true,
				StartedAt: e.clock.Now(), OperatorID: "op-a"}); err != nil {
				t.Fatal(err)
			}
			if r, err := e.st.Call("c1"); err != nil || !r.Billable || r.Class != "" {
				t.Fatalf("stored record %+v (%v), want an ordinary call, billed", r, err)
			}
		})
	}
}

// TestMessageTakesBackTheClass: a call marked as a sales call that turns
// out to have a message after all: the message is saved and the class
// taken back (the client gets the message; the call is billed).
func TestMessageTakesBackTheClass(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	e.c.Pop(pop("c1", "op-a"))
	if resp, body := u.do("POST", "/api/v1/console/calls/c1/class", map[string]string{"class": store.ClassSales}); resp.StatusCode != http.StatusOK {
		t.Fatalf("class: %d %s", resp.StatusCode, body)
	}
	if resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": "c1", "values": goodValues()}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	if class, err := e.st.CallClass("c1"); err != nil || class != "" {
		t.Fatalf("stored class %q (%v) of a call with a message, want none", class, err)
	}
}

// TestClassAndMessageRacing: a class and a message for one call sent at
// once (two pages of the operator): whichever comes first, the call does
// not end up both with a message and marked as needing none.
func TestClassAndMessageRacing(t *testing.T) {
	e := newEnv(t)
	pc1, pc2 := e.login("op-a"), e.login("op-a")
	for i := range 20 {
		id := fmt.Sprintf("race-%d", i)
		e.c.Pop(pop(id, "op-a"))
		e.clock.Advance(time.Second)
		var wg sync.WaitGroup
		var saved, classed int
		wg.Go(func() {
			resp, _ := pc1.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": id, "values": goodValues()})
			saved = resp.StatusCode
		})
		wg.Go(func() {
			resp, _ := pc2.do("POST", "/api/v1/console/calls/"+id+"/class", map[string]string{"class": store.ClassWrongNumber})
			classed = resp.StatusCode
		})
		wg.Wait()
		class, err := e.st.CallClass(id)
		if err != nil {
			t.Fatal(err)
		}
		if saved != http.StatusCreated {
			t.Fatalf("%s: save %d", id, saved)
		}
		if class != "" {
			t.Fatalf("%s: a message saved and the call classed %q (class answered %d)", id, class, classed)
		}
	}
}
