package aritest

// app is a Stasis application: it exists while it has a websocket,
// channels (README rule 7) or subscriptions (maybeDestroyAppLocked).
type app struct {
	name      string
	sock      *wsConn
	endpoints []string // event sources "PJSIP" or "PJSIP/op1001", in the order first subscribed
	// interested counts the subscriptions of each event source: Asterisk
	// counts them (res/stasis/app.c, ++forwards->interested), and one
	// is given up only when as many unsubscriptions came.
	interested map[string]int
	filter     eventFilter
}

func (s *Server) ensureAppLocked(name string) *app {
	if a, ok := s.apps[name]; ok {
		return a
	}
	a := &app{name: name}
	s.apps[name] = a
	s.appOrder = append(s.appOrder, name)
	return a
}

// appChannelsLocked lists the channels subscribed to the app, oldest first.
func (s *Server) appChannelsLocked(name string) []string {
	var ids []string
	for _, id := range s.chanOrder {
		c := s.channels[id]
		if c != nil && c.subscribed && c.app == name {
			ids = append(ids, id)
		}
	}
	return ids
}

// maybeDestroyAppLocked destroys an application with no websocket, no
// channel and no subscription: Asterisk keeps one while it has forwards
// (app_is_finished in res/stasis/app.c), an endpoint subscription among
// them, with its subscriptions and filter, for the next websocket.
func (s *Server) maybeDestroyAppLocked(a *app) {
	if a.sock != nil || len(s.appChannelsLocked(a.name)) > 0 || len(a.endpoints) > 0 {
		return
	}
	delete(s.apps, a.name)
	for i, n := range s.appOrder {
		if n == a.name {
			s.appOrder = append(s.appOrder[:i:i], s.appOrder[i+1:]...)
			break
		}
	}
}

// emitLocked sends an event to the app's websocket, if it has one: events
// raised while no websocket is connected are lost. pre are the members
// written before "type" (ChannelVarset's variable and value, ...), post the
// members after "timestamp".
func (s *Server) emitLocked(appName, typ string, pre, post object) {
	a, ok := s.apps[appName]
	if !ok || a.sock == nil || !a.filter.allows(typ) {
		return
	}
	ev := make(object, 0, len(pre)+len(post)+4)
	ev = append(ev, pre...)
	ev = append(ev, field{"type", typ}, field{"timestamp", astTime(s.now())})
	ev = append(ev, post...)
	ev = append(ev, field{"asterisk_id", asteriskID}, field{"application", appName})
	// Most events carry a channel, a kilobyte or more: a buffer that
	// holds them at once, rather than marshal's 512 bytes grown twice.
	msg, err := appendValue(make([]byte, 0, eventBufSize), ev)
	if err != nil {
		s.log.Error("aritest: encode event", "type", typ, "error", err)
		return
	}
	out := outMsg{data: msg, ev: SentEvent{Type: typ}}
	if s.opts.OnEventSent != nil {
		out.ev.Channel, out.ev.ChannelName = subjectOf(post)
	}
	a.sock.enqueue(out)
}

// eventBufSize is the capacity an event's encoding starts with.
const eventBufSize = 2048

// wantsLocked reports whether the app would be sent an event of the type
// now (it has a websocket, and its filter lets the type through), so that
// the event's members are built only for an event that goes out: under
// the controller's filter most events raised (some 30 ChannelVarset a
// call) do not.
func (s *Server) wantsLocked(appName, typ string) bool {
	a := s.apps[appName]
	return a != nil && a.sock != nil && a.filter.allows(typ)
}

// chanEventWantedLocked is wantsLocked for chanEventLocked's event about c
// (true whenever channels are forwarded to endpoint subscribers).
func (s *Server) chanEventWantedLocked(c *channel, typ string) bool {
	return s.opts.ForwardEndpointChannels || c.subscribed && s.wantsLocked(c.app, typ)
}

// chanEventLocked emits an event about a channel if the app follows it.
func (s *Server) chanEventLocked(c *channel, typ string, pre, post object) {
	if s.opts.ForwardEndpointChannels {
		s.forwardEndpointChannelLocked(c, typ, pre, post)
	}
	if !c.subscribed {
		return
	}
	if !s.wantsLocked(c.app, typ) {
		return // lost or filtered: skip building the channel's JSON
	}
	s.emitLocked(c.app, typ, pre, append(post, field{"channel", c.json()}))
}

// forwardEndpointChannelLocked sends a channel event to every app
// subscribed to the channel's endpoint or its technology
// (Options.ForwardEndpointChannels).
func (s *Server) forwardEndpointChannelLocked(c *channel, typ string, pre, post object) {
	e := c.endpoint
	if e == nil {
		return
	}
	for _, name := range s.appOrder {
		a := s.apps[name]
		if a.sock == nil || !a.filter.allows(typ) {
			continue
		}
		if a.watches(e) {
			s.emitLocked(name, typ, pre, append(append(object(nil), post...), field{"channel", c.json()}))
		}
	}
}

func (s *Server) varsetEventLocked(c *channel, name, value string) {
	if !s.chanEventWantedLocked(c, "ChannelVarset") {
		return
	}
	s.chanEventLocked(c, "ChannelVarset", object{{"variable", name}, {"value", value}}, nil)
}

// endpointEventLocked sends an endpoint event to every app subscribed to
// the endpoint or its technology.
func (s *Server) endpointEventLocked(e *endpoint, typ string, post object) {
	for _, name := range s.appOrder {
		a := s.apps[name]
		if a.watches(e) {
			s.emitLocked(name, typ, nil, append(object{{"endpoint", e.json(s)}}, post...))
		}
	}
}

// watches reports whether the app is subscribed to the endpoint or to its
// technology.
func (a *app) watches(e *endpoint) bool {
	return a.interested[e.tech] > 0 || a.interested[e.key()] > 0
}

func (a *app) json(s *Server) object {
	return object{
		{"name", a.name},
		{"channel_ids", strs(s.appChannelsLocked(a.name))},
		{"bridge_ids", strs(s.appBridgesLocked(a.name))},
		{"endpoint_ids", strs(append([]string(nil), a.endpoints...))},
		{"device_names", []string{}},
		{"events_allowed", a.filter.allowedJSON()},
		{"events_disallowed", a.filter.disallowedJSON()},
	}
}

func (s *Server) appBridgesLocked(name string) []string {
	var ids []string
	for _, id := range s.bridgeSeq {
		if b := s.bridges[id]; b != nil && b.app == name {
			ids = append(ids, id)
		}
	}
	return ids
}
