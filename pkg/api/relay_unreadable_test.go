package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/internal/golden"
	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// unreadableServer serves the API over a real store file whose outbox
// had two entries damaged and set aside at a start (2026-11-30 10:00
// Japan time): acme's in-1-v1/hook and in-2-v1/hook (a dead letter).
func unreadableServer(t *testing.T) (*httptest.Server, *relay.Outbox) {
	t.Helper()
	return unreadableServerWith(t, nil)
}

// unreadableServerWith is unreadableServer with more written to the
// store by damage before the outbox is opened again (nil: nothing).
func unreadableServerWith(t *testing.T, damage func(tx *bolt.Tx) error) (*httptest.Server, *relay.Outbox) {
	t.Helper()
	st := storetest.Open(t)
	clock := &steppedClock{now: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)}
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"in-1-v1", "in-2-v1", "in-3-v1"} {
		m := relay.Message{ID: id, ClientID: "acme", Kind: relay.KindIntake, Text: "山田花子様より"}
		if _, err := ob.Enqueue(m, []string{"hook"}); err != nil {
			t.Fatal(err)
		}
	}
	err = st.Bolt().Update(func(tx *bolt.Tx) error {
		// in-2's a dead letter: moved there as the worker would.
		v := tx.Bucket([]byte("relay_outbox")).Get([]byte("in-2-v1/hook"))
		if err := tx.Bucket([]byte("relay_dead")).Put([]byte("in-2-v1/hook"), bytes.Replace(v, []byte(`"pending"`), []byte(`"dead"`), 1)); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("relay_due")).Delete([]byte("in-2-v1/hook")); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("relay_outbox")).Delete([]byte("in-2-v1/hook")); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("relay_outbox")).Put([]byte("in-1-v1/hook"), []byte(`{"id":"in-1-v1/hook","message":{"text":"山田`)); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("relay_dead")).Put([]byte("in-2-v1/hook"), []byte("\x00\x01damaged")); err != nil {
			return err
		}
		if damage != nil {
			return damage(tx)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ob, err = relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{Clock: clock}); err != nil {
		t.Fatal(err)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob,
		ClientTokens: func() map[string]string { return map[string]string{acmeToken: "acme", betaToken: "beta"} }})
	srv := httptest.NewServer(h) // 127.0.0.1, a port of its own
	t.Cleanup(srv.Close)
	return srv, ob
}

// call sends method path to srv with token, and returns the status and
// body.
func call(t *testing.T, srv *httptest.Server, token, method, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, buf.Bytes()
}

// TestRelayUnreadableListed: GET /api/v1/relay?state=unreadable lists,
// with the service's token, the entries set aside unreadable: key,
// message id and destination, where each was, when and why it was set
// aside, and its value as it was in base64 (golden file). A client's
// token is refused, its own client's entries too (their client cannot
// be read), and so is client= with the service's token.
func TestRelayUnreadableListed(t *testing.T) {
	srv, _ := unreadableServer(t)
	code, body := call(t, srv, testToken, "GET", "/api/v1/relay?state=unreadable")
	if code != http.StatusOK {
		t.Fatalf("state=unreadable: %d %s", code, body)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "relay_unreadable.golden.json"), indented.Bytes())
	var got struct {
		Entries []relay.Unreadable `json:"entries"`
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Entries) != 2 || string(got.Entries[1].Value) != "\x00\x01damaged" {
		t.Fatalf("decoded %+v, %v: want the two entries, the dead letter's value as it was", got, err)
	}

	for _, tc := range []struct {
		name, token, query string
		code               int
	}{
		{"acme's token", acmeToken, "state=unreadable", http.StatusForbidden},
		{"acme's token, its own client", acmeToken, "state=unreadable&client=acme", http.StatusForbidden},
		{"beta's token", betaToken, "state=unreadable", http.StatusForbidden},
		{"the service's token, client=", testToken, "state=unreadable&client=acme", http.StatusBadRequest},
		{"the service's token, a wrong after", testToken, "state=unreadable&after=x", http.StatusBadRequest},
		{"a wrong state", testToken, "state=unread", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, srv, tc.token, "GET", "/api/v1/relay?"+tc.query)
			if code != tc.code {
				t.Errorf("%s: %d %s, want %d", tc.query, code, body, tc.code)
			}
			if strings.Contains(string(body), "in-1-v1") || strings.Contains(string(body), "AAFkYW1hZ2Vk") {
				t.Errorf("%s: %s names an unreadable entry", tc.query, body)
			}
		})
	}
}

// TestRelayUnreadablePages: more entries set aside than a page holds are
// read a page at a time with after=, as the other states are.
func TestRelayUnreadablePages(t *testing.T) {
	srv, _ := unreadableServer(t)
	defer api.SetUnreadablePageSize(api.SetUnreadablePageSize(1))
	code, body := call(t, srv, testToken, "GET", "/api/v1/relay?state=unreadable")
	var page struct {
		Entries   []relay.Unreadable `json:"entries"`
		Truncated bool               `json:"truncated"`
		Next      string             `json:"next"`
	}
	if err := json.Unmarshal(body, &page); code != 200 || err != nil || len(page.Entries) != 1 || page.Entries[0].ID != "in-1-v1/hook" || !page.Truncated || page.Next == "" {
		t.Fatalf("first page: %d %s (%v)", code, body, err)
	}
	code, body = call(t, srv, testToken, "GET", "/api/v1/relay?state=unreadable&after="+url.QueryEscape(page.Next))
	page.Entries, page.Truncated, page.Next = nil, false, ""
	if err := json.Unmarshal(body, &page); code != 200 || err != nil || len(page.Entries) != 1 || page.Entries[0].ID != "in-2-v1/hook" || page.Truncated {
		t.Fatalf("second page: %d %s (%v)", code, body, err)
	}
}

// TestRelayUnreadableDiscarded: POST /api/v1/relay/unreadable/discard
// deletes an entry set aside, so that /healthz's relay.unreadable goes
// down and, with none left, is no longer shown: the service's token
// only; an id not set aside is a 404, and the dead letters' discard
// does not take one.
func TestRelayUnreadableDiscarded(t *testing.T) {
	srv, ob := unreadableServer(t)
	health := func() string {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return buf.String()
	}
	if h := health(); !strings.Contains(h, `"unreadable":2`) {
		t.Fatalf("/healthz: %s, want 2 unreadable", h)
	}
	discard := "/api/v1/relay/unreadable/discard?id=" + url.QueryEscape("in-1-v1/hook")
	if code, body := call(t, srv, acmeToken, "POST", discard); code != http.StatusForbidden {
		t.Fatalf("with acme's token: %d %s, want 403", code, body)
	}
	if code, body := call(t, srv, testToken, "POST", "/api/v1/relay/discard?id="+url.QueryEscape("in-1-v1/hook")); code != http.StatusNotFound {
		t.Fatalf("the dead letters' discard: %d %s, want 404 (not a dead letter)", code, body)
	}
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/api/v1/relay/unreadable/discard", http.StatusBadRequest, "id"},
		{"/api/v1/relay/unreadable/discard?id=x&force=1", http.StatusBadRequest, "force"},
		{discard, http.StatusOK, `{"discarded":"in-1-v1/hook"}`},
		{discard, http.StatusNotFound, "no unreadable entry"},
		{"/api/v1/relay/unreadable/discard?id=in-3-v1%2Fhook", http.StatusNotFound, "no unreadable entry"},
	} {
		if code, body := call(t, srv, testToken, "POST", tc.path); code != tc.code || !strings.Contains(string(body), tc.body) {
			t.Errorf("POST %s: %d %s, want %d with %q", tc.path, code, body, tc.code, tc.body)
		}
	}
	if h := health(); !strings.Contains(h, `"unreadable":1`) {
		t.Fatalf("/healthz after a discard: %s, want 1 unreadable", h)
	}
	if _, err := ob.Get("in-3-v1/hook"); err != nil {
		t.Fatalf("the readable entry: %v", err)
	}
	if code, body := call(t, srv, testToken, "POST", "/api/v1/relay/unreadable/discard?id="+url.QueryEscape("in-2-v1/hook")); code != http.StatusOK {
		t.Fatalf("the second: %d %s", code, body)
	}
	if h := health(); strings.Contains(h, "unreadable") {
		t.Fatalf("/healthz with none left: %s, want no relay.unreadable", h)
	}
}

// TestRelayUnreadablePagesWithoutTime: entries set aside whose record of
// their setting aside does not decode either have no time (the zero
// time): paged one at a time, they come first, by key, then the others,
// each listed once. Their cursor wrote the zero time in Unix nanoseconds,
// which overflow (to a time in 1754): the entries without a time after
// the first came before that cursor, and were never listed.
func TestRelayUnreadablePagesWithoutTime(t *testing.T) {
	srv, _ := unreadableServerWith(t, func(tx *bolt.Tx) error {
		for _, k := range []string{"in-9-v1/hook", "in-7-v1/mail", "in-8-v1/hook"} {
			if err := tx.Bucket([]byte("relay_unreadable")).Put([]byte(k), []byte("\xffnot a record")); err != nil {
				return err
			}
		}
		return nil
	})
	defer api.SetUnreadablePageSize(api.SetUnreadablePageSize(1))
	var got []string
	path := "/api/v1/relay?state=unreadable"
	for range 10 {
		code, body := call(t, srv, testToken, "GET", path)
		var page struct {
			Entries   []relay.Unreadable `json:"entries"`
			Truncated bool               `json:"truncated"`
			Next      string             `json:"next"`
		}
		if err := json.Unmarshal(body, &page); code != http.StatusOK || err != nil || len(page.Entries) > 1 {
			t.Fatalf("GET %s: %d %s (%v)", path, code, body, err)
		}
		for _, e := range page.Entries {
			got = append(got, e.ID)
		}
		if !page.Truncated {
			break
		}
		path = "/api/v1/relay?state=unreadable&after=" + url.QueryEscape(page.Next)
	}
	want := []string{"in-7-v1/mail", "in-8-v1/hook", "in-9-v1/hook", "in-1-v1/hook", "in-2-v1/hook"}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %q, want %q", got, want)
	}
}
