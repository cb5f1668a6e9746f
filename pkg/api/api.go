// Package api serves toritsugi's HTTP API: health for monitoring and the
// JSON resources under /api/v1/ that the console and integrations use.
package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay"
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
	// or changed, and notices of those purged, after a cursor, in the
	// order written).
	CallChanges(cur store.ChangeCursor, clientID string, limit int) (store.ChangesPage, error)
	// MonthlyCounts are a client's exact call counts for one month.
	MonthlyCounts(clientID string, month time.Time) (store.Counts, error)
	// Callbacks lists callback requests in a state ("" = all).
	Callbacks(state string) ([]store.Callback, error)
	// CallerData reads what the store holds of a number (E.164), and
	// ForgetCaller erases it (their messages, callback requests, and
	// their number in their calls' records).
	CallerData(e164 string) (store.CallerData, error)
	ForgetCaller(e164 string, deletedRecordings []string) (store.CallerData, error)
	// ErasedRecordingsLeft lists the recordings erasures could not delete
	// (name → call), and RecordingDeleted notes one deleted since.
	ErasedRecordingsLeft() (map[string]string, error)
	RecordingDeleted(callID, name string, note store.CallEvent) error
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
	// UnreadablePage lists the entries set aside unreadable, and
	// DiscardUnreadable deletes one (the service's token only: their
	// client cannot be read).
	UnreadablePage(after relay.Position, n int) ([]relay.Unreadable, bool, error)
	DiscardUnreadable(id string) error
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
	// dismissed), and /unreadable/discard (an entry set aside unreadable
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
	// ConfigReloadFailed, when set, reports the configuration reload
	// refused since the last good one (config.Store.Failed): the
	// service runs on the configuration before it, and the file on disk
	// would fail the next start. /healthz says so until a good reload.
	ConfigReloadFailed func() (ReloadFailure, bool)
	Logger             *slog.Logger
}

// ReloadFailure is a refused configuration reload: the file, when the
// first reload since the last good one was refused, and how many
// problems the last one found.
type ReloadFailure struct {
	File     string
	Since    time.Time
	Problems int
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
			route{"POST /api/v1/relay/discard", serviceOnly, d.relayDiscard},
			route{"POST /api/v1/relay/unreadable/discard", serviceOnly, d.relayDiscardUnreadable})
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
	// Config is there while a configuration reload is refused (no
	// problem's text: /healthz answers anyone).
	Config *configHealth `json:"config,omitempty"`
}

type configHealth struct {
	Reload   string    `json:"reload"` // "failed"
	Since    time.Time `json:"since"`
	Problems int       `json:"problems"`
	File     string    `json:"file"`
}

type relayHealth struct {
	Pending int `json:"pending"`
	// OldestPendingS is how long the oldest pending message has waited.
	OldestPendingS int64 `json:"oldest_pending_s"`
	Dead           int   `json:"dead"`
	// Unreadable counts the entries set aside at start because they did
	// not decode (never sent): shown only when there are some.
	Unreadable int `json:"unreadable,omitempty"`
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
	if d.ConfigReloadFailed != nil {
		if f, failed := d.ConfigReloadFailed(); failed {
			// Degraded, not a 503: calls go on with the configuration
			// before the refused one, and a probe that restarted the
			// service on it would have the refused file fail the start.
			b.Status = "degraded"
			b.Config = &configHealth{Reload: "failed", Since: f.Since, Problems: f.Problems, File: f.File}
		}
	}
	if d.Outbox != nil {
		if st, err := d.Outbox.Stats(); err != nil {
			d.Logger.Error("health: relay stats failed", "error", err)
		} else {
			b.Relay = &relayHealth{Pending: st.Pending, Dead: st.Dead, Unreadable: st.Unreadable}
			if !st.OldestPending.IsZero() {
				// Never negative: queued while the clock ran ahead.
				b.Relay.OldestPendingS = max(0, int64(time.Since(st.OldestPending)/time.Second))
			}
		}
	}
	writeJSON(w, code, b)
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

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
