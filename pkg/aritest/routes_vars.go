package aritest

import (
	"net/http"
	"strconv"
	"strings"
)

// setVarLocked sets a variable or a writable dialplan function.
func (s *Server) setVarLocked(c *channel, name, value string) {
	switch name {
	case "CALLERID(name)":
		c.caller.Name = value
		s.callerIDEventLocked(c)
	case "CALLERID(num)", "CALLERID(number)":
		c.caller.Number = value
		s.callerIDEventLocked(c)
	case "CALLERID(all)":
		c.caller = parseCallerID(value)
		s.callerIDEventLocked(c)
	case "CHANNEL(musicclass)":
		c.musicClass = value
	default:
		if strings.HasSuffix(name, ")") {
			// pbx_builtin_setvar_helper hands a function to
			// ast_func_write, before any ChannelVarset: a function
			// written publishes none.
			return
		}
		c.vars[name] = value
		s.varsetEventLocked(c, name, value)
	}
}

func (s *Server) callerIDEventLocked(c *channel) {
	s.chanEventLocked(c, "ChannelCallerId", nil, object{
		{"caller_presentation", 0}, {"caller_presentation_txt", "Presentation Allowed, Not Screened"},
	})
}

// setSIPHeader replaces the header of h's name, or adds h.
func (c *channel) setSIPHeader(h sipHeader) {
	for i := range c.sipHeaders {
		if strings.EqualFold(c.sipHeaders[i].name, h.name) {
			c.sipHeaders[i] = h
			return
		}
	}
	c.sipHeaders = append(c.sipHeaders, h)
}

// sipHeaderRead reads PJSIP_HEADER(read,<name>[,<n>]) on a channel from
// the trunk: the header's value, after "Name: " (res_pjsip_header_funcs.c
// prints the header and skips past the colon). Names match in any case.
// ok is false for other channels and missing headers, where Asterisk's
// read fails.
func (c *channel) sipHeaderRead(fn string) (string, bool) {
	inner, found := strings.CutPrefix(fn, "PJSIP_HEADER(")
	if !found || !strings.HasSuffix(inner, ")") {
		return "", false
	}
	args := strings.Split(strings.TrimSuffix(inner, ")"), ",")
	if len(args) < 2 || len(args) > 3 || strings.TrimSpace(args[0]) != "read" {
		return "", false
	}
	nth := 1
	if len(args) == 3 {
		n, err := strconv.Atoi(strings.TrimSpace(args[2]))
		if err != nil || n < 1 {
			return "", false
		}
		nth = n
	}
	name := strings.TrimSpace(args[1])
	for _, h := range c.sipHeaders {
		if strings.EqualFold(h.name, name) {
			if nth--; nth == 0 {
				return h.value, true
			}
		}
	}
	return "", false
}

// getVar reads a variable or a dialplan function.
func (c *channel) getVar(name string) (string, bool) {
	if strings.HasPrefix(name, "PJSIP_HEADER(") {
		return c.sipHeaderRead(name)
	}
	switch name {
	case "CALLERID(num)", "CALLERID(number)":
		return c.caller.Number, true
	case "CALLERID(name)":
		return c.caller.Name, true
	case "CHANNEL(name)":
		return c.name, true
	case "CHANNEL(uniqueid)", "UNIQUEID":
		return c.id, true
	case "CHANNEL(state)":
		return c.state, true
	case "CHANNEL(musicclass)":
		return c.musicClass, true
	case "CONNECTEDLINE(num)":
		return c.connected.Number, true
	case "CONNECTEDLINE(name)":
		return c.connected.Name, true
	}
	v, ok := c.vars[name]
	return v, ok
}

func hVarGet(s *Server, pv map[string]string, p params) reply {
	name := p.str("variable")
	if name == "" {
		return msgErr(http.StatusBadRequest, "Variable name is required")
	}
	c, found := s.channels[pv["id"]]
	if !found {
		return msgErr(http.StatusNotFound, "Provided channel was not found")
	}
	v, set := c.getVar(name)
	switch {
	case !set && strings.HasSuffix(name, ")"):
		// A function that cannot be read (a missing header, a function
		// Asterisk does not have): resource_channels.c answers 500.
		return msgErr(http.StatusInternalServerError, "Unable to read provided function")
	case !set:
		return msgErr(http.StatusNotFound, "Provided variable was not found")
	}
	return ok(object{{"value", v}})
}

func hVarSet(s *Server, pv map[string]string, p params) reply {
	name := p.str("variable")
	if name == "" {
		return msgErr(http.StatusBadRequest, "Variable name is required")
	}
	// resource_channels.c ast_ari_channels_set_channel_var: find_control,
	// 404 for no channel, 409 for one not in Stasis (an app_queue call,
	// or a channel between StasisEnd and its destruction).
	c, bad := s.stasisChannelLocked(pv["id"])
	if bad != nil {
		return *bad
	}
	v := varSet{name: name, unset: !p.has("value"), value: p.str("value")}
	// Asterisk queues the set on the channel's thread (control.c
	// stasis_app_control_set_channel_var → stasis_app_send_command_async),
	// which a playback or a recording holds until it ends: 204 now, the
	// variable then.
	set := func() bool {
		if !c.gone {
			s.applyVarLocked(c, v)
		}
		return false
	}
	s.queueOnThreadLocked("channel:"+c.id, threadCmd{run: set, dropped: func() { set() }})
	return noContent()
}

// varSet is a variable set (or unset) sent to a channel.
type varSet struct {
	name, value string
	unset       bool
}

func (s *Server) applyVarLocked(c *channel, v varSet) {
	if v.unset {
		// no value unsets the variable, silently (recording 11)
		delete(c.vars, v.name)
		return
	}
	s.setVarLocked(c, v.name, v.value)
}
