package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

func seed(t *testing.T, st *store.Store) {
	t.Helper()
	base := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for i, c := range []struct{ id, client string }{{"c1", "acme"}, {"c2", "beta"}, {"c3", "acme"}} {
		rec := store.CallRecord{ID: c.id, ClientID: c.client, DID: "0312345678", Result: store.ResultCompleted,
			StartedAt: base.Add(time.Duration(i) * time.Hour), EndedAt: base.Add(time.Duration(i)*time.Hour + time.Minute)}
		if err := st.PutCall(rec); err != nil {
			t.Fatal(err)
		}
	}
}

// testToken is the API token of the handlers under test.
const testToken = "test-token-0123456789"

func tokenFunc() string { return testToken }

func get(t *testing.T, h http.Handler, url string) (*http.Response, []byte) {
	t.Helper()
	return do(t, h, "GET", url)
}

// do sends method url to h with the test token, and returns the answer
// and its body.
func do(t *testing.T, h http.Handler, method, url string) (*http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestListCalls(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	tests := []struct {
		query   string
		code    int
		wantIDs string
		wantErr string
	}{
		{"", 200, "c1,c2,c3", ""},
		{"?client=acme", 200, "c1,c3", ""},
		{"?client=acme&limit=1", 200, "c1", ""},
		{"?from=2026-11-02T11:00:00Z", 200, "c2,c3", ""},
		{"?from=2026-11-02T19:00:00%2B09:00&to=2026-11-02T20:00:00%2B09:00", 200, "c1", ""},
		{"?client=nobody", 200, "", ""},
		{"?from=yesterday", 400, "", "from: \"yesterday\" is not a date"},
		{"?limit=0", 400, "", "limit: want a whole number from 1 to 1000"},
		{"?limit=5000", 400, "", "limit"},
		{"?from=2026-11-03T00:00:00Z&to=2026-11-02T00:00:00Z", 400, "", "from must be before to"},
	}
	for _, tt := range tests {
		resp, body := get(t, h, "/api/v1/calls"+tt.query)
		if resp.StatusCode != tt.code {
			t.Errorf("%s: status %d, want %d (%s)", tt.query, resp.StatusCode, tt.code, body)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: content type %q", tt.query, ct)
		}
		if tt.code != 200 {
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, tt.wantErr) {
				t.Errorf("%s: error body %s, want it to contain %q", tt.query, body, tt.wantErr)
			}
			continue
		}
		var got struct{ Calls []store.CallRecord }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: %v in %s", tt.query, err, body)
		}
		var ids []string
		for _, c := range got.Calls {
			ids = append(ids, c.ID)
		}
		if strings.Join(ids, ",") != tt.wantIDs {
			t.Errorf("%s: ids %v, want %s", tt.query, ids, tt.wantIDs)
		}
		if tt.wantIDs == "" && !strings.Contains(string(body), `"calls":[]`) {
			t.Errorf("%s: empty list must be [] not null: %s", tt.query, body)
		}
	}
}

type failingStore struct{ *store.Store }

func (failingStore) Ping() error { return errors.New("disk on fire") }

func TestHealthz(t *testing.T) {
	st := storetest.Open(t)
	tests := []struct {
		name   string
		calls  api.Calls
		linkUp bool
		code   int
		body   string
	}{
		{"all good", st, true, 200, `{"status":"ok","ari":"up","store":"ok"}`},
		{"ari down", st, false, 503, `{"status":"degraded","ari":"down","store":"ok"}`},
		{"store failing", failingStore{st}, true, 503, `{"status":"degraded","ari":"up","store":"error"}`},
	}
	for _, tt := range tests {
		up := tt.linkUp
		h := api.NewHandler(api.Deps{Calls: tt.calls, LinkUp: func() bool { return up }, Token: tokenFunc})
		resp, body := get(t, h, "/healthz")
		if resp.StatusCode != tt.code || strings.TrimSpace(string(body)) != tt.body {
			t.Errorf("%s: %d %s, want %d %s", tt.name, resp.StatusCode, body, tt.code, tt.body)
		}
	}
}

func TestBackupOpensAsAStore(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	resp, body := get(t, h, "/api/v1/backup")
	if resp.StatusCode != 200 || len(body) == 0 || resp.ContentLength != int64(len(body)) {
		t.Fatalf("backup: %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	cp := storetest.OpenPath(t, path)
	list, err := cp.ListCalls(store.CallFilter{})
	if err != nil || len(list) != 3 {
		t.Fatalf("backup copy lists %d calls (%v), want 3", len(list), err)
	}
}

// TestBackupLeavesOutCallsInProgress: the states of calls in progress are
// not in a backup (a store restored from it would record each as a call
// that ended unseen, a missed call relayed to its client), and the
// running store keeps them.
func TestBackupLeavesOutCallsInProgress(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	st.SaveLive("in-progress", "s=queued")
	st.SaveLiveSeen(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC))
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if live, seen, err := st.LiveCalls(); err != nil || len(live) == 1 && !seen.IsZero() {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("live state never written: %v %v", live, seen)
		}
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, BackupDir: t.TempDir()})
	resp, body := get(t, h, "/api/v1/backup")
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) {
		t.Fatalf("backup: %d, %d bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	cp := storetest.OpenPath(t, path)
	if live, seen, err := cp.LiveCalls(); err != nil || len(live) != 0 || !seen.IsZero() {
		t.Errorf("the backup holds live calls %v, seen %v (%v); want none", live, seen, err)
	}
	if list, err := cp.ListCalls(store.CallFilter{}); err != nil || len(list) != 3 {
		t.Errorf("the backup lists %d calls (%v), want the 3 recorded", len(list), err)
	}
	if live, _, err := st.LiveCalls(); err != nil || live["in-progress"] != "s=queued" {
		t.Errorf("the running store's live calls %v (%v), want in-progress kept", live, err)
	}
}

// TestMonthOutOfRange: a month no call can be in is a 400 naming the
// range, not a store error.
func TestMonthOutOfRange(t *testing.T) {
	st := storetest.Open(t)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	for _, path := range []string{"/api/v1/clients/acme/counts?month=1600-01", "/api/v1/clients/acme/counts?month=2300-01",
		"/api/v1/reports/clients?month=1999-12", "/api/v1/reports/operators?month=2200-01"} {
		if resp, body := get(t, h, path); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "2000-01 to 2199-12") {
			t.Errorf("%s: %d %s, want 400 naming the range", path, resp.StatusCode, body)
		}
	}
	if resp, body := get(t, h, "/api/v1/clients/acme/counts?month=2026-11"); resp.StatusCode != 200 {
		t.Errorf("a month in range: %d %s", resp.StatusCode, body)
	}
}

// TestBackupNeedsFreeSpace: a backup whose copy would leave less than
// 64 MiB free on the data directory's disk is refused (507, saying how
// much is free and needed) and copies nothing: taking the last of the
// space would make the calls' records fail.
func TestBackupNeedsFreeSpace(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	size, err := st.Size()
	if err != nil || size <= 0 {
		t.Fatalf("Size = %d, %v", size, err)
	}
	dir := t.TempDir()
	var free uint64
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, BackupDir: dir,
		FreeSpace: func(string) (uint64, bool) { return free, true }})
	free = uint64(size) + 64<<20 - 1
	resp, body := get(t, h, "/api/v1/backup")
	if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(string(body), dir) ||
		!strings.Contains(string(body), fmt.Sprint(free)) || !strings.Contains(string(body), fmt.Sprint(uint64(size)+64<<20)) {
		t.Fatalf("backup with %d bytes free: %d %s; want 507 naming the directory, the free and the needed bytes", free, resp.StatusCode, body)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a refused backup left %v", left)
	}
	free = uint64(size) + 64<<20
	if resp, body := get(t, h, "/api/v1/backup"); resp.StatusCode != 200 || int64(len(body)) != resp.ContentLength {
		t.Fatalf("backup with just enough space: %d, %d bytes", resp.StatusCode, len(body))
	}
}

func TestMonthlyCounts(t *testing.T) {
	st := storetest.Open(t)
	jst := time.FixedZone("JST", 9*3600)
	for i, r := range []struct {
		at       time.Time
		result   store.Result
		billable bool
	}{
		{time.Date(2026, 11, 1, 0, 30, 0, 0, jst), store.ResultAnswered, true}, // Nov in Japan, Oct in UTC
		{time.Date(2026, 11, 15, 10, 0, 0, 0, jst), store.ResultBlocked, false},
		{time.Date(2026, 11, 30, 23, 59, 0, 0, jst), store.ResultAnswered, true},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, jst), store.ResultAnswered, true},
	} {
		rec := store.CallRecord{ID: fmt.Sprint("c", i), ClientID: "acme", Result: r.result, Billable: r.billable, StartedAt: r.at}
		if err := st.PutCall(rec); err != nil {
			t.Fatal(err)
		}
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	resp, body := get(t, h, "/api/v1/clients/acme/counts?month=2026-11")
	want := `{"client":"acme","month":"2026-11","total":3,"billable":2,"non_billable":1,"by_result":{"answered":2,"blocked":1}}`
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != want {
		t.Fatalf("counts: %d %s\nwant %s", resp.StatusCode, body, want)
	}
	if resp, _ := get(t, h, "/api/v1/clients/acme/counts?month=11-2026"); resp.StatusCode != 400 {
		t.Fatalf("bad month: %d, want 400", resp.StatusCode)
	}
}

// TestCallFilterTimes: the ways an admin writes a time in a URL, Japan
// time unless an offset says otherwise; a "+" left unescaped (a space
// when decoded) still reads as the offset.
func TestCallFilterTimes(t *testing.T) {
	want := time.Date(2026, 11, 1, 0, 0, 0, 0, time.FixedZone("JST", 9*3600))
	for _, from := range []string{"2026-11-01", "2026-11-01T00:00:00", "2026-11-01T00:00", "2026-11-01T00:00:00+09:00",
		"2026-11-01T00:00:00 09:00", "2026-10-31T15:00:00Z"} {
		f, err := api.CallFilterFromQuery(url.Values{"from": {from}})
		if err != nil || !f.From.Equal(want) {
			t.Errorf("from=%q: %v (%v), want %v", from, f.From, err, want)
		}
	}
	// Through a real query string, + unescaped.
	f, err := api.CallFilterFromQuery(mustQuery(t, "from=2026-11-01T00:00:00+09:00&to=2026-12-01"))
	if err != nil || !f.From.Equal(want) || !f.To.Equal(want.AddDate(0, 1, 0)) {
		t.Errorf("query: %v..%v (%v)", f.From, f.To, err)
	}
	for _, bad := range []string{"yesterday", "2026-13-01", "11/01/2026"} {
		if _, err := api.CallFilterFromQuery(url.Values{"from": {bad}}); err == nil || !strings.Contains(err.Error(), "%2B") {
			t.Errorf("from=%q: %v, want an error that says how to write a time", bad, err)
		}
	}
}

func mustQuery(t *testing.T, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func FuzzCallFilterFromQuery(f *testing.F) {
	f.Add("acme", "2026-11-01T00:00:00+09:00", "2026-12-01T00:00:00+09:00", "10")
	f.Add("", "x", "", "-1")
	f.Fuzz(func(t *testing.T, client, from, to, limit string) {
		fl, err := api.CallFilterFromQuery(map[string][]string{"client": {client}, "from": {from}, "to": {to}, "limit": {limit}})
		if err != nil {
			return
		}
		if fl.Limit < 1 || fl.Limit > api.MaxCalls {
			t.Fatalf("limit %d accepted", fl.Limit)
		}
		if !fl.From.IsZero() && !fl.To.IsZero() && !fl.From.Before(fl.To) {
			t.Fatalf("empty range accepted: %v..%v", fl.From, fl.To)
		}
	})
}

func TestCallbacksList(t *testing.T) {
	st := storetest.Open(t)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, id := range []string{"c1", "c2"} {
		if err := st.PutCallback(store.Callback{ID: id, ClientID: "acme", Number: "+819012345678", RequestedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CompleteCallback("c1", "op1001", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	resp, body := get(t, h, "/api/v1/callbacks?state=pending")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"c2"`) || strings.Contains(string(body), `"id":"c1"`) {
		t.Fatalf("pending callbacks: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, h, "/api/v1/callbacks?state=bogus"); resp.StatusCode != 400 {
		t.Fatalf("bad state: %d", resp.StatusCode)
	}
	// One client's: a dashboard for one client must not show another's.
	if err := st.PutCallback(store.Callback{ID: "c3", ClientID: "beta", Number: "+819012345678", RequestedAt: now}); err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, h, "/api/v1/callbacks?client=beta")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"c3"`) || strings.Contains(string(body), `"id":"c2"`) {
		t.Fatalf("beta's callbacks: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, h, "/api/v1/callbacks?clients=beta"); resp.StatusCode != 400 || !strings.Contains(string(body), "clients: unknown parameter") {
		t.Fatalf("a misspelt parameter: %d %s, want 400", resp.StatusCode, body)
	}
}

func TestAPIToken(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	token := "0123456789abcdef-token"
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: func() string { return token }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(path, auth string) int {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		path, auth string
		want       int
	}{
		{"/api/v1/calls", "", 401},
		{"/api/v1/calls", "Bearer wrong", 401},
		{"/api/v1/calls", "Basic " + token, 401},
		{"/api/v1/calls", "Bearer " + token, 200},
		{"/api/v1/backup", "", 401},
		{"/api/v1/callbacks", "", 401},
		{"/api/v1/clients/acme/counts", "", 401},
		{"/healthz", "", 200},
	}
	for _, tt := range tests {
		if got := do(tt.path, tt.auth); got != tt.want {
			t.Errorf("GET %s with %q = %d, want %d", tt.path, tt.auth, got, tt.want)
		}
	}
}

func TestDataAPIOffWithoutToken(t *testing.T) {
	st := storetest.Open(t)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/api/v1/calls", "/api/v1/backup", "/api/v1/callbacks", "/api/v1/clients/acme/counts"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s without a configured token = %d, want 403", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d, want 200 without a token", resp.StatusCode)
	}
}

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

// stalledWriter is a client that stops reading: its first write blocks
// until released.
type stalledWriter struct {
	header  http.Header
	release chan struct{}
}

func (s *stalledWriter) Header() http.Header { return s.header }
func (s *stalledWriter) WriteHeader(int)     {}
func (s *stalledWriter) Write(b []byte) (int, error) {
	<-s.release
	return len(b), nil
}

// TestBackupToAStalledClientHoldsNoWriter: a backup client that stops
// reading must not hold the store's writers (every call record) while it
// stalls: the copy is made first, in one short read transaction.
func TestBackupToAStalledClientHoldsNoWriter(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Logger: slog.New(slog.DiscardHandler)})
	w := &stalledWriter{header: http.Header{}, release: make(chan struct{})}
	req := httptest.NewRequest("GET", "/api/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	served := make(chan struct{})
	go func() { defer close(served); h.ServeHTTP(w, req) }()
	defer func() { close(w.release); <-served }()
	// Grow the file while the client stalls: bbolt remaps it, which waits
	// for every open read transaction.
	wrote := make(chan error, 1)
	go func() {
		big := strings.Repeat("x", 64<<10)
		for i := range 100 {
			rec := store.CallRecord{ID: fmt.Sprintf("g%03d", i), ClientID: "acme", DID: "0312345678", Result: store.ResultCompleted, Reason: big,
				StartedAt: time.Date(2026, 11, 3, 10, 0, i, 0, time.UTC), EndedAt: time.Date(2026, 11, 3, 10, 1, i, 0, time.UTC)}
			if err := st.PutCall(rec); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call records waited for a stalled backup client")
	}
}

// TestBackupCopiesIntoBackupDir: the copy is made in BackupDir (the data
// directory) and removed once sent.
func TestBackupCopiesIntoBackupDir(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	dir := t.TempDir()
	var during []string
	h := api.NewHandler(api.Deps{Calls: copySpy{st, func() {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		during = names
	}}, LinkUp: func() bool { return true }, Token: tokenFunc, BackupDir: dir})
	if resp, body := get(t, h, "/api/v1/backup"); resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	if len(during) != 1 {
		t.Fatalf("files in the backup directory during the copy: %v", during)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("files left in the backup directory: %v", left)
	}
}

// copySpy calls after once the backup copy is written.
type copySpy struct {
	*store.Store
	after func()
}

func (c copySpy) Backup(w io.Writer) (int64, error) {
	n, err := c.Store.Backup(w)
	c.after()
	return n, err
}

// TestMonthlyReports: the month's figures per client and per operator, as
// JSON and as CSV for Excel (UTF-8 with BOM), the month in Japan time;
// the calls list as CSV; a bad month is a 400.
func TestMonthlyReports(t *testing.T) {
	st := storetest.Open(t)
	at := time.Date(2026, 10, 31, 15, 30, 0, 0, time.UTC) // 2026-11-01 00:30 in Japan
	for i, r := range []store.CallRecord{
		{ID: "a1", ClientID: "acme", Result: store.ResultAnswered, Billable: true, WaitMS: 5000, OperatorID: "op1", AnsweredAt: at.Add(5 * time.Second), EndedAt: at.Add(65 * time.Second)},
		{ID: "a2", ClientID: "acme", Result: store.ResultAbandoned, Billable: true, WaitMS: 40000},
		{ID: "b1", ClientID: "beta", Result: store.ResultBlocked},
	} {
		r.StartedAt = at.Add(time.Duration(i) * time.Minute)
		if err := st.PutCall(r); err != nil {
			t.Fatal(err)
		}
	}
	old := store.CallRecord{ID: "oct", ClientID: "acme", Result: store.ResultAnswered, StartedAt: at.Add(-time.Hour)} // October in Japan
	if err := st.PutCall(old); err != nil {
		t.Fatal(err)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})

	resp, body := get(t, h, "/api/v1/reports/clients?month=2026-11")
	var cr struct {
		Month   string `json:"month"`
		Clients []struct {
			ClientID  string `json:"client_id"`
			Calls     int    `json:"calls"`
			Billable  int    `json:"billable"`
			Answered  int    `json:"answered"`
			Abandoned int    `json:"abandoned"`
		} `json:"clients"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &cr) != nil || cr.Month != "2026-11" || len(cr.Clients) != 2 ||
		cr.Clients[0].ClientID != "acme" || cr.Clients[0].Calls != 2 || cr.Clients[0].Billable != 2 || cr.Clients[0].Answered != 1 || cr.Clients[0].Abandoned != 1 {
		t.Fatalf("clients report: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, h, "/api/v1/reports/operators?month=2026-11&format=csv")
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(string(body), "\ufeff月,オペレーター,") || !strings.Contains(string(body), `"=""2026-11""","=""op1""",1,60.0,60.0`) {
		t.Fatalf("operators CSV: %d %q %s", resp.StatusCode, ct, body)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="toritsugi-operators-2026-11.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	resp, body = get(t, h, "/api/v1/calls?client=acme&format=csv")
	if resp.StatusCode != 200 || strings.Count(string(body), "\n") != 4 || !strings.Contains(string(body), "2026-11-01 00:30:00") {
		t.Fatalf("calls CSV: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, h, "/api/v1/reports/clients?month=11/2026"); resp.StatusCode != 400 {
		t.Errorf("a bad month: %d %s", resp.StatusCode, body)
	}
}

// TestOneBackupAtATime: a backup asked for while another is being sent is
// refused with 429 (each copies the whole database to the data disk);
// copies a stopped process left behind are removed when the API starts;
// reads of callers' data are logged with who asked, and refused tokens
// too.
func TestOneBackupAtATime(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st)
	dir := t.TempDir()
	left := filepath.Join(dir, ".toritsugi-backup-12345.db")
	if err := os.WriteFile(left, []byte("half a copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, BackupDir: dir, Logger: logger})
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("a copy left behind is still there: %v", err)
	}
	w := &stalledWriter{header: http.Header{}, release: make(chan struct{})}
	req := httptest.NewRequest("GET", "/api/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	served := make(chan struct{})
	go func() { defer close(served); h.ServeHTTP(w, req) }()
	var code int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		resp, _ := get(t, h, "/api/v1/backup")
		if code = resp.StatusCode; code == http.StatusTooManyRequests {
			break
		}
	}
	close(w.release)
	<-served
	if code != http.StatusTooManyRequests {
		t.Fatalf("a second backup during the first: %d, want 429", code)
	}
	if resp, body := get(t, h, "/api/v1/backup"); resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("a backup after the first: %d", resp.StatusCode)
	}
	bad := httptest.NewRequest("GET", "/api/v1/calls", nil)
	bad.Header.Set("Authorization", "Bearer wrong")
	h.ServeHTTP(httptest.NewRecorder(), bad)
	// Anyone may send a huge path: the log keeps 200 bytes of it.
	huge := httptest.NewRequest("GET", "/api/v1/clients/"+strings.Repeat("x", 512<<10)+"/counts", nil)
	h.ServeHTTP(httptest.NewRecorder(), huge)
	get(t, h, "/api/v1/calls?client=acme")
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if len(out) > 8<<10 || !strings.Contains(out, "…(cut)") {
		t.Errorf("a refused 512 KiB path made %d bytes of log, want it cut", len(out))
	}
	if !strings.Contains(out, `msg="data API" method=GET path=/api/v1/calls query="client=acme" remote=`) || !strings.Contains(out, "status=200") {
		t.Errorf("the read of calls is not logged:\n%s", out)
	}
	if !strings.Contains(out, `level=WARN msg="data API: refused, no valid token"`) {
		t.Errorf("the refused token is not logged:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestListCallsSaysWhenCut: a list cut at its limit says so (JSON "more",
// the CSV's X-More-Calls header); a complete one does not.
func TestListCallsSaysWhenCut(t *testing.T) {
	st := storetest.Open(t)
	seed(t, st) // three calls
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	for query, want := range map[string]struct {
		n    int
		more bool
	}{"?limit=2": {2, true}, "?limit=3": {3, false}, "": {3, false}} {
		resp, body := get(t, h, "/api/v1/calls"+query)
		var got struct {
			Calls []store.CallRecord `json:"calls"`
			More  bool               `json:"more"`
		}
		if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 || len(got.Calls) != want.n || got.More != want.more {
			t.Errorf("%q: %d calls, more %v (%v); want %d, %v", query, len(got.Calls), got.More, err, want.n, want.more)
		}
	}
	if resp, _ := get(t, h, "/api/v1/calls?limit=2&format=csv"); resp.Header.Get("X-More-Calls") != "true" {
		t.Errorf("a cut CSV: X-More-Calls %q", resp.Header.Get("X-More-Calls"))
	}
	if resp, _ := get(t, h, "/api/v1/calls?format=csv"); resp.Header.Get("X-More-Calls") != "" {
		t.Errorf("a whole CSV: X-More-Calls %q", resp.Header.Get("X-More-Calls"))
	}
}

// pageSpy records the pages of EachCallPage.
type pageSpy struct {
	*store.Store
	pages []int
}

func (p *pageSpy) EachCallPage(f store.CallFilter, page int, fn func([]store.CallRecord) error) error {
	return p.Store.EachCallPage(f, page, func(calls []store.CallRecord) error {
		p.pages = append(p.pages, len(calls))
		return fn(calls)
	})
}

// TestCallsExportIsWholeAndPaged: a CSV export from a date without an end
// is every call since, not the first 1,000 (a browser's download shows
// no X-More-Calls); it is read and written 1,000 calls at a time, and the
// month report is summed the same way.
func TestCallsExportIsWholeAndPaged(t *testing.T) {
	st := storetest.Open(t)
	at := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 2500)
	for g := range 50 { // concurrent writers share bbolt's batches
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < 2500; i += 50 {
				errs <- st.PutCall(store.CallRecord{ID: fmt.Sprintf("c%04d", i), ClientID: "acme", Result: store.ResultAnswered,
					Billable: true, StartedAt: at.Add(time.Duration(i) * time.Second)})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	spy := &pageSpy{Store: st}
	h := api.NewHandler(api.Deps{Calls: spy, LinkUp: func() bool { return true }, Token: tokenFunc})
	resp, body := get(t, h, "/api/v1/calls?format=csv&from=2026-11-01")
	rows := strings.Count(string(body), "\n") - 1 // the heading
	if resp.StatusCode != 200 || rows != 2500 || resp.Header.Get("X-More-Calls") != "" {
		t.Fatalf("export since 2026-11-01: %d, %d rows, X-More-Calls %q; want 200, all 2500", resp.StatusCode, rows, resp.Header.Get("X-More-Calls"))
	}
	if !slices.Equal(spy.pages, []int{1000, 1000, 500}) {
		t.Errorf("read in pages of %v, want 1000, 1000, 500", spy.pages)
	}
	// Without a from (a client's whole history, or all up to a date): the
	// whole range too, not the oldest 1,000.
	for _, q := range []string{"client=acme&format=csv", "format=csv&to=2026-12-01"} {
		spy.pages = nil
		resp, body := get(t, h, "/api/v1/calls?"+q)
		rows := strings.Count(string(body), "\n") - 1
		if resp.StatusCode != 200 || rows != 2500 || !strings.Contains(string(body), "c2499") || !slices.Equal(spy.pages, []int{1000, 1000, 500}) {
			t.Errorf("export %s: %d, %d rows, pages %v; want all 2500 read 1000 at a time", q, resp.StatusCode, rows, spy.pages)
		}
	}
	spy.pages = nil
	resp, body = get(t, h, "/api/v1/reports/clients?month=2026-11")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"calls":2500`) || !slices.Equal(spy.pages, []int{1000, 1000, 500}) {
		t.Errorf("month report: %d %.300s, pages %v; want 2500 calls read 1000 at a time", resp.StatusCode, body, spy.pages)
	}
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

// TestCallChangesFeed: an incremental reader of call records asks for the
// records stored or changed after the number the last page gave: a call
// in progress when a page was read, stored later under an earlier start
// time, is in the next page (by start time it would be missed for good),
// and so is a record changed after it was read (an operator's class).
func TestCallChangesFeed(t *testing.T) {
	st := storetest.Open(t)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	t0 := time.Date(2026, 11, 30, 10, 58, 0, 0, time.UTC)
	put := func(id string, started time.Time) {
		t.Helper()
		r := store.CallRecord{ID: id, ClientID: "acme", DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
			Result: store.ResultAnswered, Billable: true, StartedAt: started, EndedAt: started.Add(7 * time.Minute)}
		if err := st.PutCall(r); err != nil {
			t.Fatal(err)
		}
	}
	page := func(after string) (ids []string, next string, more bool) {
		t.Helper()
		resp, body := get(t, h, "/api/v1/calls?changed_after="+after+"&limit=1")
		var b struct {
			Calls []store.CallRecord `json:"calls"`
			Next  string             `json:"next"`
			More  bool               `json:"more"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &b) != nil {
			t.Fatalf("changed_after=%s: %d %s", after, resp.StatusCode, body)
		}
		for _, c := range b.Calls {
			ids = append(ids, c.ID)
		}
		return ids, b.Next, b.More
	}
	put("early", t0.Add(-time.Hour))
	ids, next, more := page("0")
	if !slices.Equal(ids, []string{"early"}) || more {
		t.Fatalf("first page %v more %v", ids, more)
	}
	put("long", t0)                     // started before the last read, stored after
	put("short", t0.Add(3*time.Minute)) // started after
	ids, next2, more := page(next)
	if !slices.Equal(ids, []string{"long"}) || !more {
		t.Fatalf("after %s: %v more %v, want long and more", next, ids, more)
	}
	if ids, _, more := page(next2); !slices.Equal(ids, []string{"short"}) || more {
		t.Fatalf("after %s: %v more %v, want short and no more", next2, ids, more)
	}
	if err := st.ClassifyCall("early", store.ClassSales, "op1", t0); err != nil {
		t.Fatal(err)
	}
	if ids, next3, _ := page(next2); !slices.Equal(ids, []string{"short"}) {
		t.Fatalf("after %s, once early is classified: %v", next2, ids)
	} else if ids, _, more := page(next3); !slices.Equal(ids, []string{"early"}) || more {
		t.Fatalf("after %s, once early is classified: %v more %v, want early changed", next3, ids, more)
	}
	for _, q := range []string{"changed_after=x", "changed_after=0&from=2026-11-01", "changed_after=0&limit=0"} {
		if resp, body := get(t, h, "/api/v1/calls?"+q); resp.StatusCode != 400 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s: %d %s, want 400", q, resp.StatusCode, body)
		}
	}
}

// TestMissesAnswerJSON: a path the API does not have (404) and a method a
// path does not take (405, with Allow) are answered in JSON, as every
// other error of the API, not in the router's plain text.
func TestMissesAnswerJSON(t *testing.T) {
	h := api.NewHandler(api.Deps{Calls: storetest.Open(t), LinkUp: func() bool { return true }, Token: tokenFunc})
	for _, tt := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/api/v1/nosuch", 404, ""},
		{"POST", "/api/v1/calls", 405, "GET, HEAD"},
	} {
		resp, body := do(t, h, tt.method, tt.path)
		var e struct{ Error string }
		if resp.StatusCode != tt.code || resp.Header.Get("Allow") != tt.allow || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s %s: %d Allow %q %s %s, want %d in JSON", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Content-Type"), body, tt.code)
		}
	}
}
