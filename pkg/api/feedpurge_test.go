package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/api"
	"github.com/toritsugi/toritsugi/pkg/internal/golden"
	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// feedPage is a page of the change feed as a reader decodes it.
type feedPage struct {
	Calls  []store.CallRecord `json:"calls"`
	Purged []struct {
		ID  string `json:"id"`
		Seq string `json:"seq"`
	} `json:"purged"`
	Next string `json:"next"`
	More bool   `json:"more"`
}

// purgeFixture is a store with acme's call old-a and beta's old-b purged
// after a reader read them (its cursor returned), gamma's g1 stored
// before, acme's new since.
func purgeFixture(t *testing.T) (*store.Store, http.Handler, string) {
	t.Helper()
	st := storetest.Open(t)
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc})
	t0 := time.Date(2026, 11, 30, 10, 58, 0, 0, time.UTC)
	put := func(id, client string, started time.Time) {
		t.Helper()
		r := store.CallRecord{ID: id, ClientID: client, DID: "0312345678", CallerID: "09012345678", CallerKind: "number",
			Result: store.ResultAnswered, Billable: true, StartedAt: started, EndedAt: started.Add(7 * time.Minute)}
		if err := st.PutCall(r); err != nil {
			t.Fatal(err)
		}
	}
	put("old-a", "acme", t0.AddDate(-1, 0, 0))
	put("old-b", "beta", t0.AddDate(-1, 0, 1))
	put("g1", "gamma", t0.Add(-time.Hour))
	resp, body := get(t, h, "/api/v1/calls?changed_after=0")
	var first feedPage
	if resp.StatusCode != 200 || json.Unmarshal(body, &first) != nil || len(first.Calls) != 3 {
		t.Fatalf("first read: %d %s", resp.StatusCode, body)
	}
	if _, err := st.PurgeCalls(t0.AddDate(0, 0, -90), nil, nil); err != nil {
		t.Fatal(err)
	}
	put("new", "acme", t0)
	return st, h, first.Next
}

// TestCallChangesGivePurged: a reader of the change feed reads, besides
// the records stored or changed, the ids of the records the retention
// purged since its number, in "purged" with their numbers (golden file:
// the page's shape; "calls" as before, for readers that know nothing of
// "purged"); limit counts both, next is the last entry's number.
func TestCallChangesGivePurged(t *testing.T) {
	_, h, reader := purgeFixture(t)
	resp, body := get(t, h, "/api/v1/calls?changed_after="+reader)
	var page feedPage
	if resp.StatusCode != 200 || json.Unmarshal(body, &page) != nil {
		t.Fatalf("changed_after=%s: %d %s", reader, resp.StatusCode, body)
	}
	if len(page.Purged) != 2 || page.Purged[0].ID != "old-a" || page.Purged[1].ID != "old-b" || len(page.Calls) != 1 || page.More {
		t.Fatalf("page %s: want old-a and old-b purged, new stored", body)
	}
	// The numbers change with the clock: named by their order.
	named := body
	for i, n := range []string{page.Purged[0].Seq, page.Purged[1].Seq, page.Next} {
		named = bytes.ReplaceAll(named, []byte(`"`+n+`"`), []byte(fmt.Sprintf(`"<number %d>"`, i+1)))
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, named, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "changes_purged.golden.json"), indented.Bytes())

	resp, body = get(t, h, "/api/v1/calls?changed_after="+reader+"&limit=2")
	var cut feedPage
	if resp.StatusCode != 200 || json.Unmarshal(body, &cut) != nil || len(cut.Calls) != 0 || len(cut.Purged) != 2 || !cut.More || cut.Next != page.Purged[1].Seq {
		t.Fatalf("limit=2: %d %s; want the two purged, more, next the second's number", resp.StatusCode, body)
	}
}

// TestCallChangesGone: once the notices of records purged after a
// reader's number have expired, its next request is answered 410 with a
// JSON error telling it to read in full again, and the full read (0) is
// answered, a page at a time, to a cursor that is not refused. A client's
// reader (its own token, client=) none of whose records were purged is
// not refused for other clients' notices, however long idle.
func TestCallChangesGone(t *testing.T) {
	st, h, reader := purgeFixture(t)
	// gamma's reader, with gamma's own token: its cursor is g1's number,
	// from before the purge.
	resp, body := doAs(t, gammaHandler(st), gammaToken, "GET", "/api/v1/calls?changed_after=0&client=gamma")
	var gamma feedPage
	if resp.StatusCode != 200 || json.Unmarshal(body, &gamma) != nil || len(gamma.Calls) != 1 {
		t.Fatalf("gamma's read: %d %s", resp.StatusCode, body)
	}
	// The notices of old-a and old-b expire: made older than they are
	// kept, then the next purge.
	ageNotices(t, st, store.PurgeNoticeKeep+time.Hour)
	if _, err := st.PurgeCalls(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), nil, nil); err != nil {
		t.Fatal(err)
	}

	resp, body = get(t, h, "/api/v1/calls?changed_after="+reader)
	var gone struct {
		Error string `json:"error"`
	}
	if resp.StatusCode != http.StatusGone || json.Unmarshal(body, &gone) != nil || !bytes.Contains(body, []byte("changed_after=0")) {
		t.Fatalf("a reader from before the notices expired: %d %s; want 410 saying to read from changed_after=0", resp.StatusCode, body)
	}
	resp, body = doAs(t, gammaHandler(st), gammaToken, "GET", "/api/v1/calls?client=gamma&changed_after="+gamma.Next)
	if resp.StatusCode != 200 {
		t.Fatalf("gamma's idle reader, with gamma's token: %d %s; want 200", resp.StatusCode, body)
	}
	next := "0"
	var calls []string
	for i := 0; ; i++ {
		resp, body = get(t, h, "/api/v1/calls?limit=1&changed_after="+next)
		var p feedPage
		if resp.StatusCode != 200 || json.Unmarshal(body, &p) != nil || i > 5 {
			t.Fatalf("a full read, page %d, after %s: %d %s", i, next, resp.StatusCode, body)
		}
		for _, c := range p.Calls {
			calls = append(calls, c.ID)
		}
		next = p.Next
		if !p.More {
			break
		}
	}
	if resp, body = get(t, h, "/api/v1/calls?changed_after="+next); resp.StatusCode != 200 || len(calls) != 2 {
		t.Fatalf("after a full read of %v, at %s: %d %s", calls, next, resp.StatusCode, body)
	}
	for _, bad := range []string{"1-0", "1-", "-1", "x-1", "1-2-3"} {
		if resp, body := get(t, h, "/api/v1/calls?changed_after="+bad); resp.StatusCode != 400 {
			t.Errorf("changed_after=%s: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
}

// ageNotices makes every purge notice in st's file older by d.
func ageNotices(t *testing.T, st *store.Store, d time.Duration) {
	t.Helper()
	err := st.Bolt().Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("calls_purged"))
		aged := map[string][]byte{}
		err := b.ForEach(func(k, v []byte) error {
			var n map[string]any
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			at, err := time.Parse(time.RFC3339Nano, n["purged_at"].(string))
			if err != nil {
				return err
			}
			n["purged_at"] = at.Add(-d)
			aged[string(k)], err = json.Marshal(n)
			return err
		})
		if err != nil || len(aged) == 0 {
			return fmt.Errorf("%d notices: %w", len(aged), err)
		}
		for k, v := range aged {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

const gammaToken = "gamma-token-0123456789"

// gammaHandler is the API with a token of client gamma's own.
func gammaHandler(st *store.Store) http.Handler {
	return api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc,
		ClientTokens: func() map[string]string { return map[string]string{gammaToken: "gamma"} }})
}
