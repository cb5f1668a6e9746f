package console

import (
	"net/http"
	"slices"
	"time"
)

// Wrap-up extension bounds (POST /api/v1/console/wrapup/extend).
const (
	defaultExtend = 60 * time.Second
	maxExtend     = 10 * time.Minute
)

// stateAfter answers a control request with the operator's new state and
// tells the operator's other open pages.
func (c *Console) stateAfter(w http.ResponseWriter, r *http.Request, a authed) {
	c.hub.nudge(a.op.ID)
	st, err := c.operatorState(r.Context(), a.op)
	if err != nil {
		c.log.Warn("state after control", "operator", a.op.ID, "err", err)
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// setAvailable: POST /api/v1/console/available.
func (c *Console) setAvailable(w http.ResponseWriter, r *http.Request, a authed) {
	c.d.Control.SetAvailable(a.op.ID)
	c.stateAfter(w, r, a)
}

// pauseRequest is the body of POST /api/v1/console/pause.
type pauseRequest struct {
	Reason string `json:"reason"`
}

// pause: POST /api/v1/console/pause {"reason": one of the pause reasons}.
func (c *Console) pause(w http.ResponseWriter, r *http.Request, a authed) {
	var req pauseRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !slices.Contains(c.reasons, req.Reason) {
		fail(w, http.StatusBadRequest, "unknown pause reason")
		return
	}
	c.d.Control.Pause(a.op.ID, req.Reason)
	c.stateAfter(w, r, a)
}

// endWrapUp: POST /api/v1/console/wrapup/end.
func (c *Console) endWrapUp(w http.ResponseWriter, r *http.Request, a authed) {
	c.d.Control.EndWrapUp(a.op.ID)
	c.stateAfter(w, r, a)
}

// extendRequest is the body of POST /api/v1/console/wrapup/extend.
type extendRequest struct {
	Seconds int `json:"seconds"`
}

// extendWrapUp: POST /api/v1/console/wrapup/extend {"seconds": 1..600}
// (0 or absent: 60).
func (c *Console) extendWrapUp(w http.ResponseWriter, r *http.Request, a authed) {
	var req extendRequest
	if !readJSON(w, r, &req) {
		return
	}
	// The range on the number, before it is a Duration: 2^55 seconds
	// multiplied to 0 s, 9223372037 to a negative wrap-up, and passed.
	var d time.Duration
	switch {
	case req.Seconds == 0:
		d = defaultExtend
	case req.Seconds < 0 || req.Seconds > int(maxExtend/time.Second):
		fail(w, http.StatusBadRequest, "seconds out of range")
		return
	default:
		d = time.Duration(req.Seconds) * time.Second
	}
	c.d.Control.ExtendWrapUp(a.op.ID, d)
	c.stateAfter(w, r, a)
}

// wallboard: GET /api/v1/console/wallboard (supervisors).
func (c *Console) wallboard(w http.ResponseWriter, r *http.Request, a authed) {
	wb, err := c.d.Control.Snapshot(r.Context())
	if err != nil {
		c.log.Error("wallboard snapshot", "err", err)
		fail(w, http.StatusServiceUnavailable, "wallboard unavailable")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Wallboard
		Now time.Time `json:"now"`
	}{wb, c.now()})
}
