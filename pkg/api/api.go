// Package api serves toritsugi's HTTP API: health for monitoring and the
// JSON resources under /api/v1/ that the console and integrations use.
package api

import (
	"cmp"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"
	"github.com/toritsugi/toritsugi/pkg/phone"

	"github.com/toritsugi/toritsugi/pkg/relay"
	"github.com/toritsugi/toritsugi/pkg/report"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Calls is the part of the store the API reads.
type Calls interface {
	ListCalls(store.CallFilter) ([]store.CallRecord, error)
	// EachCallPage reads the calls of a filter a page at a time.
	EachCallPage(f store.CallFilter, page int, fn func([]store.CallRecord) error) error
	Ping() error
	// CompactTo writes a compacted copy of the store to the file at
	// path (no deleted data in its free pages), the calls in progress
	// left out, and says how many.
	CompactTo(path string) (size int64, liveLeftOut int, err error)
	// Size is how many bytes a backup would take now.
	Size() (int64, error)
	// CallChanges reads the change feed of call records (records stored
	// or changed after a number, in the order written).
	CallChanges(after uint64, clientID string, limit int) ([]store.CallRecord, uint64, bool, error)
	// MonthlyCounts are a client's exact call counts for one month.
	MonthlyCounts(clientID string, month time.Time) (store.Counts, error)
	// Callbacks lists callback requests in a state ("" = all).
	Callbacks(state string) ([]store.Callback, error)
	// CallerData reads what the store holds of a number (E.164), and
	// ForgetCaller erases it (their messages, callback requests, and
	// their number in their calls' records).
	CallerData(e164 string) (store.CallerData, error)
	ForgetCaller(e164 string, deletedRecordings []string) (store.CallerData, error)
	// BeginErasure holds off, until end, every save and relay of the
	// number's messages: what the erasure reads first must be all there
	// is to erase.
	BeginErasure(e164 string) (end func())
}

// Outbox is the relay outbox as the API shows it.
type Outbox interface {
	Page(f relay.Filter, after relay.Position, n int) ([]relay.Entry, bool, error)
	Retry(id string) error
	Discard(id string) error
	Stats() (relay.Stats, error)
	List(f relay.Filter) ([]relay.Entry, error)
	Forget(messageIDs []string) (int, error)
}

// Deps are the API's collaborators.
type Deps struct {
	Calls Calls
	// LinkUp reports whether the ARI event link is connected.
	LinkUp func() bool
	// BackupDir is where a backup is copied before it is sent (the data
	// directory: the system's temporary directory may be small or in
	// memory); "" means os.TempDir().
	BackupDir string
	// FreeSpace reports the bytes still free in dir's file system (a
	// test's); nil means the system's answer.
	FreeSpace func(dir string) (uint64, bool)
	// DeleteRecording, when set, deletes a stored recording from
	// Asterisk (a caller's calls' recordings, erased on request); one
	// Asterisk no longer has is deleted.
	DeleteRecording func(name string) error
	// OnForget, when set, is told the number (E.164) of a caller just
	// erased, for what holds it outside the store (the console's screen
	// pops).
	OnForget func(e164 string)
	// Outbox, when set, enables GET /api/v1/relay and POST
	// /api/v1/relay/retry and /discard (dead letters visible, retried or
	// dismissed).
	Outbox Outbox
	// Token must be presented as "Authorization: Bearer <token>" on every
	// /api/v1/ request here (/healthz stays open for monitoring). Without
	// a token the data API is off: it would otherwise hand out callers'
	// data and the whole database to anyone reaching the console's port.
	// Read per request, so a config reload applies at once.
	Token func() string
	// ClientTokens, when set, returns the clients' own tokens (token →
	// client id; config.Client.APIToken), read per request. A client's
	// token reads that client's data only (routes' access).
	ClientTokens func() map[string]string
	// FallbackFailing, when set, reports whether the fallback log
	// (the calls Asterisk refused while toritsugi was down) cannot be
	// read: /healthz says so.
	FallbackFailing func() bool
	Logger          *slog.Logger
}

// logCut cuts what a request names to 200 bytes for the log: anyone can
// send a path of half a megabyte, and the log shares the database's disk.
func logCut(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…(cut)"
}

// MaxCalls caps one page of GET /api/v1/calls.
const MaxCalls = 1000

// NewHandler returns the API's routes.
func NewHandler(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", d.health)
	removeBackupLeftovers(d.backupDir(), d.Logger)
	for _, rt := range d.routes() {
		mux.HandleFunc(rt.pattern, d.authorized(rt.access, rt.h))
	}
	return jsonMisses(mux)
}

// access says which tokens a route takes.
type access int

const (
	// serviceOnly: the service's token (http.api_token) only: what
	// concerns every client (backup, erasure, operators, the relay's
	// dead letters handled).
	serviceOnly access = iota
	// byClientParam: a client's token too, its `client` parameter then
	// its own (set when missing; another client's is refused).
	byClientParam
	// byClientPath: a client's token too, for its own {id} only.
	byClientPath
)

// route is one data API route and who may use it.
type route struct {
	pattern string
	access  access
	h       http.HandlerFunc
}

// routes lists every data API route (/healthz aside, open to all).
func (d Deps) routes() []route {
	rs := []route{
		{"GET /api/v1/calls", byClientParam, d.listCalls},
		{"GET /api/v1/backup", serviceOnly, d.oneAtATime(d.backup)},
		{"GET /api/v1/clients/{id}/counts", byClientPath, d.counts},
		{"GET /api/v1/reports/clients", byClientParam, d.reportClients},
		{"GET /api/v1/reports/operators", serviceOnly, d.reportOperators},
		{"GET /api/v1/callbacks", byClientParam, d.callbacks},
		{"POST /api/v1/callers/forget", serviceOnly, d.forgetCaller},
	}
	if d.Outbox != nil {
		rs = append(rs,
			route{"GET /api/v1/relay", byClientParam, d.relayList},
			route{"POST /api/v1/relay/retry", serviceOnly, d.relayRetry},
			route{"POST /api/v1/relay/discard", serviceOnly, d.relayDiscard})
	}
	return rs
}

// jsonMisses answers what mux has no route for (404) or no route for with
// that method (405, with its Allow header) as every handler answers an
// error, {"error": ...} in JSON, not the router's plain text.
func jsonMisses(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &missRecorder{header: http.Header{}, code: http.StatusNotFound}
		h.ServeHTTP(rec, r)
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		msg := "no such API path: " + logCut(r.URL.Path)
		if rec.code == http.StatusMethodNotAllowed {
			msg = r.Method + " is not allowed here (" + rec.header.Get("Allow") + ")"
		}
		writeJSON(w, rec.code, errorBody{Error: msg})
	})
}

// missRecorder keeps the status and headers the router's own 404 or 405
// would have written, and drops its text.
type missRecorder struct {
	header http.Header
	code   int
}

func (m *missRecorder) Header() http.Header         { return m.header }
func (m *missRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (m *missRecorder) WriteHeader(code int)        { m.code = code }

type healthBody struct {
	Status string `json:"status"`
	ARI    string `json:"ari"`
	Store  string `json:"store"`
	Error  string `json:"error,omitempty"`
	// Relay is the outbox, for monitoring (numbers only: no caller data
	// without a token). A backlog does not make the service unhealthy:
	// alert on it.
	Relay *relayHealth `json:"relay,omitempty"`
	// FallbackLog is "unreadable" when the fallback log cannot be read:
	// the calls Asterisk refused while toritsugi was down are not
	// recorded nor relayed as missed calls (alert on it).
	FallbackLog string `json:"fallback_log,omitempty"`
}

type relayHealth struct {
	Pending int `json:"pending"`
	// OldestPendingS is how long the oldest pending message has waited.
	OldestPendingS int64 `json:"oldest_pending_s"`
	Dead           int   `json:"dead"`
}

func (d Deps) health(w http.ResponseWriter, r *http.Request) {
	b := healthBody{Status: "ok", ARI: "up", Store: "ok"}
	code := http.StatusOK
	if d.LinkUp == nil || !d.LinkUp() {
		b.Status, b.ARI, code = "degraded", "down", http.StatusServiceUnavailable
	}
	if err := d.Calls.Ping(); err != nil {
		// The detail goes to the log, not to whoever asks (no login here).
		d.Logger.Error("health: store ping failed", "error", err)
		b.Status, b.Store, code = "degraded", "error", http.StatusServiceUnavailable
	}
	if d.FallbackFailing != nil && d.FallbackFailing() {
		// Not a 503: calls go on; but the refused ones are not recorded.
		b.FallbackLog = "unreadable"
	}
	if d.Outbox != nil {
		if st, err := d.Outbox.Stats(); err != nil {
			d.Logger.Error("health: relay stats failed", "error", err)
		} else {
			b.Relay = &relayHealth{Pending: st.Pending, Dead: st.Dead}
			if !st.OldestPending.IsZero() {
				// Never negative: queued while the clock ran ahead.
				b.Relay.OldestPendingS = max(0, int64(time.Since(st.OldestPending)/time.Second))
			}
		}
	}
	writeJSON(w, code, b)
}

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
	// Next is the changed_after of the next request; More: ask again now.
	Next string `json:"next"`
	More bool   `json:"more"`
}

// callChanges answers GET /api/v1/calls?changed_after=N: the records
// stored or changed after number N of the feed (0: from the first), in the
// order written, at most limit, of one client with client=.
func (d Deps) callChanges(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "changed_after" && k != "client" && k != "limit" {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: k + ": not with changed_after (client, limit)"})
			return
		}
	}
	after, err := strconv.ParseUint(q.Get("changed_after"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "changed_after: want the next of the last page, or 0 for the first"})
		return
	}
	limit := MaxCalls
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > MaxCalls {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: fmt.Sprintf("limit: want a whole number from 1 to %d", MaxCalls)})
			return
		}
	}
	calls, next, more, err := d.Calls.CallChanges(after, q.Get("client"), limit)
	if err != nil {
		d.Logger.Error("call changes", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	writeJSON(w, http.StatusOK, changesBody{Calls: callsInJapan(calls), Next: strconv.FormatUint(next, 10), More: more})
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

// knownParams refuses a query with a parameter not among allowed: a
// misspelt one (clinet=acme) must not widen a list silently to every
// client's.
func knownParams(q url.Values, allowed ...string) error {
	for k := range q {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%s: unknown parameter (%s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// monthOf reads ?month=YYYY-MM (Japan time; default the current month)
// and returns its first instant and the next month's.
func monthOf(r *http.Request, params ...string) (from, to time.Time, err error) {
	if err := knownParams(r.URL.Query(), append([]string{"month", "format"}, params...)...); err != nil {
		return time.Time{}, time.Time{}, err
	}
	month := time.Now().In(tokyo)
	if s := r.URL.Query().Get("month"); s != "" {
		if month, err = time.ParseInLocation("2006-01", s, tokyo); err != nil || month.Year() < 2000 || month.Year() > 2199 {
			return time.Time{}, time.Time{}, errors.New("month: want YYYY-MM from 2000-01 to 2199-12, e.g. 2026-11")
		}
	}
	from = time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, tokyo)
	return from, from.AddDate(0, 1, 0), nil
}

// monthReport sums up the month's calls (all of them: a month of a busy
// desk is some tens of thousands of records).
func (d Deps) monthReport(w http.ResponseWriter, r *http.Request, params ...string) ([]report.Client, []report.Operator, string, bool) {
	from, to, err := monthOf(r, params...)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return nil, nil, "", false
	}
	var t report.Tally
	err = d.Calls.EachCallPage(store.CallFilter{From: from, To: to, ClientID: r.URL.Query().Get("client")}, exportPage, func(calls []store.CallRecord) error {
		t.Add(calls)
		return nil
	})
	if err != nil {
		d.Logger.Error("report", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return nil, nil, "", false
	}
	clients, ops := t.Result()
	return clients, ops, from.Format("2006-01"), true
}

// reportClients: GET /api/v1/reports/clients?month=2026-11[&client=ID][&format=csv],
// each client's month (or one client's): calls, billable, answered (in
// 20 s), abandoned, waits.
func (d Deps) reportClients(w http.ResponseWriter, r *http.Request) {
	clients, _, month, ok := d.monthReport(w, r, "client")
	if !ok {
		return
	}
	if id := r.URL.Query().Get("client"); id != "" {
		clients = slices.DeleteFunc(clients, func(c report.Client) bool { return c.ClientID != id })
	}
	if r.URL.Query().Get("format") == "csv" {
		writeCSV(w, d.Logger, "toritsugi-clients-"+month+".csv", func(w io.Writer) error { return report.WriteClientsCSV(w, month, clients) })
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": month, "clients": clients})
}

// reportOperators: GET /api/v1/reports/operators?month=2026-11[&format=csv],
// each operator's month: calls handled, talk time.
func (d Deps) reportOperators(w http.ResponseWriter, r *http.Request) {
	_, ops, month, ok := d.monthReport(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("format") == "csv" {
		writeCSV(w, d.Logger, "toritsugi-operators-"+month+".csv", func(w io.Writer) error { return report.WriteOperatorsCSV(w, month, ops) })
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": month, "operators": ops})
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// backup sends a consistent copy of the bbolt file while calls go on. It
// copies the database to a temporary file first, in one short read
// transaction, and then sends that file with its length: streaming the
// copy straight to a slow or stalled client would hold the read
// transaction open for as long, and bbolt's writers (every call record)
// wait for it whenever the file must grow.
func (d Deps) backup(w http.ResponseWriter, r *http.Request) {
	if size, err := d.Calls.Size(); err == nil {
		free := d.FreeSpace
		if free == nil {
			free = freeBytes
		}
		if avail, ok := free(d.backupDir()); ok && avail < uint64(size)+backupReserve {
			need := uint64(size) + backupReserve
			d.Logger.Error("backup refused: not enough free space for its copy", "dir", d.backupDir(), "free", avail, "needed", need)
			writeJSON(w, http.StatusInsufficientStorage, errorBody{Error: fmt.Sprintf(
				"not enough free space in %s for the backup's copy: %d bytes free, %d needed (the database, %d bytes, and %d kept free for the calls' records)",
				d.backupDir(), avail, need, size, backupReserve)})
			return
		}
	}
	f, err := os.CreateTemp(d.backupDir(), backupPattern)
	if err != nil {
		d.Logger.Error("backup failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "backup failed"})
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	// The calls in progress are not history (restored, their states
	// would be recorded as missed calls and relayed): left out.
	n, live, err := d.Calls.CompactTo(f.Name())
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		d.Logger.Error("backup failed", "error", err, "bytes", n)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "backup failed"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="toritsugi-`+time.Now().UTC().Format("20060102T150405Z")+`.db"`)
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	if sent, err := io.Copy(w, f); err != nil {
		// Abort the response: the client sees a broken transfer, not a
		// short file it might take for the whole copy.
		d.Logger.Error("sending the backup failed", "error", err, "bytes", sent, "of", n)
		panic(http.ErrAbortHandler)
	}
	d.Logger.Info("backup served", "bytes", n, "live_calls_left_out", live)
}

// backupReserve is the space a backup's copy must leave free in the data
// directory's file system: calls' records, states and messages go on being
// written there, and a copy that took the last of it would make them fail.
const backupReserve = 64 << 20

// backupPattern names the copies a backup makes before sending them.
const backupPattern = ".toritsugi-backup-*.db"

func (d Deps) backupDir() string {
	if d.BackupDir == "" {
		return os.TempDir()
	}
	return d.BackupDir
}

// oneAtATime runs h for one request at a time and answers 429 to others:
// each backup copies the whole database to the data directory's disk,
// and a few at once could fill it (and stop calls being recorded).
func (d Deps) oneAtATime(h http.HandlerFunc) http.HandlerFunc {
	slot := make(chan struct{}, 1)
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case slot <- struct{}{}:
			defer func() { <-slot }()
			h(w, r)
		default:
			w.Header().Set("Retry-After", "60")
			writeJSON(w, http.StatusTooManyRequests, errorBody{Error: "a backup is being made: try again when it is done"})
		}
	}
}

// removeBackupLeftovers deletes the copies of backups a stopped process
// left behind (a copy is removed once sent, unless the process dies).
func removeBackupLeftovers(dir string, log *slog.Logger) {
	old, _ := filepath.Glob(filepath.Join(dir, backupPattern))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			log.Warn("a backup copy left behind could not be removed", "file", f, "error", err)
			continue
		}
		log.Info("a backup copy left behind was removed", "file", f)
	}
}

// tokyo is Japan Standard Time (no daylight saving since 1951).
var tokyo = japan.Zone

type countsBody struct {
	Client      string         `json:"client"`
	Month       string         `json:"month"`
	Total       int            `json:"total"`
	Billable    int            `json:"billable"`
	NonBillable int            `json:"non_billable"`
	ByResult    map[string]int `json:"by_result"`
}

// counts serves a client's monthly counts: ?month=2026-11 (Japan time;
// default the current month).
func (d Deps) counts(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	month, _, err := monthOf(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	c, err := d.Calls.MonthlyCounts(id, month)
	if err != nil {
		d.Logger.Error("monthly counts", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	body := countsBody{Client: id, Month: month.Format("2006-01"), Total: c.Total, Billable: c.Billable, NonBillable: c.NonBillable, ByResult: map[string]int{}}
	for k, v := range c.ByResult {
		body.ByResult[string(k)] = v
	}
	writeJSON(w, http.StatusOK, body)
}

type callbacksBody struct {
	Callbacks []store.Callback `json:"callbacks"`
}

// callbacks lists callback requests: ?state=pending|done (default all),
// &client=ID (default every client's). Another parameter is a 400: one
// misspelt must not widen the list silently.
func (d Deps) callbacks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := knownParams(q, "state", "client"); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	state := q.Get("state")
	if state != "" && state != store.CallbackPending && state != store.CallbackDone {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "state: want pending or done"})
		return
	}
	cbs, err := d.Calls.Callbacks(state)
	if err != nil {
		d.Logger.Error("list callbacks", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	if client := q.Get("client"); client != "" {
		cbs = slices.DeleteFunc(cbs, func(c store.Callback) bool { return c.ClientID != client })
	}
	if cbs == nil {
		cbs = []store.Callback{}
	}
	for i := range cbs {
		cbs[i] = cbs[i].InJapan()
	}
	writeJSON(w, http.StatusOK, callbacksBody{Callbacks: cbs})
}

// authorized requires a bearer token: the service's (http.api_token),
// which reads every client's data, or, where the route's access allows,
// a client's own (clients[].api_token), whose requests are kept to that
// client's data. With no token configured the data API is off.
func (d Deps) authorized(a access, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		service := ""
		if d.Token != nil {
			service = d.Token()
		}
		var clients map[string]string
		if d.ClientTokens != nil {
			clients = d.ClientTokens()
		}
		if service == "" && len(clients) == 0 {
			d.Logger.Warn("data API: refused, no http.api_token is set", "method", r.Method, "path", logCut(r.URL.Path), "remote", r.RemoteAddr)
			writeJSON(w, http.StatusForbidden, errorBody{Error: "the data API is off: set http.api_token (or TORITSUGI_HTTP_API_TOKEN)"})
			return
		}
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		bearer := strings.EqualFold(scheme, "Bearer") && got != ""
		all := bearer && service != "" && subtle.ConstantTimeCompare([]byte(got), []byte(service)) == 1
		client := ""
		if bearer && !all {
			for tok, id := range clients { // every one compared: the time says nothing of which
				if subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1 {
					client = id
				}
			}
		}
		if !all && client == "" {
			d.Logger.Warn("data API: refused, no valid token", "method", r.Method, "path", logCut(r.URL.Path), "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="toritsugi"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "a valid API token is required"})
			return
		}
		if client != "" && !d.keptToClient(w, r, a, client) {
			return
		}
		// Who read callers' data, and how much of it: every request is
		// logged (the query names the client and the period), with the
		// client whose token it was.
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			d.Logger.Info("data API", "method", r.Method, "path", logCut(r.URL.Path), "query", logCut(maskedQuery(r.URL.Query())),
				"remote", r.RemoteAddr, "token", cmp.Or(client, "service"), "status", cw.status, "bytes", cw.bytes)
		}()
		h(cw, r)
	}
}

// keptToClient keeps a request made with client's own token to that
// client's data, as the route's access says: its `client` parameter set
// to client (another client's refused), its {id} client's; a route of the
// service's only is refused. It writes the refusal itself.
func (d Deps) keptToClient(w http.ResponseWriter, r *http.Request, a access, client string) bool {
	refuse := func(why string) bool {
		d.Logger.Warn("data API: refused, "+why, "method", r.Method, "path", logCut(r.URL.Path), "token", client, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusForbidden, errorBody{Error: why})
		return false
	}
	switch a {
	case byClientParam:
		q := r.URL.Query()
		if asked := q.Get("client"); asked != "" && (asked != client || len(q["client"]) > 1) {
			return refuse("this token reads client " + client + "'s data only")
		}
		q.Set("client", client)
		r.URL.RawQuery = q.Encode()
		return true
	case byClientPath:
		if r.PathValue("id") != client {
			return refuse("this token reads client " + client + "'s data only")
		}
		return true
	}
	return refuse("a client's token cannot do this: it needs http.api_token")
}

// maskedQuery is a request's query for the log, a caller's number in it
// masked (number=*******5678): the log says who asked about whom without
// keeping the number.
func maskedQuery(q url.Values) string {
	if n, ok := q["number"]; ok {
		q, n = maps.Clone(q), slices.Clone(n)
		for i := range n {
			n[i] = phone.Masked(n[i])
		}
		q["number"] = n
	}
	return q.Encode()
}

// countingWriter remembers a response's status and counts its bytes.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (c *countingWriter) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

type relayBody struct {
	Entries []relay.Entry `json:"entries"`
	// Truncated: more entries come after these; Next asks for them.
	Truncated bool   `json:"truncated,omitempty"`
	Next      string `json:"next,omitempty"`
}

// relayList lists outbox entries: ?state=pending|delivered|dead&client=ID
// (default: dead letters, the ones that need a person), oldest first, at
// most MaxCalls a page; &after=<next> gives the page after.
func (d Deps) relayList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := knownParams(q, "state", "client", "after"); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	f := relay.Filter{State: relay.StateDead, ClientID: q.Get("client")}
	var after relay.Position
	if tok := q.Get("after"); tok != "" {
		var err error
		if after, err = parseRelayCursor(tok); err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "after: not a \"next\" value this API gave"})
			return
		}
	}
	switch st := q.Get("state"); st {
	case "":
	case string(relay.StatePending), string(relay.StateDelivered), string(relay.StateDead), string(relay.StateDiscarded):
		f.State = relay.State(st)
	default:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "state: want pending, delivered, dead or discarded"})
		return
	}
	entries, more, err := d.Outbox.Page(f, after, MaxCalls)
	if err != nil {
		d.Logger.Error("list relay entries", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	if entries == nil {
		entries = []relay.Entry{}
	}
	body := relayBody{Entries: entries, Truncated: more}
	if more {
		body.Next = relayCursor(relay.PositionOf(entries[len(entries)-1]))
	}
	for i := range entries {
		entries[i] = entries[i].InJapan()
	}
	writeJSON(w, http.StatusOK, body)
}

// relayCursor encodes a page's last position for the next request's
// after=: Unix nanoseconds, a space, the entry id, in URL-safe base64 (ids
// hold slashes and any character a destination name has).
func relayCursor(p relay.Position) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d %s", p.EnqueuedAt.UnixNano(), p.ID))
}

// parseRelayCursor reads what relayCursor wrote.
func parseRelayCursor(tok string) (relay.Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return relay.Position{}, fmt.Errorf("relay cursor: %w", err)
	}
	ns, id, ok := strings.Cut(string(b), " ")
	if !ok || id == "" {
		return relay.Position{}, errors.New("relay cursor: no entry id")
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return relay.Position{}, fmt.Errorf("relay cursor: %w", err)
	}
	return relay.Position{EnqueuedAt: time.Unix(0, n), ID: id}, nil
}

// relayRetry puts a dead letter back in the queue: ?id=<message id>/<destination>.
func (d Deps) relayRetry(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "id: the entry's id (message id/destination) is required"})
		return
	}
	if err := d.Outbox.Retry(id); err != nil {
		if errors.Is(err, relay.ErrNotFound) {
			writeJSON(w, http.StatusNotFound, errorBody{Error: "no dead letter with this id"})
			return
		}
		if errors.Is(err, relay.ErrSuperseded) {
			writeJSON(w, http.StatusConflict, errorBody{Error: err.Error() + ": the client has the correction; retry the latest version, and discard this one"})
			return
		}
		d.Logger.Error("retry relay entry", "error", err, "id", id)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	d.Logger.Info("dead letter queued again", "id", id)
	writeJSON(w, http.StatusOK, struct {
		Retried string `json:"retried"`
	}{id})
}

// relayDiscard: POST /api/v1/relay/discard?id=… dismisses a dead letter
// that will never be sent (obsolete, its destination gone): relay.dead in
// /healthz goes down, and the entry is listed as discarded until purged.
func (d Deps) relayDiscard(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "id: the entry's id (message id/destination) is required"})
		return
	}
	if err := d.Outbox.Discard(id); err != nil {
		if errors.Is(err, relay.ErrNotFound) {
			writeJSON(w, http.StatusNotFound, errorBody{Error: "no dead letter with this id"})
			return
		}
		d.Logger.Error("discard relay entry", "error", err, "id", id)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	d.Logger.Info("dead letter discarded", "id", id)
	writeJSON(w, http.StatusOK, struct {
		Discarded string `json:"discarded"`
	}{id})
}

// messageIDs are the relay's message ids of what d holds of a caller:
// every version of their messages, and their calls' notices.
func messageIDs(d store.CallerData) []string {
	var ids []string
	for id, v := range d.Intakes {
		for i := 1; i <= v; i++ {
			ids = append(ids, relay.IntakeMessageID(id, i))
		}
	}
	for _, c := range d.Calls {
		ids = append(ids, relay.NoticeMessageID(c, relay.KindMissedCall), relay.NoticeMessageID(c, relay.KindVoicemail))
	}
	return ids
}

// forgotten is what POST /api/v1/callers/forget erased, and where copies
// went that toritsugi cannot erase.
type forgotten struct {
	Number       string `json:"number"`
	Messages     int    `json:"messages"`
	Calls        int    `json:"calls"`
	Callbacks    int    `json:"callbacks"`
	RelayEntries int    `json:"relay_entries"`
	// SentTo are the destinations the erased messages and notices were
	// delivered to: the copies there are the clients' to erase.
	SentTo []string `json:"sent_to"`
	// MaybeSentTo had a copy on its way (pending): its send may have been
	// under way as it was erased.
	MaybeSentTo []string `json:"maybe_sent_to"`
	// Recordings are those of the caller's calls deleted from Asterisk;
	// RecordingsLeft those it could not delete (or none deletes: no
	// Asterisk link), still named by their records and deleted by the
	// recording retention, or by hand.
	Recordings     []string `json:"recordings"`
	RecordingsLeft []string `json:"recordings_left"`
}

// forgetCaller: POST /api/v1/callers/forget?number=N erases a caller on
// their request (個人情報の消去請求): the relay outbox's copies of their
// messages and notices first (saying which destinations had them
// delivered: the clients' to erase), then their calls' recordings in
// Asterisk, then in the store their messages with every version, their
// callback requests, and their number in their calls' records (kept,
// blanked, for billing). Their number in any spelling (03-1234-5678,
// 0312345678, +81312345678), found in any spelling it was stored in. An
// erasure cut short (a 500) is finished by asking again.
func (d Deps) forgetCaller(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := knownParams(q, "number"); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	cid := phone.ParseCallerID(q.Get("number"))
	if cid.Kind != phone.Number {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "number: a caller's phone number (03-1234-5678, +81312345678)"})
		return
	}
	masked := phone.Masked(cid.E164)
	defer d.Calls.BeginErasure(cid.E164)()
	partly := func(what string, err error) {
		d.Logger.Error("forget caller: "+what, "number", masked, "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: what + " failed: erased in part; ask again to finish"})
	}
	found, err := d.Calls.CallerData(cid.E164)
	if err != nil {
		partly("reading the store", err)
		return
	}
	if len(found.Live) > 0 {
		// Their call's record is written, with the number, when it ends.
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusConflict, errorBody{Error: "the caller is on a call now: ask again when it has ended"})
		return
	}
	out := forgotten{Number: cid.Display(), SentTo: []string{}, MaybeSentTo: []string{}, Recordings: []string{}, RecordingsLeft: []string{}}
	if d.Outbox != nil {
		ids := messageIDs(found)
		sent, maybe := map[string]bool{}, map[string]bool{}
		for _, id := range ids {
			es, err := d.Outbox.List(relay.Filter{MessageID: id})
			if err != nil {
				partly("reading the relay outbox", err)
				return
			}
			for _, e := range es {
				switch e.State {
				case relay.StateDelivered:
					sent[e.Destination] = true
				case relay.StatePending:
					// Its send may be on its way as it is erased.
					maybe[e.Destination] = true
				}
			}
		}
		if out.RelayEntries, err = d.Outbox.Forget(ids); err != nil {
			partly("erasing the relay outbox's copies", err)
			return
		}
		for dest := range sent {
			out.SentTo = append(out.SentTo, dest)
		}
		for dest := range maybe {
			if !sent[dest] {
				out.MaybeSentTo = append(out.MaybeSentTo, dest)
			}
		}
		slices.Sort(out.SentTo)
		slices.Sort(out.MaybeSentTo)
	}
	for _, name := range found.Recordings {
		if d.DeleteRecording != nil && d.DeleteRecording(name) == nil {
			out.Recordings = append(out.Recordings, name)
		} else {
			out.RecordingsLeft = append(out.RecordingsLeft, name)
		}
	}
	f, err := d.Calls.ForgetCaller(cid.E164, out.Recordings)
	out.Messages, out.Calls, out.Callbacks = len(f.Intakes), len(f.Calls), len(f.Callbacks)
	if err != nil {
		partly("erasing the store's data", err)
		return
	}
	// What was stored for them meanwhile (a message saved, a call ended,
	// while the copies and recordings went): its copies go too, and its
	// recordings, named still, are said left.
	if d.Outbox != nil {
		n, err := d.Outbox.Forget(messageIDs(f))
		out.RelayEntries += n
		if err != nil {
			partly("erasing the relay outbox's copies", err)
			return
		}
	}
	for _, name := range f.RecordingsKept {
		if !slices.Contains(out.RecordingsLeft, name) {
			out.RecordingsLeft = append(out.RecordingsLeft, name)
		}
	}
	d.Logger.Info("caller erased on request", "number", masked, "messages", out.Messages, "calls", out.Calls,
		"callbacks", out.Callbacks, "relay_entries", out.RelayEntries, "recordings", len(out.Recordings), "recordings_left", len(out.RecordingsLeft))
	if d.OnForget != nil {
		d.OnForget(cid.E164)
	}
	writeJSON(w, http.StatusOK, out)
}
