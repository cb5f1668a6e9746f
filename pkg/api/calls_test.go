package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
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

// TestMisspeltParameterRefused: a parameter a listing does not take is a
// 400 naming it: GET /api/v1/calls?clinet=acme listed every client's
// calls, /api/v1/relay?clinet=acme every client's dead letters.
func TestMisspeltParameterRefused(t *testing.T) {
	st := storetest.Open(t)
	ob, err := relay.OpenOutbox(st.Bolt(), relay.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := api.NewHandler(api.Deps{Calls: st, LinkUp: func() bool { return true }, Token: tokenFunc, Outbox: ob})
	for _, path := range []string{"/api/v1/calls?clinet=acme", "/api/v1/calls?format=csv&clinet=acme", "/api/v1/relay?clinet=acme",
		"/api/v1/reports/clients?mnth=2026-11", "/api/v1/clients/acme/counts?mnth=2026-11"} {
		resp, body := get(t, h, path)
		if resp.StatusCode != 400 || !strings.Contains(string(body), "unknown parameter") {
			t.Errorf("%s: %d %s, want 400 naming the parameter", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/api/v1/calls?client=acme&limit=5", "/api/v1/relay?client=acme&state=pending", "/api/v1/reports/clients?month=2026-11&format=csv"} {
		if resp, body := get(t, h, path); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s, want 200", path, resp.StatusCode, body)
		}
	}
}
