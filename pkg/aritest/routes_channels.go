package aritest

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

func hChannelList(s *Server, _ map[string]string, _ params) reply {
	out := make([]channelJSON, 0, len(s.chanOrder))
	for _, id := range s.chanOrder {
		out = append(out, s.channels[id].json())
	}
	return ok(out)
}

func hChannelGet(s *Server, pv map[string]string, _ params) reply {
	c, found := s.channels[pv["id"]]
	if !found {
		return msgErr(http.StatusNotFound, "Channel not found")
	}
	return ok(c.json())
}

var callerIDRe = regexp.MustCompile(`^\s*(?:"([^"]*)"|([^<]*?))\s*<([^>]*)>\s*$`)

// parseCallerID reads `"Name" <number>`, `Name <number>` or `number`.
func parseCallerID(v string) idName {
	if m := callerIDRe.FindStringSubmatch(v); m != nil {
		name := m[1]
		if name == "" {
			name = strings.TrimSpace(m[2])
		}
		return idName{Name: name, Number: m[3]}
	}
	return idName{Number: strings.TrimSpace(v)}
}

// allocLocked runs the checks shared by originate and create.
func (s *Server) allocLocked(p params, id string, needApp bool) (*endpoint, *reply) {
	ep := p.str("endpoint")
	fail := func(r reply) (*endpoint, *reply) { return nil, &r }
	if ep == "" {
		return fail(msgErr(http.StatusBadRequest, "Endpoint must be specified"))
	}
	if needApp && p.str("app") == "" && p.str("extension") == "" {
		return fail(msgErr(http.StatusBadRequest, "Application or extension must be specified"))
	}
	if !strings.Contains(ep, "/") {
		return fail(msgErr(http.StatusBadRequest, "Invalid endpoint specified"))
	}
	e, found := s.endpoints[ep]
	if number, trunk, ok := strings.Cut(ep, "@"); ok && strings.HasPrefix(number, "PJSIP/") {
		// PJSIP/<number>@<endpoint>: a call out through that endpoint (the
		// trunk) to a number whose behaviour SetRemoteNumber set.
		if t, tf := s.endpoints["PJSIP/"+trunk]; tf && t.online {
			out := *t
			out.behavior = s.remoteLocked(strings.TrimPrefix(number, "PJSIP/"))
			e, found = &out, true
		}
	}
	if !found || !e.online || e.tech != "PJSIP" {
		return fail(allocFailed())
	}
	if id != "" {
		if _, dup := s.channels[id]; dup {
			return fail(msgErr(http.StatusConflict, "Channel with given unique ID already exists"))
		}
	}
	return e, nil
}

func hOriginate(s *Server, _ map[string]string, p params) reply {
	return s.originateLocked(p.str("channelId"), p)
}

func hOriginateWithID(s *Server, pv map[string]string, p params) reply {
	return s.originateLocked(pv["id"], p)
}

func (s *Server) originateLocked(id string, p params) reply {
	e, bad := s.allocLocked(p, id, true)
	if bad != nil {
		return *bad
	}
	c := s.newChannelLocked(id, e, kindOriginated)
	c.protocolID = uuid.NewString()
	c.caller = e.callerID
	if v := p.str("callerId"); v != "" {
		c.caller = parseCallerID(v)
		c.connected = c.caller
	}
	c.dp = dialplan{Context: e.context, Exten: "s", Priority: 1, App: "AppDial2", AppData: "(Outgoing Line)"}
	if a := p.str("app"); a != "" {
		c.app = a
	}
	if args := p.str("appArgs"); args != "" {
		c.args = strings.Split(args, ",")
	}
	for _, k := range sortedKeys(p.strMap("variables")) {
		c.vars[k] = p.strMap("variables")[k]
	}
	c.subscribed = true
	timeout := time.Duration(p.integer("timeout", 30)) * time.Second
	s.dialLocked(c, e.resource, e.resource, timeout)
	return ok(c.json())
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func hCreate(s *Server, _ map[string]string, p params) reply {
	id := p.str("channelId")
	e, bad := s.allocLocked(p, id, false)
	if bad != nil {
		return *bad
	}
	if p.str("app") == "" {
		return msgErr(http.StatusBadRequest, "Application must be specified")
	}
	c := s.newChannelLocked(id, e, kindCreated)
	c.protocolID = uuid.NewString()
	c.caller = e.callerID
	c.app = p.str("app")
	c.subscribed = true
	c.dp = dialplan{Context: e.context, Exten: "s", Priority: 1}
	if o, found := s.channels[p.str("originator")]; found {
		o.originator = true
		o.subscribed = true
	}
	vars := p.strMap("variables")
	for _, k := range sortedKeys(vars) {
		s.setVarLocked(c, k, vars[k])
	}
	resp := c.json()
	var args []string
	if a := p.str("appArgs"); a != "" {
		args = strings.Split(a, ",")
	}
	data := strings.Join(append([]string{c.app}, args...), ",")
	c.dp.App, c.dp.AppData = "Stasis", data
	s.chanEventLocked(c, "ChannelDialplan", nil, object{{"dialplan_app", "Stasis"}, {"dialplan_app_data", data}})
	c.dp.App, c.dp.AppData = "", ""
	s.enterStasisLocked(c, args)
	return ok(resp)
}

func hDial(s *Server, pv map[string]string, p params) reply {
	c, found := s.channels[pv["id"]]
	if !found {
		return msgErr(http.StatusNotFound, "Channel not found")
	}
	if !c.inStasis {
		return msgErr(http.StatusConflict, "Channel not in Stasis application")
	}
	if c.kind != kindCreated || c.state != "Down" {
		return msgErr(http.StatusConflict, "Channel is not in the 'Down' state")
	}
	if o, ok := s.channels[p.str("caller")]; ok {
		s.setConnectedLocked(c, o.caller)
	}
	timeout := time.Duration(p.integer("timeout", 30)) * time.Second
	s.dialLocked(c, c.endpoint.resource, "", timeout)
	return noContent()
}

// stasisChannelLocked finds a channel the app controls (404 / 409).
func (s *Server) stasisChannelLocked(id string) (*channel, *reply) {
	c, found := s.channels[id]
	if !found {
		r := msgErr(http.StatusNotFound, "Channel not found")
		return nil, &r
	}
	if !c.inStasis {
		r := msgErr(http.StatusConflict, "Channel not in Stasis application")
		return nil, &r
	}
	return c, nil
}

func hAnswer(s *Server, pv map[string]string, _ params) reply {
	c, bad := s.stasisChannelLocked(pv["id"])
	if bad != nil {
		return *bad
	}
	// res_stasis_answer.c: stasis_app_send_command, the 204 waits for
	// the channel's thread (a playback on it)
	return s.waitThreadsLocked([]string{"channel:" + c.id}, func(int) (reply, bool) {
		if c.state != "Up" {
			c.rtp = true
			s.setStateLocked(c, "Up")
		}
		return reply{}, false
	}, func() reply { return msgErr(http.StatusInternalServerError, "Failed to answer channel") })
}

func hRing(s *Server, pv map[string]string, _ params) reply {
	if _, bad := s.stasisChannelLocked(pv["id"]); bad != nil {
		return *bad
	}
	return noContent()
}

func hRingStop(s *Server, pv map[string]string, p params) reply { return hRing(s, pv, p) }

func hMOHStart(s *Server, pv map[string]string, p params) reply {
	c, bad := s.stasisChannelLocked(pv["id"])
	if bad != nil {
		return *bad
	}
	class := mohClassLocked(c, p.str("mohClass"))
	// control.c stasis_app_control_moh_start: queued on the channel's
	// thread, 204 at once
	s.onThreadLocked("channel:"+c.id, func() bool {
		c.moh = class
		return false
	})
	return noContent()
}

// mohClassLocked is the class res_musiconhold's local_ast_moh_start
// plays on c when asked for requested: the channel's CHANNEL(musicclass)
// first, then the class asked for, then "default".
func mohClassLocked(c *channel, requested string) string {
	switch {
	case c.musicClass != "":
		return c.musicClass
	case requested != "":
		return requested
	}
	return "default"
}

func hMOHStop(s *Server, pv map[string]string, _ params) reply {
	c, bad := s.stasisChannelLocked(pv["id"])
	if bad != nil {
		return *bad
	}
	s.onThreadLocked("channel:"+c.id, func() bool {
		c.moh = ""
		return false
	})
	return noContent()
}

func hHangup(s *Server, pv map[string]string, p params) reply {
	c, found := s.channels[pv["id"]]
	if !found {
		return msgErr(http.StatusNotFound, "Channel not found")
	}
	cause := 16
	if r := p.str("reason"); r != "" {
		n, valid := hangupReasons[r]
		if !valid {
			return msgErr(http.StatusBadRequest, "Invalid reason for hangup reason provided")
		}
		cause = n
	}
	if p.has("reason_code") {
		cause = p.integer("reason_code", cause)
	}
	s.hangupLocked(c, hangupReq{pre: object{{"cause", 32}, {"soft", true}}, cause: cause})
	return noContent()
}

func hChannelPlay(s *Server, pv map[string]string, p params) reply {
	c, bad := s.stasisChannelLocked(pv["id"])
	if bad != nil {
		return *bad
	}
	return s.playLocked("channel:"+c.id, c.app, pv["playbackId"], p)
}

func (s *Server) playLocked(target, appName, id string, p params) reply {
	media := p.list("media")
	if len(media) == 0 {
		return msgErr(http.StatusInternalServerError, "Failed to queue media for playback")
	}
	if id == "" {
		id = p.str("playbackId")
	}
	if id == "" {
		id = uuid.NewString()
	}
	if _, dup := s.playbacks[id]; dup {
		return msgErr(http.StatusConflict, "Playback with given ID already exists")
	}
	pb := s.startPlaybackLocked(id, media, target, appName)
	rep := reply{status: http.StatusCreated, body: pb.json(), headers: map[string]string{"Location": "/ari/playbacks/" + id}}
	return rep
}

func hChannelRecord(s *Server, pv map[string]string, p params) reply {
	c, bad := s.stasisChannelLocked(pv["id"])
	if bad != nil {
		return *bad
	}
	return s.recordLocked("channel:"+c.id, c.app, nil, p)
}

func (s *Server) recordLocked(target, appName string, b *bridge, p params) reply {
	name, format := p.str("name"), p.str("format")
	if name == "" || format == "" {
		return msgErr(http.StatusBadRequest, "Recording name and format are required")
	}
	// resource_channels.c / resource_bridges.c: stasis_app_control_record
	// fails with EEXIST for a recording of that name in progress, and for
	// a stored one with ifExists=fail: 409 either way (the spec's 409).
	_, live := s.liveRecs[name]
	_, exists := s.stored[name]
	if live || exists && p.str("ifExists") != "overwrite" && p.str("ifExists") != "append" {
		return msgErr(http.StatusConflict, "Recording '"+name+"' already exists and can not be overwritten")
	}
	r := &recording{name: name, format: format, target: target, app: appName, bridge: b, beep: p.boolean("beep")}
	switch t := p.str("terminateOn"); t {
	case "any":
		r.terminateOn = "0123456789ABCD*#"
	case "*", "#":
		r.terminateOn = t
	}
	maxDur := time.Duration(p.integer("maxDurationSeconds", 0)) * time.Second
	r.maxSilence = time.Duration(max(p.integer("maxSilenceSeconds", 0), 0)) * time.Second
	if b != nil {
		b.rec = r
		s.startRecordingLocked(r, maxDur)
	} else {
		// record_file runs on the channel's thread, after the media
		// queued before it
		r.state = "queued"
		s.liveRecs[name] = r
		s.onThreadLocked(target, func() bool {
			if s.liveRecs[name] != r {
				return false
			}
			r.holds = true
			s.startRecordingLocked(r, maxDur)
			return true
		})
	}
	return reply{status: http.StatusCreated, body: r.json(false, 0), headers: map[string]string{"Location": "/ari/recordings/live/" + name}}
}
