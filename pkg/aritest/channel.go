package aritest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// chanKind says how a channel was made; it decides which events the app
// sees around Stasis (README rule 2).
type chanKind int

const (
	kindInbound    chanKind = iota // a trunk call that entered Stasis from the dialplan
	kindQueue                      // a trunk call in app_queue, never in Stasis
	kindOriginated                 // POST /channels
	kindCreated                    // POST /channels/create
)

type idName struct{ Name, Number string }

func (n idName) json() object { return object{{"name", n.Name}, {"number", n.Number}} }

// appendJSON appends what json's encoding would be.
func (n idName) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendPlain(b, n.Name)
	b = append(b, `,"number":`...)
	b = appendPlain(b, n.Number)
	return append(b, '}')
}

type dialplan struct {
	Context, Exten string
	Priority       int
	App, AppData   string
}

func (d dialplan) json() object {
	return object{{"context", d.Context}, {"exten", d.Exten}, {"priority", d.Priority}, {"app_name", d.App}, {"app_data", d.AppData}}
}

type channel struct {
	id, name, protocolID string
	state                string
	caller, connected    idName
	homeConnected        idName // connected line outside any bridge
	dp, dpBeforeStasis   dialplan
	created              time.Time
	kind                 chanKind
	app                  string
	subscribed           bool // the app receives this channel's events
	inStasis             bool
	args                 []string
	vars                 map[string]string
	sipHeaders           []sipHeader // of the INVITE of a call from the trunk
	bridgeID             string
	endpoint             *endpoint
	rtp                  bool // media flowed: RTPAUDIOQOS varsets at hangup
	moh                  string
	musicClass           string // CHANNEL(musicclass): preferred by every music on hold
	held                 bool   // its phone holds the call (RemoteHold)
	silent               bool   // its far end sends silence (Silence)
	answerNow            func() // while it rings: its softphone answers (RemoteAnswer)
	originator           bool   // the originator of a POST /channels/create: followed after Stasis
	dialTimeout          time.Duration
	timers               []Stopper
	hangingUp            bool // its hangup was requested (Options.HangupWindow)
	gone                 bool
}

// json is the channel as ARI shows it, encoded now: every event and most
// replies carry a channel, and building it as an object of members took
// some twenty allocations each time.
func (c *channel) json() channelJSON {
	return channelJSON{id: c.id, name: c.name, raw: c.appendJSON(make([]byte, 0, 384))}
}

// appendJSON appends the encoding the object below would have, member by
// member in Asterisk's order (TestChannelJSONAsObject compares them):
//
//	{"id", c.id}, {"name", c.name}, {"state", c.state}, {"protocol_id", c.protocolID},
//	{"caller", c.caller.json()}, {"connected", c.connected.json()}, {"accountcode", ""},
//	{"dialplan", c.dp.json()}, {"creationtime", astTime(c.created)}, {"language", "en"}
func (c *channel) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendPlain(b, c.id)
	b = append(b, `,"name":`...)
	b = appendPlain(b, c.name)
	b = append(b, `,"state":`...)
	b = appendPlain(b, c.state)
	b = append(b, `,"protocol_id":`...)
	b = appendPlain(b, c.protocolID)
	b = append(b, `,"caller":`...)
	b = c.caller.appendJSON(b)
	b = append(b, `,"connected":`...)
	b = c.connected.appendJSON(b)
	b = append(b, `,"accountcode":"","dialplan":{"context":`...)
	b = appendPlain(b, c.dp.Context)
	b = append(b, `,"exten":`...)
	b = appendPlain(b, c.dp.Exten)
	b = append(b, `,"priority":`...)
	b = strconv.AppendInt(b, int64(c.dp.Priority), 10)
	b = append(b, `,"app_name":`...)
	b = appendPlain(b, c.dp.App)
	b = append(b, `,"app_data":`...)
	b = appendPlain(b, c.dp.AppData)
	b = append(b, `},"creationtime":"`...)
	b = c.created.AppendFormat(b, astTimeLayout) // digits and signs only: no escapes
	return append(b, `","language":"en"}`...)
}

// channelJSON is a channel's encoding, with the id and name the event
// trace reads (subjectOf).
type channelJSON struct {
	id, name string
	raw      []byte
}

func (c *channel) stopTimers() {
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = nil
}

// newChannelLocked allocates a channel on an endpoint; id may be empty.
func (s *Server) newChannelLocked(id string, e *endpoint, kind chanKind) *channel {
	now := s.now()
	n := s.seq
	s.seq++
	if id == "" {
		id = fmt.Sprintf("%d.%d", now.Unix(), n)
	}
	s.nameSeq++
	c := &channel{
		id:      id,
		name:    fmt.Sprintf("%s-%08x", e.key(), s.nameSeq),
		state:   "Down",
		created: now,
		kind:    kind,
		app:     s.opts.App,
		vars:    map[string]string{},
	}
	c.endpoint = e
	s.channels[id] = c
	s.chanOrder = append(s.chanOrder, id)
	e.channels = append(e.channels, id)
	// endpoints.c ast_endpoint_add_channel publishes the endpoint's new
	// snapshot: apps subscribed to it get EndpointStateChange with the
	// channel in channel_ids (and again when it goes, endpoint_cache_clear).
	s.endpointEventLocked(e, "EndpointStateChange", nil)
	return c
}

func (s *Server) removeChannelLocked(c *channel) {
	c.gone = true
	c.stopTimers()
	delete(s.channels, c.id)
	// In place: every walk over chanOrder only reads it.
	if i := slices.Index(s.chanOrder, c.id); i >= 0 {
		s.chanOrder = slices.Delete(s.chanOrder, i, i+1)
	}
	if e := c.endpoint; e != nil {
		// In place: the endpoint's JSON copies its channels.
		if i := slices.Index(e.channels, c.id); i >= 0 {
			e.channels = slices.Delete(e.channels, i, i+1)
		}
		if !s.opts.QuietChannelEnd {
			s.endpointEventLocked(e, "EndpointStateChange", nil)
		}
	}
	if a, ok := s.apps[c.app]; ok {
		s.maybeDestroyAppLocked(a)
	}
}

// endMediaLocked ends the playbacks and recordings on channel c as its
// hangup does. In Asterisk both run on the channel's Stasis thread
// (res_stasis_playback's play_uri, res_stasis_recording's record_file):
// the hangup makes them return, PlaybackFinished and RecordingFinished
// (done, the file kept) are raised, and only then does the channel leave
// Stasis (StasisEnd). The playback is "failed": main/file.c
// waitstream_core returns -1 on the hangup, and play_on_channel's
// playback_final_update turns a -1 that is not a stop into FAILED. What
// still waited on the thread then runs, on a channel hanging up.
func (s *Server) endMediaLocked(c *channel) {
	target := "channel:" + c.id
	waiting := s.takeThreadLocked(target)
	s.cutMediaLocked(target)
	// control_dispatch_all runs what was queued behind the media, on a
	// channel that is hanging up: playbacks start and fail, variables
	// are set.
	for _, cmd := range waiting {
		if cmd.dropped != nil {
			cmd.dropped()
		}
	}
	for _, p := range s.playbacks {
		if p.target == target {
			p.stop()
			delete(s.playbacks, p.id)
		}
	}
	for _, r := range s.liveRecs {
		if r.target == target {
			delete(s.liveRecs, r.name) // queued: never started (not verified)
		}
	}
}

func (s *Server) setStateLocked(c *channel, state string) {
	if c.state == state {
		return
	}
	c.state = state
	s.chanEventLocked(c, "ChannelStateChange", nil, nil)
}

// enterStasisLocked raises StasisStart (with STASISSTATUS first for
// channels that the app already followed).
func (s *Server) enterStasisLocked(c *channel, args []string) {
	c.dpBeforeStasis = c.dp
	c.dp.App = "Stasis"
	c.dp.AppData = strings.Join(append([]string{c.app}, args...), ",")
	if c.kind == kindOriginated || c.kind == kindCreated {
		s.varsetEventLocked(c, "STASISSTATUS", "")
	}
	c.inStasis = true
	c.subscribed = true
	c.args = args
	s.chanEventLocked(c, "StasisStart", nil, object{{"args", strs(args)}})
}

var qosVars = []struct{ name, value string }{
	{"RTPAUDIOQOS", "ssrc=1725693319;themssrc=0;lp=0;rxjitter=0.000000;rxcount=0;txjitter=0.000000;txcount=71;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000"},
	{"RTPAUDIOQOSJITTER", "minrxjitter=000.000000;maxrxjitter=000.000000;avgrxjitter=000.000000;stdevrxjitter=000.000000;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;stdevtxjitter=000.000000;"},
	{"RTPAUDIOQOSLOSS", "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  stdevtxlost=000.000000;"},
	{"RTPAUDIOQOSRTT", "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;"},
	{"RTPAUDIOQOSMES", "   minrxmes=000.000000;   maxrxmes=000.000000;   avgrxmes=000.000000;   stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   avgtxmes=000.000000;   stdevtxmes=000.000000;"},
}

// hangupReq describes how a hangup started.
type hangupReq struct {
	pre       object // ChannelHangupRequest members before "type"
	cause     int    // cause of ChannelDestroyed
	techCause int
}

// hangupLocked tears a channel down with the event sequence of the
// recordings: QOS×5, ChannelHangupRequest, leaving the bridge, StasisEnd,
// then what the app still sees after Stasis. With Options.HangupWindow,
// in three stages, as Asterisk does: see hangupStagesLocked.
func (s *Server) hangupLocked(c *channel, h hangupReq) {
	if c.gone {
		return
	}
	if c.hangingUp {
		// A hangup asked of a channel already hanging up: still in the
		// app, its own ChannelHangupRequest (ast_softhangup on it again).
		if c.inStasis && h.pre != nil {
			s.chanEventLocked(c, "ChannelHangupRequest", h.pre, nil)
		}
		return
	}
	c.stopTimers()
	if c.rtp {
		for _, q := range qosVars {
			s.varsetEventLocked(c, q.name, q.value)
		}
	}
	s.chanEventLocked(c, "ChannelHangupRequest", h.pre, nil)
	if w := s.opts.HangupWindow; w > 0 {
		s.hangupStagesLocked(c, h, w)
		return
	}
	s.leaveStasisLocked(c)
	s.destroyLocked(c, h.cause, h.techCause)
}

// cutMediaLocked ends the media holding target's thread as a hangup does:
// a playback fails, a recording is kept (main/file.c's waitstream returns
// on the hangup).
func (s *Server) cutMediaLocked(target string) {
	for _, p := range s.playbacks {
		if p.target == target && p.holds {
			s.cutPlaybackLocked(p)
		}
	}
	for _, r := range s.liveRecs {
		if r.target == target && r.holds {
			s.finishRecordingLocked(r, "done")
		}
	}
}

// hangupStagesLocked ends a channel whose hangup was just requested in
// Asterisk's three stages, each lasting w:
//   - still in Stasis, its control still takes commands, which its thread
//     (leaving Stasis) never runs: an answer fails (500), a playback,
//     hold music, a variable set or a bridge add is taken (201/204) and
//     comes to nothing;
//   - StasisEnd: out of the app but not destroyed, so its commands are
//     refused with 409 (a bridge add with 422), GET still finds it;
//   - ChannelDestroyed: gone, 404.
func (s *Server) hangupStagesLocked(c *channel, h hangupReq, w time.Duration) {
	c.hangingUp = true
	target := "channel:" + c.id
	t := s.threads[target]
	if t == nil {
		t = &stasisThread{}
		s.threads[target] = t
	}
	t.stopped = true // what is sent now waits, and is dropped at StasisEnd
	// The media on the channel sees the hangup at once (main/file.c's
	// waitstream returns on it): a playback fails, a recording is kept.
	s.cutMediaLocked(target)
	s.after(w, func() {
		s.leaveStasisLocked(c)
		s.after(w, func() { s.destroyLocked(c, h.cause, h.techCause) })
	})
}

// leaveStasisLocked takes a hung-up channel out of its bridge and ends its
// media, and raises StasisEnd and what follows it in the app.
func (s *Server) leaveStasisLocked(c *channel) {
	if c.bridgeID != "" {
		if b := s.bridges[c.bridgeID]; b != nil {
			s.leaveBridgeLocked(b, c, true)
		}
	}
	s.afterStasisLocked(c)
}

// afterStasisLocked raises StasisEnd and the events that follow it while
// the channel is still up.
func (s *Server) afterStasisLocked(c *channel) {
	s.endMediaLocked(c)
	if c.inStasis {
		c.inStasis = false
		s.chanEventLocked(c, "StasisEnd", nil, nil)
		follow := c.kind == kindOriginated || c.kind == kindCreated || c.originator
		if !follow {
			c.subscribed = false
		}
		s.varsetEventLocked(c, "STASISSTATUS", "SUCCESS")
		if c.kind == kindInbound {
			s.chanEventLocked(c, "ChannelHangupRequest", object{{"cause", 16}, {"soft", true}}, nil)
		}
		if c.kind == kindOriginated {
			c.dp = c.dpBeforeStasis
		} else {
			c.dp.App, c.dp.AppData = "", ""
		}
	}
}

// destroyLocked raises ChannelDestroyed and removes the channel.
func (s *Server) destroyLocked(c *channel, cause, techCause int) {
	if c.gone {
		return
	}
	if cause == 0 {
		cause = 16
	}
	post := object{{"cause", cause}, {"cause_txt", causeText(cause)}}
	if techCause != 0 {
		post = append(post, field{"tech_cause", techCause})
	}
	s.chanEventLocked(c, "ChannelDestroyed", nil, post)
	c.subscribed = false
	s.removeChannelLocked(c)
}

func causeText(cause int) string {
	switch cause {
	case 16:
		return "Normal Clearing"
	case 17:
		return "User busy"
	case 19:
		return "User alerting, no answer"
	case 21:
		return "Call Rejected"
	case 34:
		return "Circuit/channel congestion"
	case 1:
		return "Unallocated (unassigned) number"
	case 31:
		return "Normal, unspecified"
	case 28:
		return "Invalid number format (incomplete number)"
	case 58:
		return "Bearer capability not available"
	case 127:
		return "Interworking, unspecified"
	case 38:
		return "Network out of order"
	case 26:
		return "Answered elsewhere"
	}
	return "Unknown"
}

var hangupReasons = map[string]int{
	"normal": 16, "busy": 17, "congestion": 34, "no_answer": 19, "timeout": 19, "rejected": 21,
	"unallocated": 1, "normal_unspecified": 31, "number_incomplete": 28, "codec_mismatch": 58,
	"interworking": 127, "failure": 38, "answered_elsewhere": 26,
}
