package aritest

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

type bridge struct {
	id, name, typ string
	app           string
	tech          string
	created       time.Time
	members       []string // real channels, in join order
	recorder      string   // "Recorder/ARI-00000006;2" while a recording runs
	moh           string   // "Announcer/ARI_MOH-00000007;2" while music on hold plays to it
	mohClass      string   // the class that announcer plays
	rec           *recording
	followed      bool // the app follows it once one of its channels joined
}

// json is the bridge as ARI shows it, encoded now (as a channel's, and for
// the same reason: built as an object it took a dozen allocations).
func (b *bridge) json() rawJSON {
	return b.appendJSON(make([]byte, 0, 384))
}

// appendJSON appends the encoding the object below would have, member by
// member in Asterisk's order (TestBridgeJSONAsObject compares them):
//
//	{"id", b.id}, {"technology", b.tech}, {"bridge_type", b.typ}, {"bridge_class", "stasis"},
//	{"creator", "Stasis"}, {"name", b.name}, {"channels", strs(b.members)},
//	{"creationtime", astTime(b.created)}, {"video_mode", "talker"}
func (b *bridge) appendJSON(out []byte) []byte {
	out = append(out, `{"id":`...)
	out = appendPlain(out, b.id)
	out = append(out, `,"technology":`...)
	out = appendPlain(out, b.tech)
	out = append(out, `,"bridge_type":`...)
	out = appendPlain(out, b.typ)
	out = append(out, `,"bridge_class":"stasis","creator":"Stasis","name":`...)
	out = appendPlain(out, b.name)
	out = append(out, `,"channels":[`...)
	for i, id := range b.members {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendPlain(out, id)
	}
	out = append(out, `],"creationtime":"`...)
	out = b.created.AppendFormat(out, astTimeLayout)
	return append(out, `","video_mode":"talker"}`...)
}

// retech applies Asterisk's technology choice: softmix from three members
// on (the recorder and the music-on-hold announcer count), simple_bridge
// otherwise.
func (b *bridge) retech() {
	n := len(b.members)
	if b.recorder != "" {
		n++
	}
	if b.moh != "" {
		n++
	}
	if n >= 3 {
		b.tech = "softmix"
	} else {
		b.tech = "simple_bridge"
	}
}

// peersLocked is the BRIDGEPEER value of member c and its BRIDGEPVTCALLID.
func (s *Server) peersLocked(b *bridge, c *channel) (string, string) {
	var names []string
	var pvt string
	// Asterisk lists the bridge's channels newest first: the announcer
	// of music on hold joins after a running recorder.
	if b.moh != "" {
		names = append(names, b.moh)
	}
	if b.recorder != "" {
		names = append(names, b.recorder)
	}
	real := 0
	for _, id := range b.members {
		if id == c.id {
			continue
		}
		if o := s.channels[id]; o != nil {
			names = append(names, o.name)
			pvt = o.protocolID
			real++
		}
	}
	if len(names) != 1 || real != 1 {
		pvt = ""
	}
	return strings.Join(names, ","), pvt
}

func (s *Server) membersLocked(b *bridge) []*channel {
	out := make([]*channel, 0, len(b.members))
	for i := len(b.members) - 1; i >= 0; i-- {
		if c := s.channels[b.members[i]]; c != nil {
			out = append(out, c)
		}
	}
	return out
}

// joinBridgeLocked adds c to b with the events of recordings 03/04.
func (s *Server) joinBridgeLocked(b *bridge, c *channel) {
	c.homeConnected = c.connected
	c.bridgeID = b.id
	c.moh = ""
	b.members = append(b.members, c.id)
	b.followed = true
	b.retech()
	s.chanEventLocked(c, "ChannelEnteredBridge", nil, object{{"bridge", b.json()}})
	ms := s.membersLocked(b)
	if len(ms) != 2 {
		return
	}
	for round := 0; round < 3; round++ {
		for _, m := range ms {
			peer, pvt := s.peersLocked(b, m)
			s.varsetEventLocked(m, "BRIDGEPEER", peer)
			s.varsetEventLocked(m, "BRIDGEPVTCALLID", pvt)
		}
		// connected lines settle after the second and third rounds
		if round >= 1 {
			m := ms[round-1]
			other := ms[2-round]
			s.setConnectedLocked(m, other.caller)
		}
	}
}

func (s *Server) setConnectedLocked(c *channel, v idName) {
	if c.connected == v {
		return
	}
	c.connected = v
	s.chanEventLocked(c, "ChannelConnectedLine", nil, nil)
}

// leaveBridgeLocked removes c from b: BRIDGEPEER "", ChannelLeftBridge,
// then the remaining members' new peers and connected lines.
func (s *Server) leaveBridgeLocked(b *bridge, c *channel, _ bool) {
	idx := -1
	for i, id := range b.members {
		if id == c.id {
			idx = i
		}
	}
	if idx < 0 {
		return
	}
	s.varsetEventLocked(c, "BRIDGEPEER", "")
	b.members = append(b.members[:idx:idx], b.members[idx+1:]...)
	c.bridgeID = ""
	if s.chanEventWantedLocked(c, "ChannelLeftBridge") {
		s.chanEventLocked(c, "ChannelLeftBridge", nil, object{{"bridge", b.json()}})
	}
	b.retech()
	rest := s.membersLocked(b)
	for _, m := range rest {
		peer, _ := s.peersLocked(b, m)
		s.varsetEventLocked(m, "BRIDGEPEER", peer)
		if len(rest) == 1 {
			s.setConnectedLocked(m, m.homeConnected)
		}
	}
	if len(rest) == 0 && b.rec != nil {
		s.finishRecordingLocked(b.rec, "done")
	}
	if len(rest) == 0 && b.moh != "" {
		// Pushed with AST_BRIDGE_CHANNEL_FLAG_LONELY: alone, the announcer
		// is kicked out, and its after-bridge callback forgets it
		// (moh_after_bridge_cb): a stop then finds none (409).
		b.moh, b.mohClass = "", ""
		b.retech()
	}
}

// recorderJoinLocked adds the recording channel to a bridge.
func (s *Server) recorderJoinLocked(b *bridge) {
	s.recSeq++
	b.recorder = fmt.Sprintf("Recorder/ARI-%08x;2", s.recSeq)
	b.retech()
	ms := s.membersLocked(b)
	if len(ms) < 2 {
		return
	}
	for round := 0; round < 3; round++ {
		for _, m := range ms {
			peer, pvt := s.peersLocked(b, m)
			s.varsetEventLocked(m, "BRIDGEPEER", peer)
			if round == 0 {
				s.varsetEventLocked(m, "BRIDGEPVTCALLID", pvt)
			}
		}
	}
}

// mohJoinLocked starts music on hold of class in b (POST
// /bridges/{id}/moh): res_stasis's stasis_app_bridge_moh_channel pushes
// an Announcer channel into the bridge, named as every unreal channel is
// (the recorders' counter), once; a later start changes its class. The
// announcer is an internal channel: Asterisk publishes nothing of it to
// the application and leaves it out of the bridge's channel list (as the
// recorder of recording 03); the members' BRIDGEPEER name it.
func (s *Server) mohJoinLocked(b *bridge, class string) {
	b.mohClass = class
	if b.moh != "" {
		return
	}
	s.recSeq++
	b.moh = fmt.Sprintf("Announcer/ARI_MOH-%08x;2", s.recSeq)
	b.retech()
	s.internalChangedLocked(b)
}

// mohLeaveLocked stops b's music on hold (DELETE /bridges/{id}/moh:
// stasis_app_bridge_moh_stop hangs its announcer up); false when none
// plays.
func (s *Server) mohLeaveLocked(b *bridge) bool {
	if b.moh == "" {
		return false
	}
	b.moh, b.mohClass = "", ""
	b.retech()
	s.internalChangedLocked(b)
	return true
}

// internalChangedLocked: an internal channel joined or left b; each member
// of a call (two or more) gets its BRIDGEPEER anew.
func (s *Server) internalChangedLocked(b *bridge) {
	ms := s.membersLocked(b)
	if len(ms) < 2 {
		return
	}
	for _, m := range ms {
		peer, _ := s.peersLocked(b, m)
		s.varsetEventLocked(m, "BRIDGEPEER", peer)
	}
}

func (s *Server) destroyBridgeLocked(b *bridge) {
	// The music-on-hold announcer's after-bridge callback hangs it up.
	b.moh, b.mohClass = "", ""
	for _, c := range s.membersLocked(b) {
		s.leaveBridgeLocked(b, c, false)
	}
	if b.rec != nil {
		s.finishRecordingLocked(b.rec, "done")
	}
	// The playbacks still queued for its announcer never start; the one
	// playing holds no thread any more (a new bridge may take the id).
	s.takeThreadLocked("bridge:" + b.id)
	for id, p := range s.playbacks {
		if p.target != "bridge:"+b.id {
			continue
		}
		if p.holds {
			p.holds = false
			continue
		}
		p.stop()
		delete(s.playbacks, id)
	}
	delete(s.bridges, b.id)
	// In place, as chanOrder: every walk over bridgeSeq only reads it, and
	// a copy of hundreds of ids at each bridge's end was most of what the
	// fake allocated for it.
	if i := slices.Index(s.bridgeSeq, b.id); i >= 0 {
		s.bridgeSeq = slices.Delete(s.bridgeSeq, i, i+1)
	}
	if b.followed && s.wantsLocked(b.app, "BridgeDestroyed") {
		s.emitLocked(b.app, "BridgeDestroyed", nil, object{{"bridge", b.json()}})
	}
}
