package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

const (
	historyLimit  = 10
	submitTimeout = 10 * time.Second
)

// intakeView is an intake with its delivery status.
type intakeView struct {
	store.Intake
	Relay []RelayStatus `json:"relay"`
}

// callView is what the console needs to handle one call.
type callView struct {
	Pop     ScreenPop    `json:"pop"`
	Form    FormSpec     `json:"form"`
	Intakes []intakeView `json:"intakes"`
	// Class is what the operator said the call was, when it needs no
	// message (store.ClassSales...); "" for an ordinary call.
	Class string `json:"class"`
}

// view builds an intake's view with its relay status.
func (c *Console) view(in store.Intake) intakeView {
	st := c.d.Relay.Status(in.ID)
	if st == nil {
		st = []RelayStatus{}
	}
	return intakeView{Intake: in, Relay: st}
}

// callClass is the class the operator gave call id ("" when none, or the
// store cannot say). A pop is a call just put through: it has none, and
// only a page that reads the call again asks.
func (c *Console) callClass(id string) string {
	return c.callClasses(id)[id]
}

// callClasses are the classes of calls ids (those that have one), read
// in one store transaction.
func (c *Console) callClasses(ids ...string) map[string]string {
	if c.d.Store == nil || len(ids) == 0 {
		return nil
	}
	classes, err := c.d.Store.CallClasses(ids...)
	if err != nil {
		c.log.Warn("class of the calls", "calls", ids, "err", err)
	}
	return classes
}

// callFor builds the call view of p as op may see it: earlier intakes from
// the same number to the same client. Another client's are never shown,
// even to an operator who serves both: a caller who phones two clients of
// one answering service (two competitors, a firm and its supplier) must
// not have what they told one put before the other's operator, nor
// copied into the other's message.
func (c *Console) callFor(op Operator, p ScreenPop) callView {
	cv := callView{Pop: p, Form: c.d.Forms.FormFor(p.ClientID, p.CallID), Intakes: []intakeView{}}
	if cv.Pop.History == nil {
		cv.Pop.History = []HistoryItem{}
	}
	if cv.Form.Fields == nil {
		cv.Form.Fields = []FieldSpec{}
	}
	if phone.ParseCallerID(p.CallerNumber).Kind != phone.Number {
		// Withheld, unavailable, a payphone, none: not one caller; only
		// this call's own messages are this caller's to show (found by the
		// ids kept with its pop: the number finds them all, or none).
		for _, id := range p.Saved {
			in, err := c.d.Store.Intake(id)
			if err != nil {
				c.log.Warn("an intake saved for the call", "call", p.CallID, "intake", id, "err", err)
				continue
			}
			if op.serves(in.ClientID) {
				cv.Intakes = append(cv.Intakes, c.view(in))
			}
		}
		return cv
	}
	ins, err := c.d.Store.IntakesForNumbers(phone.ParseCallerID(p.CallerNumber).Spellings(), historyLimit, func(in store.Intake) bool {
		return in.ClientID == p.ClientID && op.serves(in.ClientID)
	})
	if err != nil {
		c.log.Error("intakes for caller", "call", p.CallID, "err", err)
	}
	for _, in := range ins {
		cv.Intakes = append(cv.Intakes, c.view(in))
	}
	return cv
}

// stateView answers GET /api/v1/console/state.
type stateView struct {
	Operator struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Supervisor bool   `json:"supervisor"`
	} `json:"operator"`
	State        OperatorStatus `json:"state"`
	PauseReasons []string       `json:"pause_reasons"`
	// CSRFToken is the session's: a page opened before a login in
	// another tab (a new session) takes it from here and goes on.
	CSRFToken string    `json:"csrf_token"`
	Call      *callView `json:"call"`
	// Recent are the operator's calls before the current one: those
	// with no message saved (nor marked as needing none) first, then the
	// others, each newest first: a message not saved when the next call
	// came is still there to finish (GET /api/v1/console/calls/{id}).
	Recent []recentCall `json:"recent"`
}

// recentCall is one earlier call of the operator's, and whether a message
// was saved for it.
type recentCall struct {
	CallID        string    `json:"call_id"`
	ClientName    string    `json:"client_name"`
	CallerDisplay string    `json:"caller_display"`
	At            time.Time `json:"at"`
	Saved         bool      `json:"saved"`
	// Class is the class the operator gave the call (sales, ...) when
	// that, not a message, is what settled it.
	Class string `json:"class,omitempty"`
}

// recentLimit bounds the earlier calls with a message (or a class)
// listed, recentFor how far back; those without are all listed, for as
// long as their pops are kept (keepPopsFor).
const (
	recentLimit = 10
	recentFor   = 12 * time.Hour
)

// recentCalls lists op's pops before the last: first every one whose
// call has neither a message saved (kept with the pop) nor a class (a
// store read: a call classed as needing no message, a sales call, is
// done too), newest first; then, newest first, those that have one,
// within recentFor, up to recentLimit calls in all. Ten newer calls
// saved one by one must not push a message never written off the list.
func (c *Console) recentCalls(op Operator) []recentCall {
	pops := c.hub.popsOf(op.ID)
	unsaved, saved := []recentCall{}, []recentCall{}
	now := c.now()
	listed := func(p ScreenPop) bool { return now.Sub(p.At) < keepPopsFor && c.mayFinish(op, p) }
	// The classes of the calls with no message, read in one transaction
	// (up to maxPops of them, every state read).
	var noMessage []string
	for _, p := range pops[:max(0, len(pops)-1)] {
		if len(p.Saved) == 0 && listed(p) {
			noMessage = append(noMessage, p.CallID)
		}
	}
	classes := c.callClasses(noMessage...)
	for i := len(pops) - 2; i >= 0; i-- {
		p := pops[i]
		if !listed(p) {
			continue
		}
		rc := recentCall{CallID: p.CallID, ClientName: p.ClientName, CallerDisplay: p.CallerDisplay, At: p.At, Saved: len(p.Saved) > 0}
		if !rc.Saved {
			rc.Class = classes[p.CallID]
			rc.Saved = rc.Class != ""
		}
		switch {
		case !rc.Saved:
			unsaved = append(unsaved, rc)
		case now.Sub(p.At) <= recentFor && len(saved) < recentLimit:
			saved = append(saved, rc)
		}
	}
	return append(unsaved, saved[:min(len(saved), max(0, recentLimit-len(unsaved)))]...)
}

// callJSON: GET /api/v1/console/calls/{id}, the view of one of the
// operator's recent calls (to finish its message).
func (c *Console) callJSON(w http.ResponseWriter, r *http.Request, a authed) {
	p, found := c.hub.findPop(a.op.ID, r.PathValue("id"))
	// As for saving its message: a call whose client a reload removed
	// stays the operator's to finish.
	if !found || !c.mayFinish(a.op, p) {
		fail(w, http.StatusNotFound, "no such call for this operator")
		return
	}
	cv := c.callFor(a.op, p)
	cv.Class = c.callClass(p.CallID)
	writeJSON(w, http.StatusOK, cv)
}

// stateJSON: GET /api/v1/console/state, everything the page needs on load.
func (c *Console) stateJSON(w http.ResponseWriter, r *http.Request, a authed) {
	var v stateView
	v.Operator.ID, v.Operator.Name, v.Operator.Supervisor = a.op.ID, a.op.Name, a.op.Supervisor
	v.CSRFToken = a.sess.csrf
	v.PauseReasons = c.reasons
	st, err := c.operatorState(r.Context(), a.op)
	if err != nil {
		c.log.Warn("state", "operator", a.op.ID, "err", err)
		st = OperatorStatus{ID: a.op.ID, Name: a.op.Name, State: StateOffline}
	}
	v.State = st
	if p, ok := c.hub.lastPop(a.op.ID); ok {
		cv := c.callFor(a.op, p)
		cv.Class = c.callClass(p.CallID)
		v.Call = &cv
		if len(p.Saved) == 0 && cv.Class == "" && c.d.Control != nil && ownPage(r) {
			// A page that (re)loads shows the call's form: its message is
			// being written, as when the pop reached an open page. The
			// queue ignores it unless the call is the operator's, or the
			// one their wrap-up follows, and once told the call's message
			// is saved (or the call marked): a save landing while this
			// read is on its way is not undone by its hold.
			c.d.Control.HoldWrapUp(a.op.ID, p.CallID)
		}
	}
	v.Recent = c.recentCalls(a.op)
	writeJSON(w, http.StatusOK, v)
}

// ownPage reports whether a GET came from the console's own page (or from
// no browser): a GET may carry the session cookie from another site's
// link (SameSite=Lax), which must not change the operator's state.
// Browsers say where a request came from in Sec-Fetch-Site.
func ownPage(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// intakeRequest is the body of validate, create and correct.
type intakeRequest struct {
	CallID   string            `json:"call_id"`
	IntakeID string            `json:"intake_id"`
	Values   map[string]string `json:"values"`
	// RequestID, 32 hex digits the page makes once per save and sends
	// again with every retry of it, makes a save that went through but
	// whose reply was lost (a double click, a dropped connection) count
	// once: the intake is not stored or relayed twice.
	RequestID string `json:"request_id"`
	// Version, in a correction, is the version the form was filled from
	// (required): a correction of an older one (corrected meanwhile, e.g.
	// by a supervisor) is refused with the current one, not saved over it.
	Version int `json:"version"`
}

// requestID checks req's RequestID: "" (none given) or 32 lower-case hex
// digits; anything else is answered 400.
func requestID(w http.ResponseWriter, req intakeRequest) (string, bool) {
	id := req.RequestID
	if id == "" {
		return "", true
	}
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		fail(w, http.StatusBadRequest, "request_id: 32 lower-case hex digits")
		return "", false
	}
	return id, true
}

// repeated answers a save request that was made already: 200 and the
// intake as stored (relayed once already) when the request carries the
// values stored; 409 and the stored intake when it carries others (the
// operator changed the form before pressing Save again): those changes
// are a correction, not this request.
func (c *Console) repeated(w http.ResponseWriter, in store.Intake, values map[string]string) {
	// The first copy may have been stored and its mark lost (the process
	// stopped between the two): mark it again.
	if c.hub.markSaved(in.OperatorID, in.CallID, in.ID) {
		c.savePopsLater(in.OperatorID)
	}
	if !maps.Equal(in.Values, values) {
		c.log.Info("intake save repeated with other values: refused", "intake", in.ID, "version", in.Version)
		writeJSON(w, http.StatusConflict, map[string]any{"error": "saved already, with other values: correct it", "intake": c.view(in)})
		return
	}
	c.log.Info("intake save repeated: nothing more stored or relayed", "intake", in.ID, "version", in.Version)
	writeJSON(w, http.StatusOK, map[string]any{"intake": c.view(in)})
}

// cleanValues keeps only the form's fields. A value's length is the
// form's to judge (2,000 characters for a multi-line answer, 200 for a
// line), field by field and in Japanese; a body over maxBody is refused
// whole before this.
func cleanValues(form FormSpec, in map[string]string) map[string]string {
	out := make(map[string]string, len(form.Fields))
	for _, f := range form.Fields {
		if v, ok := in[f.ID]; ok {
			out[f.ID] = v
		}
	}
	return out
}

// checked runs the client's validation, with the form call callID popped
// with, for its caller's class (the pop's, or the message's being
// corrected); it writes the 400/422 itself.
func (c *Console) checked(w http.ResponseWriter, clientID, callID, callerClass string, values map[string]string) (map[string]string, string, bool) {
	vals := cleanValues(c.d.Forms.FormFor(clientID, callID), values)
	norm, errs, readBack := c.d.Forms.Validate(clientID, callID, callerClass, vals)
	for _, msg := range errs {
		if msg != "" {
			writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: "invalid intake", Fields: errs})
			return nil, "", false
		}
	}
	return norm, readBack, true
}

// target finds what an intake request is about: the operator's own call
// (new intake) or an existing intake the operator may correct.
func (c *Console) target(w http.ResponseWriter, a authed, req intakeRequest) (clientID string, pop ScreenPop, prev *store.Intake, ok bool) {
	if req.IntakeID != "" {
		in, ok := c.editable(w, a, req.IntakeID)
		if !ok {
			return "", ScreenPop{}, nil, false
		}
		return in.ClientID, ScreenPop{}, &in, true
	}
	p, found := c.hub.findPop(a.op.ID, req.CallID)
	if !found || req.CallID == "" || !c.mayFinish(a.op, p) {
		fail(w, http.StatusNotFound, "no such call for this operator")
		return "", ScreenPop{}, nil, false
	}
	return p.ClientID, p, nil, true
}

// editable loads an intake the session's operator wrote (or supervises).
func (c *Console) editable(w http.ResponseWriter, a authed, id string) (store.Intake, bool) {
	in, err := c.d.Store.Intake(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, "no such intake")
		return store.Intake{}, false
	case err != nil:
		c.log.Error("load intake", "intake", id, "err", err)
		fail(w, http.StatusInternalServerError, "store unavailable")
		return store.Intake{}, false
	case !a.op.serves(in.ClientID) || in.OperatorID != a.op.ID && !a.op.Supervisor:
		// An operator's own intakes, while they still serve its client
		// (a reload may take the client away from them).
		fail(w, http.StatusForbidden, "not your intake")
		return store.Intake{}, false
	}
	return in, true
}

// validate: POST /api/v1/console/validate → normalised values and the
// read-back line, or 422 with an error per field.
func (c *Console) validate(w http.ResponseWriter, r *http.Request, a authed) {
	var req intakeRequest
	if !readJSON(w, r, &req) {
		return
	}
	clientID, pop, prev, ok := c.target(w, a, req)
	if !ok {
		return
	}
	callID, class := pop.CallID, pop.CallerClass
	if prev != nil {
		callID, class = prev.CallID, prev.CallerClass
	}
	norm, readBack, ok := c.checked(w, clientID, callID, class, req.Values)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"values": norm, "read_back": readBack})
}

// saved answers a stored intake after handing it to the relay.
func (c *Console) saved(w http.ResponseWriter, r *http.Request, status int, in store.Intake) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), submitTimeout)
	defer cancel()
	resp := struct {
		Intake     intakeView `json:"intake"`
		RelayError string     `json:"relay_error,omitempty"`
		// RelayProblem says it for the console: "no_destination" (the
		// client's relay settings pick no destination: nothing will be
		// sent), "not_queued" (tried again every 30 s until queued).
		RelayProblem string `json:"relay_problem,omitempty"`
	}{}
	if err := c.d.Relay.Submit(ctx, in); err != nil {
		if errors.Is(err, ErrNoRelayDestination) {
			c.log.Warn("intake saved for a client with nothing to relay to", "intake", in.ID, "client", in.ClientID, "err", err)
			resp.RelayError, resp.RelayProblem = "no relay destination: the intake is saved and will not be sent", "no_destination"
		} else {
			c.log.Error("relay submit", "intake", in.ID, "err", err)
			resp.RelayError, resp.RelayProblem = "relay not queued; the intake is saved", "not_queued"
		}
	}
	resp.Intake = c.view(in)
	writeJSON(w, status, resp)
}

// createIntake: POST /api/v1/console/intakes {"call_id","values"}. The
// intake is durable before the answer; the relay gets it after.
func (c *Console) createIntake(w http.ResponseWriter, r *http.Request, a authed) {
	var req intakeRequest
	if !readJSON(w, r, &req) {
		return
	}
	req.IntakeID = ""
	rid, ok := requestID(w, req)
	if !ok {
		return
	}
	clientID, pop, _, ok := c.target(w, a, req)
	if !ok {
		return
	}
	norm, readBack, ok := c.checked(w, clientID, pop.CallID, pop.CallerClass, req.Values)
	if !ok {
		return
	}
	id := rid // a repeat of this request finds the intake under its id
	if id == "" {
		var err error
		if id, err = newIntakeID(); err != nil {
			fail(w, http.StatusInternalServerError, "no id")
			return
		}
	}
	in, saved, err := c.saveForCall(store.Intake{
		ID: id, CallID: pop.CallID, ClientID: clientID, OperatorID: a.op.ID, EditedBy: a.op.ID, CallerNumber: pop.CallerNumber,
		Values: norm, ReadBack: readBack, CallerClass: pop.CallerClass, KnownName: pop.KnownName, UpdatedAt: c.now(), RequestID: rid,
	})
	if errors.Is(err, store.ErrErasing) {
		// The caller asked for their data to be erased, and it is being
		// erased now: nothing of theirs is stored meanwhile.
		fail(w, http.StatusConflict, "the caller's data is being erased at their request: this message is not kept")
		return
	}
	if errors.Is(err, errCallSaved) {
		// Saved from another page of the operator's (a second PC, another
		// tab): one message per call reaches the client. The page makes
		// its form that message's correction, what was typed kept.
		c.log.Info("intake refused: the call's message was saved already, by another request", "call", pop.CallID, "intake", in.ID, "operator", a.op.ID)
		writeJSON(w, http.StatusConflict, map[string]any{"error": "this call's message was saved already, from another screen: correct it", "intake": c.view(in), "saved_elsewhere": true})
		return
	}
	if err != nil {
		c.log.Error("store intake", "call", pop.CallID, "err", err)
		fail(w, http.StatusInternalServerError, "intake not saved")
		return
	}
	if !saved {
		if in.CallID != pop.CallID || in.OperatorID != a.op.ID {
			fail(w, http.StatusConflict, "request_id used for another intake")
			return
		}
		c.repeated(w, in, norm)
		return
	}
	if c.d.Control != nil {
		c.d.Control.ReleaseWrapUp(a.op.ID, pop.CallID)
	}
	c.log.Info("intake saved", "intake", in.ID, "call", in.CallID, "operator", a.op.ID)
	c.saved(w, r, http.StatusCreated, in)
	// The operator's other pages (a second PC, another tab) show the call
	// saved at once, not only when a save of theirs is refused.
	data, err := json.Marshal(map[string]any{"call_id": in.CallID, "intake": c.view(in)})
	if err != nil {
		c.log.Error("saved event", "intake", in.ID, "err", err)
		return
	}
	c.hub.send(a.op.ID, "saved", data)
}

// errCallSaved: a new message for a call that has one saved already.
var errCallSaved = errors.New("the call has a saved message")

// saveForCall stores in, a new message for call in.CallID of its
// operator (store.SaveIntake, create), and marks it on the call's pop,
// unless the call has a message saved by another request (another page
// of the operator's): then it stores nothing and returns that message
// with an error wrapping errCallSaved. A repeat of the request that saved
// it returns it as stored before (saved false). All this under the
// operator's settleLock: two saves from two pages do not both pass the
// check, and a class given the call meanwhile finds it marked, and is
// refused. A class given before (a sales call, a wrong number, that
// turned out to have a message after all) is taken back: the client gets
// the message, and the call is billed.
func (c *Console) saveForCall(in store.Intake) (stored store.Intake, saved bool, err error) {
	unlock := c.settleLock(in.OperatorID)
	defer unlock()
	if p, ok := c.hub.findPop(in.OperatorID, in.CallID); ok && len(p.Saved) > 0 && !slices.Contains(p.Saved, in.ID) {
		prev, err := c.d.Store.Intake(p.Saved[len(p.Saved)-1])
		switch {
		case err == nil:
			return prev, false, fmt.Errorf("call %s, message %s: %w", in.CallID, prev.ID, errCallSaved)
		case !errors.Is(err, store.ErrNotFound): // deleted (its caller's erasure): none to correct
			return store.Intake{}, false, fmt.Errorf("the call's saved message: %w", err)
		}
	}
	stored, saved, err = c.d.Store.SaveIntake(in, true)
	if err != nil || !saved {
		return stored, saved, err
	}
	if c.hub.markSaved(in.OperatorID, in.CallID, stored.ID) {
		c.savePopsLater(in.OperatorID)
	}
	if class := c.callClass(in.CallID); class != "" {
		if err := c.d.Store.ClassifyCall(in.CallID, "", in.OperatorID, c.now()); err != nil {
			c.log.Error("taking back the class of a call with a message now", "call", in.CallID, "class", class, "err", err)
		} else {
			c.log.Info("class taken back: the call has a message now", "call", in.CallID, "class", class, "operator", in.OperatorID)
		}
	}
	return stored, true, nil
}

// correctIntake: PUT /api/v1/console/intakes/{id} {"values"}; earlier
// versions are kept.
func (c *Console) correctIntake(w http.ResponseWriter, r *http.Request, a authed) {
	var req intakeRequest
	if !readJSON(w, r, &req) {
		return
	}
	req.IntakeID = r.PathValue("id")
	rid, ok := requestID(w, req)
	if !ok {
		return
	}
	clientID, _, prev, ok := c.target(w, a, req)
	if !ok {
		return
	}
	if req.Version < 1 {
		// Without it, a correction from a stale form would silently undo
		// a newer one.
		fail(w, http.StatusBadRequest, "version: the version the form was filled from is required")
		return
	}
	if prev.Version != req.Version && prev.RequestID != rid {
		// Said before the values are checked: the operator should not fix
		// a form only to learn it was corrected meanwhile. (The store
		// checks again, in its transaction.)
		writeJSON(w, http.StatusConflict, map[string]any{"error": "corrected meanwhile", "current": c.view(*prev)})
		return
	}
	// The message's own class, kept with it: the call's pop is kept 24 h,
	// and a message corrected from another call's screen (its caller's
	// next call) is not that call's.
	norm, readBack, ok := c.checked(w, clientID, prev.CallID, prev.CallerClass, req.Values)
	if !ok {
		return
	}
	next := *prev
	next.EditedBy, next.Values, next.ReadBack, next.UpdatedAt, next.RequestID = a.op.ID, norm, readBack, c.now(), rid
	// The version checked in the store's transaction: two corrections of
	// one version racing each other store one.
	in, saved, err := c.d.Store.SaveCorrection(next, req.Version)
	if errors.Is(err, store.ErrStaleVersion) {
		cur, cerr := c.d.Store.Intake(prev.ID)
		if cerr != nil {
			c.log.Error("load intake", "intake", prev.ID, "err", cerr)
			fail(w, http.StatusInternalServerError, "store unavailable")
			return
		}
		writeJSON(w, http.StatusConflict, map[string]any{"error": "corrected meanwhile", "current": c.view(cur)})
		return
	}
	if errors.Is(err, store.ErrErasing) {
		fail(w, http.StatusConflict, "the caller's data is being erased at their request: this correction is not kept")
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		// deleted meanwhile (its retention, or the caller's erasure)
		fail(w, http.StatusNotFound, "the message is deleted: its retention passed, or its caller's data was erased")
		return
	}
	if err != nil {
		c.log.Error("store correction", "intake", prev.ID, "err", err)
		fail(w, http.StatusInternalServerError, "correction not saved")
		return
	}
	if !saved {
		c.repeated(w, in, norm)
		return
	}
	c.log.Info("intake corrected", "intake", in.ID, "version", in.Version, "operator", a.op.ID)
	c.saved(w, r, http.StatusOK, in)
}

// getIntake: GET /api/v1/console/intakes/{id} → the intake, its versions
// and its delivery status.
func (c *Console) getIntake(w http.ResponseWriter, r *http.Request, a authed) {
	in, err := c.d.Store.Intake(r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.op.serves(in.ClientID)) {
		fail(w, http.StatusNotFound, "no such intake")
		return
	}
	vers, verr := c.d.Store.IntakeVersions(in.ID)
	if err != nil || verr != nil {
		c.log.Error("load intake", "err", errors.Join(err, verr))
		fail(w, http.StatusInternalServerError, "store unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"intake": c.view(in), "versions": vers})
}

// newIntakeID returns 16 random bytes in hex.
func newIntakeID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
