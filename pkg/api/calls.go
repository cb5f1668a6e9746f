package api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/report"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// queryTime reads a time given in a query string: a date (2026-11-01, its
// start in Japan), a date and time without an offset (Japan time), or RFC
// 3339. A "+" written unescaped in a URL arrives as a space (…T00:00:00
// 09:00): it is read as the "+" it was.
func queryTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ' '); i > 10 {
		s = s[:i] + "+" + s[i+1:]
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		loc := tokyo
		if layout == time.RFC3339 {
			loc = time.UTC // the offset in s applies
		}
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2026-11-01, Japan time), a Japan time (2026-11-01T09:00:00) or an RFC 3339 time (2026-11-01T00:00:00%%2B09:00, with + written %%2B)", s)
}

// CallFilterFromQuery parses ?client=&from=&to=&limit= (see queryTime).
func CallFilterFromQuery(q map[string][]string) (store.CallFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	f := store.CallFilter{ClientID: get("client"), Limit: MaxCalls}
	var err error
	if s := get("from"); s != "" {
		if f.From, err = queryTime(s); err != nil {
			return f, fmt.Errorf("from: %w", err)
		}
	}
	if s := get("to"); s != "" {
		if f.To, err = queryTime(s); err != nil {
			return f, fmt.Errorf("to: %w", err)
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, errors.New("from must be before to")
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxCalls {
			return f, fmt.Errorf("limit: want a whole number from 1 to %d", MaxCalls)
		}
		f.Limit = n
	}
	return f, nil
}

type callsBody struct {
	Calls []store.CallRecord `json:"calls"`
	// More: the limit cut the list; a narrower range (from, to) lists
	// the rest.
	More bool `json:"more"`
}

// changesBody is a page of the change feed of call records.
type changesBody struct {
	Calls []store.CallRecord `json:"calls"`
	// Purged are the records the retention deleted (a reader deletes its
	// copies, after applying Calls).
	Purged []store.PurgedCall `json:"purged"`
	// Next is the changed_after of the next request; More: ask again now.
	Next string `json:"next"`
	More bool   `json:"more"`
}

// callChanges answers GET /api/v1/calls?changed_after=N: the records
// stored or changed, and the notices of those purged, after number N of
// the feed (0: from the first), in the order written, at most limit, of
// one client with client=.
func (d Deps) callChanges(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "changed_after" && k != "client" && k != "limit" {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: k + ": not with changed_after (client, limit)"})
			return
		}
	}
	after, err := store.ParseChangeCursor(q.Get("changed_after"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "changed_after: want the next of the last page as given, or 0 for the first"})
		return
	}
	limit := MaxCalls
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > MaxCalls {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("limit: want a whole number from 1 to %d", MaxCalls)})
			return
		}
	}
	page, err := d.Calls.CallChanges(after, q.Get("client"), limit)
	if errors.Is(err, store.ErrChangesGone) {
		writeJSON(w, http.StatusGone, errorBody{Error: fmt.Sprintf("changed_after: the notices of records purged since have expired (they are kept %d days): "+
			"read the feed in full again from changed_after=0 and replace your copy with what it gives", int(store.PurgeNoticeKeep.Hours()/24))})
		return
	}
	if err != nil {
		d.Logger.Error("call changes", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	writeJSON(w, http.StatusOK, changesBody{Calls: callsInJapan(page.Calls), Purged: page.Purged, Next: page.Next.String(), More: page.More})
}

func (d Deps) listCalls(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("changed_after") {
		d.callChanges(w, r)
		return
	}
	f, err := CallFilterFromQuery(r.URL.Query())
	if err == nil {
		err = knownParams(r.URL.Query(), "client", "from", "to", "limit", "format")
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	if q := r.URL.Query(); q.Get("format") == "csv" && !q.Has("limit") {
		// An export is the whole range (from the first call without a
		// from, to now without a to), not its first 1000: a browser's
		// download shows no X-More-Calls, and a client's or a
		// supervisor's count of its rows would be silently short.
		f.Limit = 0
		d.exportCalls(w, f)
		return
	}
	limit := f.Limit
	if limit > 0 {
		f.Limit++ // one more says whether there is more
	}
	calls, err := d.Calls.ListCalls(f)
	if err != nil {
		d.Logger.Error("list calls", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	if calls == nil {
		calls = []store.CallRecord{}
	}
	more := limit > 0 && len(calls) > limit
	if more {
		calls = calls[:limit]
	}
	if r.URL.Query().Get("format") == "csv" {
		if more {
			w.Header().Set("X-More-Calls", "true") // the file is cut at the limit
		}
		writeCSV(w, d.Logger, "calls.csv", func(w io.Writer) error { return report.WriteCallsCSV(w, calls) })
		return
	}
	writeJSON(w, http.StatusOK, callsBody{Calls: callsInJapan(calls), More: more})
}

// callsInJapan is calls with their times in Japan time (+09:00), as the
// CSV export and the webhooks have them: a record keeps the offset of the
// machine's zone when it was made (UTC in a container), and a reader
// taking the month from started_at put a call of December's first hours
// in November, where the monthly counts have it in December.
func callsInJapan(calls []store.CallRecord) []store.CallRecord {
	for i := range calls {
		calls[i] = calls[i].InJapan()
	}
	return calls
}

// exportPage is how many call records an export reads at a time.
const exportPage = 1000

// exportCalls sends every call of f as CSV, written as it is read, a page
// at a time: a year of calls is never held whole (a failure half way
// aborts the download, as writeCSV does).
func (d Deps) exportCalls(w http.ResponseWriter, f store.CallFilter) {
	writeCSV(w, d.Logger, "calls.csv", func(w io.Writer) error {
		cw, err := report.NewCallsCSV(w)
		if err != nil {
			return err
		}
		return d.Calls.EachCallPage(f, exportPage, func(calls []store.CallRecord) error { return cw.Write(calls) })
	})
}

// writeCSV sends a CSV made by write, as a download named name. A failure
// once the answer has begun aborts it: the client sees a broken download,
// not a short file it might take for the whole.
func writeCSV(w http.ResponseWriter, log *slog.Logger, name string, write func(io.Writer) error) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := write(w); err != nil {
		log.Error("writing a CSV failed", "file", name, "error", err)
		panic(http.ErrAbortHandler)
	}
}
