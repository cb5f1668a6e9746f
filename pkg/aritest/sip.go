package aritest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// ErrDeclined is returned by IncomingCall when Stasis() fails because the
// application does not exist (no websocket, no channels): the caller gets
// 603 Decline.
var ErrDeclined = errors.New("aritest: call declined (603): stasis app does not exist")

// ErrAppInactive is returned by IncomingCall when Stasis() fails because
// the application has no websocket connected (res_stasis.c
// stasis_app_exec: "Stasis app '%s' not active"): the call goes on in the
// dialplan after Stasis() (asterisk-conf's fallback), never reaching the
// application.
var ErrAppInactive = errors.New("aritest: stasis app not active: the call stays in the dialplan")

// ErrNoChannel is returned for a channel id the fake does not know.
var ErrNoChannel = errors.New("aritest: no such channel")

type callOpts struct {
	callerName string
	args       []string
	headers    []sipHeader
}

// sipHeader is one header of a call's INVITE, for PJSIP_HEADER(read,…).
type sipHeader struct{ name, value string }

// CallOption changes an incoming call.
type CallOption func(*callOpts)

// WithCallerName sets the caller's display name (default none).
func WithCallerName(name string) CallOption { return func(o *callOpts) { o.callerName = name } }

// WithStasisArgs sets the Stasis arguments the dialplan passes (default
// [did]), e.g. "inbound", "3", "to" for a gateway's extension.
func WithStasisArgs(args ...string) CallOption {
	return func(o *callOpts) { o.args = args }
}

// WithSIPHeader sets a header of the call's INVITE, replacing the fake's
// own of that name: an inbound call has To <sip:did@127.0.0.1>, From
// <sip:caller@127.0.0.1> and Call-ID by default.
func WithSIPHeader(name, value string) CallOption {
	return func(o *callOpts) { o.headers = append(o.headers, sipHeader{name, value}) }
}

// IncomingCall places a trunk call to did from callerNumber. The dialplan
// runs Stasis(app, did): StasisStart in state Ring with args [did]. A did
// of the form "q<DID>" goes to app_queue instead: an answered channel that
// never enters Stasis (used to test "Channel not in Stasis application").
func (s *Server) IncomingCall(did, callerNumber string, opts ...CallOption) (string, error) {
	var o callOpts
	for _, f := range opts {
		f(&o)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bumpLocked()
	trunk := s.endpoints["PJSIP/trunk"]
	queue := strings.HasPrefix(did, "q")
	if a, ok := s.apps[s.opts.App]; !queue {
		switch {
		case !ok:
			return "", ErrDeclined
		case a.sock == nil:
			return "", ErrAppInactive
		}
	}
	c := s.newChannelLocked("", trunk, kindInbound)
	c.protocolID = fmt.Sprintf("1-%d@127.0.0.1", 20000+rand.IntN(10000))
	c.caller = idName{Name: o.callerName, Number: callerNumber}
	if queue {
		c.kind = kindQueue
		c.state = "Up"
		c.rtp = true
		c.dp = dialplan{Context: "queue-baseline", Exten: strings.TrimPrefix(did, "q"), Priority: 2, App: "Answer"}
		// Answer() takes a moment before Queue() runs (recording 11)
		c.timers = append(c.timers, s.after(650*time.Millisecond, func() {
			c.dp.Priority, c.dp.App, c.dp.AppData = 3, "Queue", "baseline,,,,300"
		}))
		return c.id, nil
	}
	c.state = "Ring"
	c.dp = dialplan{Context: "from-trunk", Exten: did, Priority: 2}
	c.sipHeaders = []sipHeader{
		{"Call-ID", c.protocolID},
		{"From", fmt.Sprintf("<sip:%s@127.0.0.1>;tag=%08x", callerNumber, rand.Uint32())},
		{"To", "<sip:" + did + "@127.0.0.1>"},
	}
	for _, h := range o.headers {
		c.setSIPHeader(h)
	}
	args := []string{did}
	if o.args != nil {
		args = o.args
	}
	s.enterStasisLocked(c, args)
	return c.id, nil
}

// OutboundCall is a call the softphone of endpoint places itself (an
// operator calling a customer back): a channel on the endpoint that runs
// the dialplan and never enters Stasis. Apps subscribed to the endpoint
// see it in channel_ids; RemoteHangup ends it.
func (s *Server) OutboundCall(endpoint, number string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bumpLocked()
	e, ok := s.endpoints[endpoint]
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrNoEndpoint, endpoint)
	}
	c := s.newChannelLocked("", e, kindInbound)
	c.protocolID = fmt.Sprintf("1-%d@127.0.0.1", 20000+rand.IntN(10000))
	c.caller = idName{Number: e.resource}
	c.state = "Ring"
	c.dp = dialplan{Context: "from-operators", Exten: number, Priority: 1, App: "Dial"}
	return c.id, nil
}

// RemoteHangup is a BYE from the far end: ChannelHangupRequest without a
// cause, then StasisEnd and the rest.
func (s *Server) RemoteHangup(channelID string) error {
	return s.farEnd(channelID, func(c *channel) error {
		s.hangupLocked(c, hangupReq{cause: 16})
		return nil
	})
}

// farEnd runs f, under the state lock, on a live channel: something its far
// end did.
func (s *Server) farEnd(channelID string, f func(c *channel) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.bumpLocked()
	c, ok := s.channels[channelID]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoChannel, channelID)
	}
	return f(c)
}

// RemoteAnswer is the 200 OK of a softphone that is ringing (a channel
// toritsugi dialled), whatever its behaviour said: it answers now.
func (s *Server) RemoteAnswer(channelID string) error {
	return s.farEnd(channelID, func(c *channel) error {
		if c.answerNow == nil || c.state != "Ringing" {
			return fmt.Errorf("aritest: channel %s is not ringing", channelID)
		}
		answer := c.answerNow
		c.answerNow = nil
		answer()
		return nil
	})
}

// RemoteHold is the re-INVITE of a phone putting its call on hold
// (a=sendonly), or taking it off hold: ChannelHold (with the endpoint's
// moh_suggest, "default" unless set) or ChannelUnhold on its channel, as
// res_pjsip_sdp_rtp queues them, only when the hold state changes. A
// two-party bridge (simple_bridge, native_rtp) passes the hold to the
// other channel, which plays music on hold (chan_pjsip's
// AST_CONTROL_HOLD: ast_moh_start with the suggested class, after its
// own CHANNEL(musicclass)) until the unhold; softmix (three members: a
// recorded bridge) only clears the holder's talking flag, and the other
// channels hear nothing (bridge_softmix.c softmix_bridge_write_control).
func (s *Server) RemoteHold(channelID string, hold bool) error {
	return s.farEnd(channelID, func(c *channel) error {
		if c.state != "Up" {
			return fmt.Errorf("aritest: channel %s is not answered", channelID)
		}
		if c.held == hold {
			return nil
		}
		c.held = hold
		if hold {
			s.chanEventLocked(c, "ChannelHold", object{{"musicclass", "default"}}, nil)
		} else {
			s.chanEventLocked(c, "ChannelUnhold", nil, nil)
		}
		b := s.bridges[c.bridgeID]
		if c.bridgeID == "" || b == nil || b.tech == "softmix" {
			return nil
		}
		for _, m := range s.membersLocked(b) {
			switch {
			case m == c:
			case hold:
				m.moh = mohClassLocked(m, "default")
			default:
				m.moh = ""
			}
		}
		return nil
	})
}

// Silence: the far end of a channel stops talking (sends silence: a
// caller who says nothing after the beep) or talks again. A recording of
// the channel with maxSilenceSeconds ends once the silence lasts longer
// (main/app.c __ast_play_and_record), and reports the talking and
// silence it detected. Channels talk until told otherwise.
func (s *Server) Silence(channelID string, silent bool) error {
	return s.farEnd(channelID, func(c *channel) error {
		c.silent = silent
		now := s.now()
		for _, r := range s.liveRecs {
			if r.target == "channel:"+c.id {
				s.silenceLocked(r, silent, now)
			}
		}
		return nil
	})
}

// SendDTMF is an RFC 2833 digit from the far end: one ChannelDtmfReceived
// at the end of the digit.
//
// The digit must be one of 0-9, A-D, * and #, and the channel answered:
// RFC 4733 digits travel in the media, which a call not answered (a
// ringback caller hearing 180 Ringing) does not have.
func (s *Server) SendDTMF(channelID, digit string) error {
	if len(digit) != 1 || !strings.Contains("0123456789ABCD*#", digit) {
		return fmt.Errorf("aritest: %q is not a DTMF digit", digit)
	}
	return s.farEnd(channelID, func(c *channel) error {
		if c.state != "Up" {
			return fmt.Errorf("aritest: channel %s is not answered (%s): no media carries a digit", channelID, c.state)
		}
		s.chanEventLocked(c, "ChannelDtmfReceived", nil, object{{"digit", digit}, {"duration_ms", 280}})
		// A digit of the recording's terminateOn ends it, the message kept
		// (ast_play_and_record_full's acceptdtmf).
		for _, r := range s.liveRecs {
			if r.target == "channel:"+c.id && r.state == "recording" && !r.duringBeep(s.now()) && digit != "" && strings.Contains(r.terminateOn, digit) {
				s.finishRecordingLocked(r, "done")
			}
		}
		return nil
	})
}

// dialLocked rings an outbound channel as its endpoint's behaviour says.
// firstString is the dialstring of the first Dial event, later holds the
// dialstring of the following ones ("" for POST .../dial).
func (s *Server) dialLocked(c *channel, firstString, later string, timeout time.Duration) {
	e := c.endpoint
	b := e.behavior
	dial := func(status, ds string) {
		if !c.subscribed {
			return
		}
		s.emitLocked(c.app, "Dial", nil, object{{"dialstatus", status}, {"forward", ""}, {"dialstring", ds}, {"peer", c.json()}})
	}
	c.timers = append(c.timers, s.after(0, func() {
		if c.gone {
			return
		}
		dial("", firstString)
		if b.Answer == Busy || b.Answer == Unavailable {
			// 486: recording 06. 480: not recorded; chan_pjsip's
			// hangup_sip2cause gives cause 19, app_dial's status for it
			// NOANSWER.
			cause, code, status := 17, 486, "BUSY"
			if b.Answer == Unavailable {
				cause, code, status = 19, 480, "NOANSWER"
			}
			c.timers = append(c.timers, s.after(ringDelay+b.Delay, func() {
				if c.gone {
					return
				}
				s.chanEventLocked(c, "ChannelHangupRequest", object{{"cause", cause}, {"tech_cause", code}}, nil)
				dial(status, later)
				s.endLegLocked(c, cause, code)
			}))
			return
		}
		c.timers = append(c.timers, s.after(ringDelay, func() {
			if c.gone {
				return
			}
			s.setStateLocked(c, "Ringing")
			dial("RINGING", later)
			c.answerNow = func() {
				c.stopTimers()
				s.answerLegLocked(c, b, later, dial)
			}
		}))
		if b.Answer == AnswerAfter && b.Delay < timeout {
			c.timers = append(c.timers, s.after(max(b.Delay, ringDelay), func() {
				if !c.gone {
					s.answerLegLocked(c, b, later, dial)
				}
			}))
			return
		}
		c.timers = append(c.timers, s.after(timeout, func() {
			if !c.gone {
				s.endLegLocked(c, 19, 480)
			}
		}))
	}))
}

// ringDelay is the time from the INVITE to the softphone's 180 (or 486).
const ringDelay = 3 * time.Millisecond

// answerLegLocked is the softphone's 200 OK.
func (s *Server) answerLegLocked(c *channel, b EndpointBehavior, later string, dial func(status, ds string)) {
	s.setStateLocked(c, "Up")
	c.rtp = true
	dial("ANSWER", later)
	if c.kind == kindOriginated {
		if a := s.apps[c.app]; a == nil || a.sock == nil {
			// Stasis() fails on the answered channel ("not active"), and
			// an originated channel has no dialplan after it: it hangs up.
			s.hangupLocked(c, hangupReq{cause: 16})
			return
		}
		s.enterStasisLocked(c, c.args)
	}
	if b.HangupAfter > 0 {
		c.timers = append(c.timers, s.after(b.HangupAfter, func() {
			if !c.gone {
				s.hangupLocked(c, hangupReq{cause: 16})
			}
		}))
	}
}

// endLegLocked ends an outbound leg that failed (busy, no answer).
func (s *Server) endLegLocked(c *channel, cause, tech int) {
	c.stopTimers()
	s.afterStasisLocked(c)
	s.destroyLocked(c, cause, tech)
}
