package aritest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Answer is how an operator softphone answers an INVITE.
type Answer int

const (
	// AnswerAfter rings (180) and answers (200) after EndpointBehavior.Delay.
	AnswerAfter Answer = iota
	// NoAnswer rings until the dial timeout or a cancel (cause 19, 480).
	NoAnswer
	// Busy answers 486 Busy Here after Delay (cause 17).
	Busy
	// Unavailable answers 480 Temporarily Unavailable after Delay (cause
	// 19, as chan_pjsip maps it): many desk phones on do-not-disturb.
	Unavailable
)

// EndpointBehavior is what a softphone does when it is rung.
type EndpointBehavior struct {
	Answer Answer
	Delay  time.Duration // ring time before answering (or before 486)
	// HangupAfter, when > 0, makes the softphone send BYE that long after it
	// answered (sipp's uas-answer -d).
	HangupAfter time.Duration
}

// ErrNoEndpoint is returned for an endpoint the fake does not know.
var ErrNoEndpoint = errors.New("aritest: no such endpoint")

type endpoint struct {
	tech, resource string
	name           string // tech/resource, made once: events look it up per subscriber
	online         bool   // reachable: registered, and answering qualify (Qualify)
	registered     bool   // its contact is registered
	behavior       EndpointBehavior
	context        string
	callerID       idName
	port           int
	channels       []string
}

func (e *endpoint) key() string { return e.name }

func (e *endpoint) json(*Server) object {
	state := "offline"
	if e.online {
		state = "online"
	}
	return object{{"technology", e.tech}, {"resource", e.resource}, {"state", state}, {"channel_ids", strs(append([]string(nil), e.channels...))}}
}

func (s *Server) addEndpointLocked(name string, registered bool, b EndpointBehavior, ctx, cidName, cidNum string) *endpoint {
	tech, res, _ := strings.Cut(name, "/")
	e, ok := s.endpoints[name]
	if !ok {
		e = &endpoint{tech: tech, resource: res, name: tech + "/" + res}
		s.endpoints[name] = e
		s.epOrder = append(s.epOrder, name)
	}
	e.online, e.registered, e.behavior, e.context = registered, registered, b, ctx
	e.callerID = idName{Name: cidName, Number: cidNum}
	var n int
	if _, err := fmt.Sscanf(strings.TrimLeft(res, "abcdefghijklmnopqrstuvwxyz"), "%d", &n); err == nil && n >= 1000 {
		e.port = 5170 + n - 1000
	}
	return e
}

// AddEndpoint adds an operator endpoint such as "PJSIP/op1001" (context
// from-operators, caller id "Operator 1001" <1001>).
func (s *Server) AddEndpoint(name string, registered bool, b EndpointBehavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, res, _ := strings.Cut(name, "/")
	num := strings.TrimLeft(res, "abcdefghijklmnopqrstuvwxyz")
	s.addEndpointLocked(name, registered, b, "from-operators", "Operator "+num, num)
	s.bumpLocked()
}

// SetRemoteNumber sets how a number outside answers when a channel is
// originated to it through the trunk (endpoint "PJSIP/<number>@trunk").
// Numbers never set ring until the originate's timeout.
func (s *Server) SetRemoteNumber(number string, b EndpointBehavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remotes == nil {
		s.remotes = map[string]EndpointBehavior{}
	}
	s.remotes[number] = b
}

func (s *Server) remoteLocked(number string) EndpointBehavior {
	if b, ok := s.remotes[number]; ok {
		return b
	}
	return EndpointBehavior{Answer: NoAnswer}
}

// endpointLocked is the endpoint named name (ErrNoEndpoint if none).
func (s *Server) endpointLocked(name string) (*endpoint, error) {
	e, ok := s.endpoints[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoEndpoint, name)
	}
	return e, nil
}

// SetEndpointBehavior changes how an endpoint answers from its next call on.
func (s *Server) SetEndpointBehavior(name string, b EndpointBehavior) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.endpointLocked(name)
	if err != nil {
		return err
	}
	e.behavior = b
	return nil
}

// Register makes an endpoint reachable (a REGISTER with a contact): apps
// subscribed to it get EndpointStateChange, PeerStatusChange and
// ContactStatusChange.
func (s *Server) Register(name string) error { return s.setRegistered(name, true) }

// Unregister removes the endpoint's contact (REGISTER Expires: 0).
func (s *Server) Unregister(name string) error { return s.setRegistered(name, false) }

func (s *Server) setRegistered(name string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.endpointLocked(name)
	if err != nil {
		return err
	}
	if e.registered == on {
		return nil
	}
	e.registered, e.online = on, on
	peer, contact := "Unreachable", "Removed"
	if on {
		peer, contact = "Reachable", "NonQualified"
	}
	s.contactEventsLocked(e, peer, contact, "0")
	return nil
}

// contactEventsLocked raises what a contact's change raises in recording
// 12: EndpointStateChange, PeerStatusChange, ContactStatusChange.
func (s *Server) contactEventsLocked(e *endpoint, peer, contact, rtt string) {
	s.endpointEventLocked(e, "EndpointStateChange", nil)
	s.endpointEventLocked(e, "PeerStatusChange", object{{"peer", object{{"peer_status", peer}}}})
	s.endpointEventLocked(e, "ContactStatusChange", object{{"contact_info", object{
		{"uri", fmt.Sprintf("sip:%s@127.0.0.1:%d", e.resource, e.port)},
		{"contact_status", contact}, {"aor", e.resource}, {"roundtrip_usec", rtt},
	}}})
	s.bumpLocked()
}

// Qualify is the answer to Asterisk's qualify (an OPTIONS every
// qualify_frequency) of a registered endpoint's contact changing: none
// (the phone's network dropped for a moment: Unreachable, the endpoint
// offline, not rung) or one again (Reachable, with its round trip). Its
// contact stays registered throughout. Not recorded (the recordings'
// endpoints did not qualify): the events are those of recording 12's
// registration, with pjsip_options.c's statuses.
func (s *Server) Qualify(name string, reachable bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.endpointLocked(name)
	if err != nil {
		return err
	}
	if !e.registered {
		return fmt.Errorf("aritest: %s has no contact to qualify", name)
	}
	if e.online == reachable {
		return nil
	}
	e.online = reachable
	if reachable {
		s.contactEventsLocked(e, "Reachable", "Reachable", "1843")
	} else {
		s.contactEventsLocked(e, "Unreachable", "Unreachable", "0")
	}
	return nil
}
