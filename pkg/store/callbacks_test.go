package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

func TestCallbacks(t *testing.T) {
	st := storetest.Open(t)
	if cs, err := st.Callbacks(""); err != nil || len(cs) != 0 {
		t.Fatalf("empty store lists %v, %v", cs, err)
	}
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"c2", "c1", "c3"} {
		if err := st.PutCallback(store.Callback{ID: id, ClientID: "acme", Number: "+81312345678", RequestedAt: t0.Add(time.Duration([]int{2, 1, 3}[i]) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CompleteCallback("c1", "op1001", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	pending, err := st.Callbacks(store.CallbackPending)
	if err != nil || len(pending) != 2 || pending[0].ID != "c2" || pending[1].ID != "c3" {
		t.Fatalf("pending = %+v, %v; want c2, c3 oldest first", pending, err)
	}
	done, _ := st.Callbacks(store.CallbackDone)
	if len(done) != 1 || done[0].OperatorID != "op1001" || !done[0].DoneAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("done = %+v", done)
	}
	if c, err := st.Callback("c1"); err != nil || c.State != store.CallbackDone || c.OperatorID != "op1001" {
		t.Fatalf("Callback(c1) = %+v, %v", c, err)
	}
	if _, err := st.Callback("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Callback(nope) = %v, want ErrNotFound", err)
	}
	// Two operators press 完了 at once: the second does not replace who
	// called back, and when.
	if err := st.CompleteCallback("c1", "op1002", t0.Add(2*time.Hour)); !errors.Is(err, store.ErrAlreadyDone) {
		t.Fatalf("completing c1 again = %v, want ErrAlreadyDone", err)
	}
	if c, _ := st.Callback("c1"); c.OperatorID != "op1001" || !c.DoneAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a second completion c1 = %+v, want done by op1001 an hour in", c)
	}
	if err := st.CompleteCallback("nope", "op1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("completing an unknown callback = %v, want ErrNotFound", err)
	}
	if err := st.PutCallback(store.Callback{ID: "x"}); !errors.Is(err, store.ErrInvalidRecord) {
		t.Fatalf("callback without number = %v, want ErrInvalidRecord", err)
	}
}

func TestScreenPops(t *testing.T) {
	st := storetest.Open(t)
	if got, err := st.ScreenPops(); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v, %v", got, err)
	}
	if err := st.PutScreenPops("op1", []byte(`[{"call_id":"c1"}]`)); err != nil {
		t.Fatal(err)
	}
	if err := st.PutScreenPops("op1", []byte(`[{"call_id":"c1"},{"call_id":"c2"}]`)); err != nil {
		t.Fatal(err)
	}
	if err := st.PutScreenPops("op2", []byte(`[]`)); err != nil {
		t.Fatal(err)
	}
	got, err := st.ScreenPops()
	if err != nil || len(got) != 2 || string(got["op1"]) != `[{"call_id":"c1"},{"call_id":"c2"}]` || string(got["op2"]) != `[]` {
		t.Fatalf("ScreenPops = %q, %v", got, err)
	}
	if err := st.PutScreenPops("", nil); !errors.Is(err, store.ErrInvalidRecord) {
		t.Fatalf("pops without operator = %v, want ErrInvalidRecord", err)
	}
}

// TestClaimCallback: an operator takes a request; another cannot while
// the claim is fresh, can once it is ClaimFor old; the first may renew
// theirs; a request done cannot be taken.
func TestClaimCallback(t *testing.T) {
	st := storetest.Open(t)
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	if err := st.PutCallback(store.Callback{ID: "c1", ClientID: "acme", Number: "+81312345678", RequestedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := st.ClaimCallback("c1", "op1001", t0); err != nil {
		t.Fatal(err)
	}
	var taken *store.TakenError
	if err := st.ClaimCallback("c1", "op1002", t0.Add(time.Minute)); !errors.Is(err, store.ErrTaken) || !errors.As(err, &taken) || taken.By != "op1001" {
		t.Fatalf("another's claim a minute on: %v, want ErrTaken by op1001", err)
	}
	if err := st.ClaimCallback("c1", "op1001", t0.Add(5*time.Minute)); err != nil {
		t.Fatalf("renewing one's own: %v", err)
	}
	if err := st.ClaimCallback("c1", "op1002", t0.Add(5*time.Minute+store.ClaimFor-time.Second)); !errors.Is(err, store.ErrTaken) {
		t.Fatalf("another's claim before the renewed one is ClaimFor old: %v, want ErrTaken", err)
	}
	if err := st.ClaimCallback("c1", "op1002", t0.Add(5*time.Minute+store.ClaimFor)); err != nil {
		t.Fatalf("another's claim once the first is ClaimFor old: %v", err)
	}
	if c, err := st.Callback("c1"); err != nil || c.ClaimedBy != "op1002" || !c.Claimed(t0.Add(5*time.Minute+store.ClaimFor)) {
		t.Fatalf("after the second claim: %+v, %v", c, err)
	}
	if err := st.CompleteCallback("c1", "op1002", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.ClaimCallback("c1", "op1001", t0.Add(time.Hour)); !errors.Is(err, store.ErrAlreadyDone) {
		t.Fatalf("claim of a request done: %v, want ErrAlreadyDone", err)
	}
	if err := st.ClaimCallback("nope", "op1001", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim of no request: %v, want ErrNotFound", err)
	}
}
