package aritest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

func hBridgeList(s *Server, _ map[string]string, _ params) reply {
	out := make([]rawJSON, 0, len(s.bridgeSeq))
	for _, id := range s.bridgeSeq {
		out = append(out, s.bridges[id].json())
	}
	return ok(out)
}

func hBridgeCreate(s *Server, pv map[string]string, p params) reply {
	id := pv["bid"]
	if id == "" {
		id = p.str("bridgeId")
	}
	typ := p.str("type")
	if typ == "" {
		typ = "mixing"
	}
	valid := true
	for _, t := range strings.Split(typ, ",") {
		switch t {
		case "mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single", "sdp_label":
		default:
			valid = false
		}
	}
	if _, dup := s.bridges[id]; dup || !valid {
		shown := id
		if !valid || shown == "" {
			shown = "(null)"
		}
		return msgErr(http.StatusInternalServerError, fmt.Sprintf("Unable to create bridge. Possible duplicate bridge id '%s'", shown))
	}
	if id == "" {
		id = uuid.NewString()
	}
	b := &bridge{id: id, name: p.str("name"), typ: strings.Split(typ, ",")[0], app: s.opts.App, created: s.now(), tech: "simple_bridge"}
	if typ == "holding" {
		b.tech = "holding_bridge"
	}
	s.bridges[id] = b
	s.bridgeSeq = append(s.bridgeSeq, id)
	return ok(b.json())
}

func hBridgeGet(s *Server, pv map[string]string, _ params) reply {
	b, found := s.bridges[pv["bid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Bridge not found")
	}
	return ok(b.json())
}

func hBridgeDestroy(s *Server, pv map[string]string, _ params) reply {
	b, found := s.bridges[pv["bid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Bridge not found")
	}
	s.destroyBridgeLocked(b)
	return noContent()
}

func hBridgeAdd(s *Server, pv map[string]string, p params) reply {
	b, found := s.bridges[pv["bid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Bridge not found")
	}
	if !p.has("channel") {
		return msgErr(http.StatusBadRequest, "Missing parameter channel")
	}
	// A JSON array or a comma-separated query value; a JSON string is one
	// id, so "a,b" in a body is a channel that does not exist (recording
	// 11). Empty ids are skipped; none left: "Missing parameter channel".
	ids := p.list("channel")
	if len(ids) == 0 {
		return msgErr(http.StatusBadRequest, "Missing parameter channel")
	}
	var chans []*channel
	for _, id := range ids {
		c, ok := s.channels[id]
		if !ok {
			return msgErr(http.StatusBadRequest, "Channel not found")
		}
		if !c.inStasis {
			return msgErr(http.StatusUnprocessableEntity, "Channel not in Stasis application")
		}
		chans = append(chans, c)
	}
	for _, c := range chans {
		// rule_recording, which stasis_app_control_record registers, refuses
		// the add before it is queued
		for _, r := range s.liveRecs {
			if r.target == "channel:"+c.id {
				return msgErr(http.StatusConflict, "Channel "+c.id+" currently recording")
			}
		}
	}
	// Each channel joins on its own thread, one after the other, and the
	// 204 waits for the last (control.c app_send_command_on_condition).
	targets := make([]string, len(chans))
	for i, c := range chans {
		targets[i] = "channel:" + c.id
	}
	return s.waitThreadsLocked(targets, func(i int) (reply, bool) {
		c := chans[i]
		if s.bridges[b.id] != b {
			return msgErr(http.StatusNotFound, "Bridge not found"), true
		}
		if c.bridgeID == b.id {
			return reply{}, false
		}
		if c.bridgeID != "" {
			if old := s.bridges[c.bridgeID]; old != nil {
				s.leaveBridgeLocked(old, c, false)
			}
		}
		s.joinBridgeLocked(b, c)
		return reply{}, false
	}, func() reply {
		// the join fails on the hung-up channel, and
		// check_add_remove_channel reports only a recording as an error
		return noContent()
	})
}

func hBridgeRemove(s *Server, pv map[string]string, p params) reply {
	b, found := s.bridges[pv["bid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Bridge not found")
	}
	if !p.has("channel") {
		return msgErr(http.StatusBadRequest, "Missing parameter channel")
	}
	var chans []*channel
	ids := p.list("channel") // as in hBridgeAdd
	if len(ids) == 0 {
		return msgErr(http.StatusBadRequest, "Missing parameter channel")
	}
	for _, id := range ids {
		c, ok := s.channels[id]
		if !ok {
			return msgErr(http.StatusBadRequest, "Channel not found")
		}
		if !c.inStasis {
			return msgErr(http.StatusUnprocessableEntity, "Channel not in Stasis application")
		}
		if c.bridgeID != b.id {
			return msgErr(http.StatusUnprocessableEntity, "Channel not in this bridge")
		}
		chans = append(chans, c)
	}
	for _, c := range chans {
		s.leaveBridgeLocked(b, c, false)
	}
	return noContent()
}

func hBridgePlay(s *Server, pv map[string]string, p params) reply {
	b, found := s.bridges[pv["bid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Bridge not found")
	}
	return s.playLocked("bridge:"+b.id, b.app, pv["playbackId"], p)
}

// hBridgeMOHStart: resource_bridges.c ast_ari_bridges_start_moh, on the
// HTTP thread (no channel's): the bridge's announcer plays the class
// asked for (it has no CHANNEL(musicclass) of its own), "default" when
// none is.
func hBridgeMOHStart(s *Server, pv map[string]string, p params) reply {
	b, found := s.bridges[pv["bid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Bridge not found")
	}
	class := p.str("mohClass")
	if class == "" {
		class = "default"
	}
	s.mohJoinLocked(b, class)
	return noContent()
}

// hBridgeMOHStop: ast_ari_bridges_stop_moh; 409 when no music on hold
// started by POST .../moh plays.
func hBridgeMOHStop(s *Server, pv map[string]string, _ params) reply {
	b, found := s.bridges[pv["bid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Bridge not found")
	}
	if !s.mohLeaveLocked(b) {
		return msgErr(http.StatusConflict, "Bridge isn't playing music")
	}
	return noContent()
}

func hBridgeRecord(s *Server, pv map[string]string, p params) reply {
	b, found := s.bridges[pv["bid"]]
	if !found {
		return msgErr(http.StatusNotFound, "Bridge not found")
	}
	return s.recordLocked("bridge:"+b.id, b.app, b, p)
}
