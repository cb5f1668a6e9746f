package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"

	bolt "go.etcd.io/bbolt"
)

func TestRelayDeadLettersListedRetriedDiscarded(t *testing.T) {
	st := storetest.Open(t)
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"m1", "m2"} {
		if _, err := ob.Enqueue(relay.Message{ID: id, ClientID: "acme", Text: "x"}, []string{"hook"}); err != nil {
			t.Fatal(err)
		}
	}
	// A message taken and its correction, both dead.
	for v := 1; v <= 2; v++ {
		m := relay.Message{ID: relay.IntakeMessageID("in-1", v), ClientID: "acme", Kind: relay.KindIntake, Text: "x"}
		if _, err := ob.Enqueue(m, []string{"hook"}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := relay.NewWorker(ob, relay.WorkerOptions{
		Destinations: func(string) (relay.Destination, bool) { return relay.Destination{Name: "hook", Type: "webhook"}, true },
		Senders: map[string]relay.Sender{"webhook": relay.SenderFunc(func(context.Context, relay.Destination, relay.Message) error {
			return fmt.Errorf("gone: %w", relay.ErrPermanent)
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		dead, _ := ob.List(relay.Filter{State: relay.StateDead})
		if len(dead) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the entry never went dead")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done

	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob})
	// The health check counts it, without a token and without its text.
	if resp, body := get(t, h, "/healthz"); resp.StatusCode != 200 || !strings.Contains(string(body), `"relay":{"pending":0,"oldest_pending_s":0,"dead":4}`) {
		t.Fatalf("/healthz with a dead letter: %d %s", resp.StatusCode, body)
	}
	resp, body := get(t, h, "/api/v1/relay")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"m1/hook"`) || !strings.Contains(string(body), `"state":"dead"`) {
		t.Fatalf("dead letters: %d %s", resp.StatusCode, body)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(id string) int { return postRelay(t, srv.URL, "retry", id) }
	if code := post("m1/hook"); code != 200 {
		t.Fatalf("retry = %d, want 200", code)
	}
	if code := post("m1/hook"); code != 404 {
		t.Fatalf("retrying an entry no longer dead = %d, want 404", code)
	}
	if pending, _ := ob.List(relay.Filter{State: relay.StatePending}); len(pending) != 1 {
		t.Fatalf("after retry: %+v, want one pending entry", pending)
	}
	// The original of a corrected message is not sent after its
	// correction: 409, and it stays dead; the correction can go.
	if code := post(relay.IntakeMessageID("in-1", 1) + "/hook"); code != http.StatusConflict {
		t.Fatalf("retrying a corrected message's original = %d, want 409", code)
	}
	if code := post(relay.IntakeMessageID("in-1", 2) + "/hook"); code != 200 {
		t.Fatalf("retrying the correction = %d, want 200", code)
	}
	if code := postRelay(t, srv.URL, "discard", relay.IntakeMessageID("in-1", 1)+"/hook"); code != 200 {
		t.Fatalf("discarding the original = %d, want 200", code)
	}
	// An obsolete dead letter is dismissed: no longer counted as dead,
	// listed as discarded, and never queued again.
	if code := postRelay(t, srv.URL, "discard", "m2/hook"); code != 200 {
		t.Fatalf("discard = %d, want 200", code)
	}
	if code := postRelay(t, srv.URL, "discard", "m2/hook"); code != 404 {
		t.Fatalf("discarding it again = %d, want 404", code)
	}
	if resp, body := get(t, h, "/healthz"); resp.StatusCode != 200 || !strings.Contains(string(body), `"dead":0}`) {
		t.Fatalf("/healthz after the discard: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, h, "/api/v1/relay?state=discarded"); resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"m2/hook"`) {
		t.Fatalf("discarded entries: %d %s", resp.StatusCode, body)
	}
	if ids, err := ob.Enqueue(relay.Message{ID: "m2", ClientID: "acme", Text: "x"}, []string{"hook"}); err != nil || len(ids) != 0 {
		t.Fatalf("queueing the discarded message again created %v, %v; want nothing", ids, err)
	}
}

// postRelay posts to /api/v1/relay/<action>?id=id and returns the status.
func postRelay(t *testing.T, base, action, id string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/relay/"+action+"?id="+url.QueryEscape(id), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// steppedClock is a relay clock set by hand.
type steppedClock struct{ now time.Time }

func (c *steppedClock) Now() time.Time                         { return c.now }
func (c *steppedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestRelayListPagesOldestFirst: entries come oldest first, not in the
// outbox's order of message ids, a page at a time: a page that is not the
// last is flagged truncated and names the next, and the pages together
// hold every entry once.
func TestRelayListPagesOldestFirst(t *testing.T) {
	st := storetest.Open(t)
	clock := &steppedClock{now: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	// Ids that sort against their age: m9 is the oldest.
	for i := 9; i >= 1; i-- {
		if _, err := ob.Enqueue(relay.Message{ID: fmt.Sprintf("m%d", i), ClientID: "acme", Text: "x"}, []string{"hook"}); err != nil {
			t.Fatal(err)
		}
		clock.now = clock.now.Add(time.Minute)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob})
	page := func(query string) (ids []string, truncated bool, next string) {
		t.Helper()
		resp, body := get(t, h, "/api/v1/relay?"+query)
		var got struct {
			Entries   []relay.Entry
			Truncated bool
			Next      string
		}
		if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %.200s: %v", resp.StatusCode, body, err)
		}
		for _, e := range got.Entries {
			ids = append(ids, e.ID)
		}
		return ids, got.Truncated, got.Next
	}
	if ids, truncated, next := page("state=pending"); truncated || next != "" ||
		strings.Join(ids, ",") != "m9/hook,m8/hook,m7/hook,m6/hook,m5/hook,m4/hook,m3/hook,m2/hook,m1/hook" {
		t.Fatalf("page %v truncated %v next %q, want m9…m1 (oldest first), whole", ids, truncated, next)
	}
	// A message to more destinations than a page holds, all enqueued at
	// one instant: they come in id order.
	dests := make([]string, api.MaxCalls)
	for i := range dests {
		dests[i] = fmt.Sprintf("d%04d", i)
	}
	if _, err := ob.Enqueue(relay.Message{ID: "a-many", ClientID: "acme", Text: "x"}, dests); err != nil {
		t.Fatal(err)
	}
	first, truncated, next := page("state=pending")
	if !truncated || next == "" || len(first) != api.MaxCalls {
		t.Fatalf("%d entries, truncated %v, next %q; want %d, truncated, a next", len(first), truncated, next, api.MaxCalls)
	}
	if first[0] != "m9/hook" || first[9] != "a-many/d0000" || first[api.MaxCalls-1] != "a-many/d0990" {
		t.Fatalf("first page %v … %v, want m9/hook first, a-many/d0000 tenth, a-many/d0990 last", first[:10], first[api.MaxCalls-1])
	}
	second, truncated, next2 := page("state=pending&after=" + url.QueryEscape(next))
	if truncated || next2 != "" || strings.Join(second, ",") != "a-many/d0991,a-many/d0992,a-many/d0993,a-many/d0994,a-many/d0995,a-many/d0996,a-many/d0997,a-many/d0998,a-many/d0999" {
		t.Fatalf("second page %v truncated %v next %q, want a-many/d0991…d0999, the last", second, truncated, next2)
	}
	for _, bad := range []string{"x", "%%%", "MTIz"} { // "MTIz" is "123": no id
		if resp, body := get(t, h, "/api/v1/relay?after="+url.QueryEscape(bad)); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "after") {
			t.Errorf("after=%q: %d %s, want 400 naming after", bad, resp.StatusCode, body)
		}
	}
}

// TestHealthCountsUnreadableRelayEntries: an outbox entry that did not
// decode at start is set aside, and /healthz counts it (shown only then).
func TestHealthCountsUnreadableRelayEntries(t *testing.T) {
	st := storetest.Open(t)
	err := st.Bolt().Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("relay_outbox"))
		if err != nil {
			return err
		}
		return b.Put([]byte("m1/hook"), []byte("X{damaged"))
	})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob})
	if resp, body := get(t, h, "/healthz"); resp.StatusCode != 200 || !strings.Contains(string(body), `"relay":{"pending":0,"oldest_pending_s":0,"dead":0,"unreadable":1}`) {
		t.Fatalf("healthz = %d %s; want the unreadable entry counted", resp.StatusCode, body)
	}
}
