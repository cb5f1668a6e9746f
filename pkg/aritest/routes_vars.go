package aritest

import "net/http"

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
	default:
		c.vars[name] = value
		s.varsetEventLocked(c, name, value)
	}
}

func (s *Server) callerIDEventLocked(c *channel) {
	s.chanEventLocked(c, "ChannelCallerId", nil, object{
		{"caller_presentation", 0}, {"caller_presentation_txt", "Presentation Allowed, Not Screened"},
	})
}

// getVar reads a variable or a dialplan function.
func (c *channel) getVar(name string) (string, bool) {
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
	if !set {
		return msgErr(http.StatusNotFound, "Provided variable was not found")
	}
	return ok(object{{"value", v}})
}

func hVarSet(s *Server, pv map[string]string, p params) reply {
	name := p.str("variable")
	if name == "" {
		return msgErr(http.StatusBadRequest, "Variable name is required")
	}
	c, found := s.channels[pv["id"]]
	if !found {
		return msgErr(http.StatusNotFound, "Channel not found")
	}
	if !p.has("value") {
		// no value unsets the variable, silently (recording 11)
		delete(c.vars, name)
		return noContent()
	}
	s.setVarLocked(c, name, p.str("value"))
	return noContent()
}
