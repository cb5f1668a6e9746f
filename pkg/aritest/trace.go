package aritest

import (
	"strings"
	"time"
)

// SentEvent is one event the fake is about to write to an events
// websocket, reported to Options.OnEventSent.
type SentEvent struct {
	Type string
	// Channel is the id of the channel the event is about: "channel" (most
	// events), "peer" (Dial) or a playback's "channel:<id>" target; "" for
	// others (endpoint events, bridge playbacks).
	Channel string
	// ChannelName is that channel's name, e.g. "PJSIP/op1001-0000002a".
	ChannelName string
	// At is real (not simulated) time, read just before the write.
	At time.Time
}

// ReceivedRequest is one REST request as it reached the fake, reported to
// Options.OnRequest before it is handled.
type ReceivedRequest struct {
	Method, Path, Query, Body string
	// At is real (not simulated) time, read when the request was read.
	At time.Time
}

// Mentions reports whether the request names id in its path, query or body
// (a command on that channel, or one that adds it to a bridge). Only whole
// ids count: "1.12" is not mentioned by "/channels/1.123".
func (r ReceivedRequest) Mentions(id string) bool {
	return id != "" && (containsID(r.Path, id) || containsID(r.Query, id) || containsID(r.Body, id))
}

// containsID finds id in s with no id character on either side.
func containsID(s, id string) bool {
	for from := 0; ; {
		i := strings.Index(s[from:], id)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(id)
		if (i == 0 || !isIDChar(s[i-1])) && (end == len(s) || !isIDChar(s[end])) {
			return true
		}
		from = i + 1
	}
}

func isIDChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_'
}

// outMsg is one queued websocket message and what tracing needs of it.
type outMsg struct {
	data []byte
	ev   SentEvent // only Type, Channel and ChannelName are set
}

// subjectOf finds the channel an event is about among its members.
func subjectOf(post object) (id, name string) {
	for _, f := range post {
		switch f.k {
		case "channel", "peer":
			switch c := f.v.(type) {
			case channelJSON:
				return c.id, c.name
			case object:
				return member(c, "id"), member(c, "name")
			}
		case "playback":
			target := ""
			switch p := f.v.(type) {
			case playbackJSON:
				target = p.target
			case object:
				target = member(p, "target_uri")
			}
			if t, ok := strings.CutPrefix(target, "channel:"); ok {
				return t, ""
			}
		}
	}
	return "", ""
}

func member(o object, k string) string {
	for _, f := range o {
		if f.k == k {
			s, _ := f.v.(string)
			return s
		}
	}
	return ""
}
