package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/relay"
)

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
