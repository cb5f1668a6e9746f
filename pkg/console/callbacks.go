package console

import (
	"errors"
	"net/http"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// jst is Japan Standard Time (UTC+9, no daylight saving), the zone request
// times are shown in.
var jst = japan.Zone

// callbackItem is one pending callback request as the console shows it.
type callbackItem struct {
	ID         string `json:"id"`
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name"`
	// Number is E.164; Display is the form operators read.
	Number      string    `json:"number"`
	Display     string    `json:"display"`
	RequestedAt time.Time `json:"requested_at"`
	// Requested is RequestedAt in Tokyo time, "01/02 15:04".
	Requested string `json:"requested"`
	// ClaimedBy names the operator calling back now (store.ClaimFor);
	// Mine: that is the operator asking.
	ClaimedBy string `json:"claimed_by,omitempty"`
	Mine      bool   `json:"mine,omitempty"`
}

// callbacksResponse is the body of GET /api/v1/console/callbacks.
type callbacksResponse struct {
	Callbacks []callbackItem `json:"callbacks"`
}

// callbacks: GET /api/v1/console/callbacks lists the pending callback
// requests of the clients the operator serves (every client for
// supervisors), oldest first.
func (c *Console) callbacks(w http.ResponseWriter, r *http.Request, a authed) {
	cbs, err := c.d.Store.Callbacks(store.CallbackPending)
	if err != nil {
		c.log.Error("list callbacks", "err", err)
		fail(w, http.StatusInternalServerError, "callbacks unavailable")
		return
	}
	out := callbacksResponse{Callbacks: []callbackItem{}}
	now := c.now()
	for _, cb := range cbs {
		if !a.op.serves(cb.ClientID) {
			continue
		}
		name := cb.ClientID
		if c.d.ClientName != nil {
			if n := c.d.ClientName(cb.ClientID); n != "" {
				name = n
			}
		}
		item := callbackItem{
			ID: cb.ID, ClientID: cb.ClientID, ClientName: name, Number: cb.Number,
			Display:     phone.ParseCallerID(cb.Number).Display(),
			RequestedAt: cb.RequestedAt, Requested: cb.RequestedAt.In(jst).Format("01/02 15:04"),
		}
		if cb.Claimed(now) {
			item.ClaimedBy, item.Mine = c.operatorName(cb.ClaimedBy), cb.ClaimedBy == a.op.ID
		}
		out.Callbacks = append(out.Callbacks, item)
	}
	writeJSON(w, http.StatusOK, out)
}

// visibleCallback reads request id for operator a: one they may not see
// does not exist for them (404, like intakes). It writes the error
// itself; ok is false then.
func (c *Console) visibleCallback(w http.ResponseWriter, a authed, id string) (store.Callback, bool) {
	cb, err := c.d.Store.Callback(id)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !a.op.serves(cb.ClientID)):
		fail(w, http.StatusNotFound, "no such callback request")
		return store.Callback{}, false
	case err != nil:
		c.log.Error("find callback", "id", id, "err", err)
		fail(w, http.StatusInternalServerError, "callbacks unavailable")
		return store.Callback{}, false
	}
	return cb, true
}

// callbackDone: POST /api/v1/console/callbacks/{id}/done marks a request
// done by the caller. Supervisors and operators serving the request's
// client may; to anyone else it does not exist (404), like intakes. A
// request already done answers 409.
func (c *Console) callbackDone(w http.ResponseWriter, r *http.Request, a authed) {
	id := r.PathValue("id")
	cb, ok := c.visibleCallback(w, a, id)
	switch {
	case !ok:
		return
	case cb.State == store.CallbackDone:
		fail(w, http.StatusConflict, "already done")
		return
	}
	if err := c.d.Store.CompleteCallback(id, a.op.ID, c.now()); err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			fail(w, http.StatusNotFound, "no such callback request")
			return
		case errors.Is(err, store.ErrAlreadyDone): // by another, a moment ago
			fail(w, http.StatusConflict, "already done")
			return
		}
		c.log.Error("complete callback", "id", id, "err", err)
		fail(w, http.StatusInternalServerError, "could not complete")
		return
	}
	c.log.Info("callback done", "id", id, "operator", a.op.ID)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// operatorName is an operator's name, or their id once they are not
// configured.
func (c *Console) operatorName(id string) string {
	if op, ok := c.operator(id); ok && op.Name != "" {
		return op.Name
	}
	return id
}

// callbackClaim: POST /api/v1/console/callbacks/{id}/claim tells the
// others that this operator calls the request's caller back now: it is
// listed as theirs (対応中) for store.ClaimFor, and another's claim
// answers 409 saying whose it is. Who may: as for done.
func (c *Console) callbackClaim(w http.ResponseWriter, r *http.Request, a authed) {
	id := r.PathValue("id")
	if _, ok := c.visibleCallback(w, a, id); !ok {
		return
	}
	switch err := c.d.Store.ClaimCallback(id, a.op.ID, c.now()); {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, "no such callback request")
		return
	case errors.Is(err, store.ErrAlreadyDone):
		fail(w, http.StatusConflict, "already done")
		return
	case errors.Is(err, store.ErrTaken):
		var taken *store.TakenError
		by := "another operator"
		if errors.As(err, &taken) {
			by = c.operatorName(taken.By)
		}
		fail(w, http.StatusConflict, "taken by "+by)
		return
	default:
		c.log.Error("claim callback", "id", id, "err", err)
		fail(w, http.StatusInternalServerError, "could not claim")
		return
	}
	c.log.Info("callback claimed", "id", id, "operator", a.op.ID)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}
