package aritest

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// eventFilter is an application's event type filter (PUT
// /applications/{app}/eventFilter, Asterisk 13.26/16.3 and later). Each
// list is kept as sent (the response echoes it, members in their order)
// with the "type" values it names. An event is sent unless a disallowed
// entry names its type, and, when the allowed list is not empty, only if
// an allowed entry names it.
type eventFilter struct {
	allowed, disallowed filterList
}

type filterList struct {
	raw   json.RawMessage // compact JSON array; nil when empty
	types map[string]bool
}

func (f *eventFilter) allows(typ string) bool {
	if f.disallowed.types[typ] {
		return false
	}
	return f.allowed.raw == nil || f.allowed.types[typ]
}

func (f *eventFilter) allowedJSON() any    { return f.allowed.json() }
func (f *eventFilter) disallowedJSON() any { return f.disallowed.json() }

func (l filterList) json() any {
	if l.raw == nil {
		return []string{}
	}
	return l.raw
}

// set replaces the list with a JSON array; ok is false for anything else.
func (l *filterList) set(v json.RawMessage) bool {
	if t := bytes.TrimSpace(v); len(t) == 0 || t[0] != '[' {
		return false
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(v, &entries); err != nil {
		return false
	}
	if len(entries) == 0 {
		*l = filterList{}
		return true
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, v); err != nil {
		return false
	}
	types := map[string]bool{}
	for _, e := range entries {
		var entry struct {
			Type any `json:"type"`
		}
		// An entry without a string "type" (or not an object) matches no event.
		if json.Unmarshal(e, &entry) == nil {
			if t, ok := entry.Type.(string); ok {
				types[t] = true
			}
		}
	}
	*l = filterList{raw: compact.Bytes(), types: types}
	return true
}

// hAppFilter sets the filter. An empty body or object clears both lists; a
// list that is given replaces that list (an empty array clears it); a list
// that is absent is kept. The allowed list is set before the disallowed
// one is checked, as Asterisk does.
func hAppFilter(s *Server, pv map[string]string, p params) reply {
	a, found := s.apps[pv["app"]]
	if !found {
		return msgErr(http.StatusNotFound, "Application not found")
	}
	var lists map[string]json.RawMessage
	if len(p.raw) > 0 && json.Unmarshal(p.raw, &lists) != nil {
		return msgErr(http.StatusBadRequest, "Invalid format definition")
	}
	if len(lists) == 0 {
		a.filter = eventFilter{}
		return ok(a.json(s))
	}
	if v, given := lists["allowed"]; given && !a.filter.allowed.set(v) {
		return msgErr(http.StatusBadRequest, "Invalid format definition")
	}
	if v, given := lists["disallowed"]; given && !a.filter.disallowed.set(v) {
		return msgErr(http.StatusBadRequest, "Invalid format definition")
	}
	return ok(a.json(s))
}
