package aritest

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// ChannelSnapshot is a copy of a channel's state for assertions.
type ChannelSnapshot struct {
	ID, Name, State string
	CallerNumber    string
	CallerName      string
	Vars            map[string]string
	BridgeID        string
	InStasis        bool
	MOHClass        string   // "" when no music on hold
	Playing         []string // media URIs of playbacks on the channel
}

func (s *Server) snapshotLocked(c *channel) ChannelSnapshot {
	snap := ChannelSnapshot{
		ID: c.id, Name: c.name, State: c.state, CallerNumber: c.caller.Number, CallerName: c.caller.Name,
		Vars: maps.Clone(c.vars), BridgeID: c.bridgeID, InStasis: c.inStasis, MOHClass: c.moh,
	}
	for _, p := range s.playbacks {
		if p.target == "channel:"+c.id {
			snap.Playing = append(snap.Playing, p.media)
		}
	}
	return snap
}

// BridgeSnapshot is a copy of a bridge's state for assertions.
type BridgeSnapshot struct {
	ID, Technology string
	Members        []string // its channels' ids, in join order (no internal channel)
	Recorded       bool     // a recording's Recorder channel is in it
	MOHClass       string   // the class POST /bridges/{id}/moh plays to it; "" when none
}

// Bridge returns one bridge.
func (s *Server) Bridge(id string) (BridgeSnapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bridges[id]
	if !ok {
		return BridgeSnapshot{}, false
	}
	return BridgeSnapshot{ID: b.id, Technology: b.tech, Members: slices.Clone(b.members), Recorded: b.recorder != "", MOHClass: b.mohClass}, true
}

// Channels lists the live channels, oldest first.
func (s *Server) Channels() []ChannelSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ChannelSnapshot, 0, len(s.chanOrder))
	for _, id := range s.chanOrder {
		out = append(out, s.snapshotLocked(s.channels[id]))
	}
	return out
}

// Channel returns one live channel.
func (s *Server) Channel(id string) (ChannelSnapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[id]
	if !ok {
		return ChannelSnapshot{}, false
	}
	return s.snapshotLocked(c), true
}

// Requests lists the REST requests answered so far, in order (with
// Options.RequestLogLimit, only the latest: between half the limit and
// the limit).
func (s *Server) Requests() []RequestLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestLog(nil), s.requests...)
}

// WaitFor blocks until cond holds (it is re-checked after every state
// change) or ctx ends. cond runs without the server lock held.
func (s *Server) WaitFor(ctx context.Context, cond func(*Server) bool) error {
	for {
		s.mu.Lock()
		ch := s.changedLocked()
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("aritest: wait: %w", ctx.Err())
		}
	}
}

// WaitConnected blocks until n websocket connections have been accepted in
// total since the server started.
func (s *Server) WaitConnected(ctx context.Context, n int) error {
	return s.WaitFor(ctx, func(s *Server) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.wsConnects >= n
	})
}
