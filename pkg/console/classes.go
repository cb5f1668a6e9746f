package console

import (
	"net/http"
	"slices"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// classifyCall: POST /api/v1/console/calls/{id}/class {"class"}. The
// operator says what one of their calls was when it needs no message: a
// sales call they refused, a wrong number, silence ("sales",
// "wrong-number", "silent"; "" takes it back). Such a call is not billed
// to the client, and the wrap-up held for its message ends. A call with a
// saved message (relayed to the client) is refused a class: 409.
func (c *Console) classifyCall(w http.ResponseWriter, r *http.Request, a authed) {
	var req struct {
		Class string `json:"class"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	id := r.PathValue("id")
	p, found := c.hub.findPop(a.op.ID, id)
	if !found || !c.mayFinish(a.op, p) {
		fail(w, http.StatusNotFound, "no such call for this operator")
		return
	}
	if req.Class != "" && !slices.Contains(store.CallClasses, req.Class) {
		fail(w, http.StatusBadRequest, "class must be one of sales, wrong-number, silent, or empty")
		return
	}
	unlock := c.settleLock(a.op.ID)
	defer unlock()
	if p, _ = c.hub.findPop(a.op.ID, id); req.Class != "" && len(p.Saved) > 0 {
		// Its message is stored and relayed: the client has it, and the
		// call is billed. (Checked under the lock a save holds until its
		// message is marked on the pop: no save slips in between.)
		c.log.Info("class refused: the call has a saved message", "call", id, "class", req.Class, "operator", a.op.ID)
		writeJSON(w, http.StatusConflict, map[string]any{
			"error": "this call's message is saved and relayed to the client: the call cannot be marked as needing none", "has_message": true})
		return
	}
	if err := c.d.Store.ClassifyCall(id, req.Class, a.op.ID, c.now()); err != nil {
		c.log.Error("classify call", "call", id, "err", err)
		fail(w, http.StatusInternalServerError, "class not saved")
		return
	}
	if req.Class != "" && c.d.Control != nil {
		c.d.Control.ReleaseWrapUp(a.op.ID, id)
	}
	c.log.Info("call classified", "call", id, "class", req.Class, "operator", a.op.ID)
	writeJSON(w, http.StatusOK, map[string]string{"call_id": id, "class": req.Class})
}
