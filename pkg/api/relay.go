package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"
	"github.com/toritsugi/toritsugi/pkg/relay"
)

type relayBody struct {
	Entries []relay.Entry `json:"entries"`
	// Truncated: more entries come after these; Next asks for them.
	Truncated bool   `json:"truncated,omitempty"`
	Next      string `json:"next,omitempty"`
}

// relayList lists outbox entries: ?state=pending|delivered|dead|discarded
// &client=ID (default: dead letters, the ones that need a person), oldest
// first, at most MaxCalls a page; &after=<next> gives the page after.
// ?state=unreadable lists the entries set aside unreadable instead
// (relayListUnreadable).
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
	case stateUnreadable:
		d.relayListUnreadable(w, r, after)
		return
	default:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "state: want pending, delivered, dead, discarded or unreadable"})
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
// after=: its time as Unix seconds and nanoseconds ("s:ns"), a space, the
// entry id, in URL-safe base64 (ids hold slashes and any character a
// destination name has). Seconds, not nanoseconds alone, so that any time
// reads back: an entry set aside whose record does not decode has the
// zero time, whose Unix nanoseconds overflow int64 (to a time in 1754),
// and a cursor after it skipped every other such entry.
func relayCursor(p relay.Position) string {
	t := p.EnqueuedAt
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%d %s", t.Unix(), t.Nanosecond(), p.ID))
}

// parseRelayCursor reads what relayCursor wrote, or a cursor of the
// earlier form (Unix nanoseconds, a space, the id) given before an
// upgrade.
func parseRelayCursor(tok string) (relay.Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return relay.Position{}, fmt.Errorf("relay cursor: %w", err)
	}
	at, id, ok := strings.Cut(string(b), " ")
	if !ok || id == "" {
		return relay.Position{}, errors.New("relay cursor: no entry id")
	}
	secs, nanos, ok := strings.Cut(at, ":")
	if !ok {
		n, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			return relay.Position{}, fmt.Errorf("relay cursor: %w", err)
		}
		return relay.Position{EnqueuedAt: time.Unix(0, n), ID: id}, nil
	}
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return relay.Position{}, fmt.Errorf("relay cursor: %w", err)
	}
	ns, err := strconv.ParseInt(nanos, 10, 64)
	if err != nil || ns < 0 || ns >= int64(time.Second) {
		return relay.Position{}, fmt.Errorf("relay cursor: nanoseconds %q", nanos)
	}
	return relay.Position{EnqueuedAt: time.Unix(sec, ns), ID: id}, nil
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

// unreadablePageSize is how many entries set aside one page of
// ?state=unreadable lists (a test makes it small).
var unreadablePageSize = MaxCalls

// stateUnreadable is the state= of GET /api/v1/relay that lists the
// entries set aside unreadable (relay.Unreadable), not an entry's state.
const stateUnreadable = "unreadable"

type unreadableBody struct {
	Entries   []relay.Unreadable `json:"entries"`
	Truncated bool               `json:"truncated,omitempty"`
	Next      string             `json:"next,omitempty"`
}

// relayListUnreadable: GET /api/v1/relay?state=unreadable lists the
// outbox entries set aside because their value did not decode: key,
// message id and destination read from it, where it was, when and why it
// was set aside, and the value as it was (base64), in the order they were
// set aside, at most MaxCalls a page (after= as for the other states).
// Their client cannot be read from them, so the service's token alone
// reads them: a client's is refused (403), and client= is refused (400).
func (d Deps) relayListUnreadable(w http.ResponseWriter, r *http.Request, after relay.Position) {
	if !serviceToken(r) {
		d.Logger.Warn("data API: refused, a client's token asked for the relay's unreadable entries", "remote", r.RemoteAddr)
		writeJSON(w, http.StatusForbidden, errorBody{Error: "state=unreadable: the entries' client cannot be read: it needs http.api_token"})
		return
	}
	if r.URL.Query().Has("client") {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "client: an unreadable entry's client cannot be read; list them without client="})
		return
	}
	entries, more, err := d.Outbox.UnreadablePage(after, unreadablePageSize)
	if err != nil {
		d.Logger.Error("list unreadable relay entries", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	if entries == nil {
		entries = []relay.Unreadable{}
	}
	body := unreadableBody{Entries: entries, Truncated: more}
	if more {
		last := entries[len(entries)-1]
		body.Next = relayCursor(relay.Position{EnqueuedAt: last.SetAsideAt, ID: last.ID})
	}
	for i := range entries {
		entries[i].SetAsideAt = japan.In(entries[i].SetAsideAt)
	}
	writeJSON(w, http.StatusOK, body)
}

// relayDiscardUnreadable: POST /api/v1/relay/unreadable/discard?id=…
// deletes an entry set aside unreadable, for good, once an admin has
// read it (GET /api/v1/relay?state=unreadable): relay.unreadable in
// /healthz goes down. A route of its own, not /relay/discard's: that
// one keeps a dead letter, discarded, for 30 days, and an entry queued
// again since can share the key of one set aside.
func (d Deps) relayDiscardUnreadable(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := knownParams(q, "id"); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	id := q.Get("id")
	if id == "" {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "id: the unreadable entry's id (its key, as listed) is required"})
		return
	}
	if err := d.Outbox.DiscardUnreadable(id); err != nil {
		if errors.Is(err, relay.ErrNotFound) {
			writeJSON(w, http.StatusNotFound, errorBody{Error: "no unreadable entry with this id"})
			return
		}
		d.Logger.Error("discard unreadable relay entry", "error", err, "id", logCut(id))
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "store error"})
		return
	}
	d.Logger.Info("unreadable relay entry discarded", "id", logCut(id))
	writeJSON(w, http.StatusOK, struct {
		Discarded string `json:"discarded"`
	}{id})
}
