package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

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
// after a reader read them (its cursor returned), and acme's new stored
// since.
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
	resp, body := get(t, h, "/api/v1/calls?changed_after=0")
	var first feedPage
	if resp.StatusCode != 200 || json.Unmarshal(body, &first) != nil || len(first.Calls) != 2 {
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
