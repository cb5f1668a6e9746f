package console_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestHistoryAcrossNumberSpellings: one caller, 03-1234-5678, reaching the
// service once through a trunk that sends E.164 and then through a home
// gateway that sends the national form (or a carrier that sends 81…), is
// one caller: each later pop lists the first call's message.
func TestHistoryAcrossNumberSpellings(t *testing.T) {
	e := newEnv(t)
	u := e.login("op-a")
	p := pop("c-trunk", "op-a")
	p.CallerNumber = "+81312345678"
	e.c.Pop(p)
	if resp, body := u.do("POST", "/api/v1/console/intakes", map[string]any{"call_id": p.CallID, "values": goodValues()}); resp.StatusCode != 201 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	for i, number := range []string{"0312345678", "81312345678", "+81312345678"} {
		q := pop(fmt.Sprintf("c-next-%d", i), "op-a")
		q.CallerNumber = number
		e.c.Pop(q)
		_, body := u.do("GET", "/api/v1/console/state", nil)
		var st struct {
			Call struct {
				Intakes []store.Intake `json:"intakes"`
			} `json:"call"`
		}
		if err := json.Unmarshal(body, &st); err != nil || len(st.Call.Intakes) != 1 || st.Call.Intakes[0].CallID != "c-trunk" {
			t.Errorf("caller %q (the number of +81312345678): the pop lists %d earlier messages (%v), want c-trunk's", number, len(st.Call.Intakes), err)
		}
	}
}
