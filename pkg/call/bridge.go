package call

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// The bridge is made when the caller is already connected to whoever
// answered: one request Asterisk could not take (a 503 in a spike, an
// answer past the request timeout, a request never sent because every
// REST connection was busy) must not hang both up. Each request that
// makes it (create, add the caller, add the peer) is sent again, up to
// bridgeTries, bridgeRetry apart and then twice that: about a second in
// all, the peer on the line meanwhile. The retries run on the actor's
// own timer (bridgeRetryTimer), never blocking it.
const (
	bridgeTries = 3
	bridgeRetry = 300 * time.Millisecond
)

// bridging is a bridge being made, between the tries of its requests.
type bridging struct {
	peer *leg
	// name is the bridge's name (BridgeName), the same at every try.
	name string
	// created: Asterisk has the bridge; callerIn: the caller was added.
	created, callerIn bool
	// try counts the tries of the request in hand.
	try int
}

// bridgeWith puts the caller and the peer (the operator, or the client
// for a VIP) together and starts the recording.
func (a *actor) bridgeWith(peer *leg) {
	if !a.mayBridge(peer) {
		return
	}
	a.plays++
	a.bridgeID = fmt.Sprintf("%s-br-%s-%d", a.id, a.m.instance, a.plays) // never reuse a bridge id
	a.m.disp.BindBridge(a.bridgeID, a.inbox)
	if peer.transfer {
		// From the transfer's start (or the place in line it kept) to the
		// client's answer: the service level counts it as any wait, and
		// the bridge's name carries it across a restart.
		a.rec.WaitMS = a.waited().Milliseconds()
	}
	st := a.state
	st.Step, st.OpID, st.OpChannel, st.Bridge = StepConnected, peer.opID, peer.id, a.bridgeID
	st.BridgedAt = a.m.clock.Now() // the bridge is made now
	st.Waited = time.Duration(a.rec.WaitMS) * time.Millisecond
	a.makeBridge(&bridging{peer: peer, name: BridgeName(a.m.app, a.id, a.rec.CallerID, st)})
}

// mayBridge reports whether the caller and peer can still be bridged. A
// leg hanging up would be "added" (Asterisk answers 204 and adds
// nothing): its StasisEnd puts the caller back in line instead.
func (a *actor) mayBridge(peer *leg) bool {
	return !a.ending() && !peer.gone && !peer.hangingUp && (peer == a.op || peer == a.xfer)
}

// makeBridge sends the requests that make bridge a.bridgeID for b, from
// the first not done yet.
func (a *actor) makeBridge(b *bridging) {
	br := ari.NewKey(ari.BridgeKey, a.bridgeID)
	peer := b.peer
	if !b.created {
		b.try++
		_, err := a.m.ari.Bridge().Create(br, "mixing", b.name)
		if err != nil && b.try > 1 && pbx.StatusCode(err) != 0 && a.bridgeExists(br) {
			// An earlier try made it, answered late: Asterisk refuses
			// to create it again (500, a type given for a bridge that
			// exists; its API docs say 409).
			err = nil
		}
		if err != nil {
			if a.bridgeLater(b, "creating the bridge failed", err, createAgain(err)) {
				return
			}
			a.fail("creating the bridge failed", err)
			return
		}
		b.created, b.try = true, 0
		if a.rec.AnsweredAt.IsZero() && !a.answer() { // ringback: answered only now
			return
		}
		if !a.preferClientMusic(a.mohClass()) {
			return
		}
		a.stopCallerMedia()
		if !a.stopMOH() {
			return
		}
		if a.m.addToBridge != nil {
			// Both in one request. Asterisk adds each in turn and answers
			// 204 whether or not one was hanging up (its add comes to
			// nothing: resource_bridges.c goes on past it); a channel
			// already gone fails the request, and the one-by-one adds
			// below tell which.
			if err := a.m.addToBridge(a.bridgeID, a.id, peer.id); err == nil {
				a.bridged(br, peer)
				return
			}
		}
	}
	if !b.callerIn && b.try > 0 && a.inBridge(br, a.id) {
		b.callerIn, b.try = true, 0 // an add answered late was made
	}
	if !b.callerIn {
		b.try++
		if err := a.m.ari.Bridge().AddChannel(br, a.id); err != nil {
			// ARI answers 400 "Channel not found" here, not 404 (recording 11).
			if code := pbx.StatusCode(err); code == 400 || code == 404 {
				a.note("caller gone before the bridge")
				a.callerLeft()
				a.finish()
				return
			}
			if a.bridgeLater(b, "adding the caller to the bridge failed", err, addAgain(err)) {
				return
			}
			a.fail("adding the caller to the bridge failed", err)
			return
		}
		b.callerIn, b.try = true, 0
	}
	if b.try > 0 && a.inBridge(br, peer.id) {
		a.bridged(br, peer) // an add answered late was made
		return
	}
	b.try++
	if err := a.m.ari.Bridge().AddChannel(br, peer.id); err != nil {
		if a.bridgeLater(b, "adding the peer to the bridge failed", err, addAgain(err)) {
			return
		}
		a.log.Warn("adding the peer to the bridge failed", "leg", peer.id, "error", err)
		if peer.transfer {
			a.hangupLeg(peer)
			a.dropBridge()
			a.transferFailed("could not join the bridge")
			return
		}
		a.operatorLost("could not join the bridge")
		return
	}
	a.bridged(br, peer)
}

// bridgeLater arms the next try of b's request in hand, which failed
// with err, when it may be sent again (again) and tries are left; false
// when it is not.
func (a *actor) bridgeLater(b *bridging, what string, err error, again bool) bool {
	if !again || b.try >= bridgeTries {
		return false
	}
	in := bridgeRetry << (b.try - 1)
	a.log.Warn(what+": trying again", "bridge", a.bridgeID, "error", err, "try", b.try, "in", in)
	a.note(what + ": trying again")
	a.stopBridgeRetry()
	a.bridgeRetrying, a.bridgeRetryTimer = b, a.m.clock.NewTimer(in)
	return true
}

// retryBridge: the next try of the bridge being made is due. Nothing is
// sent when the call or the peer is leaving meanwhile: their events end
// the call or put the caller back in line.
func (a *actor) retryBridge() {
	b := a.bridgeRetrying
	a.bridgeRetrying, a.bridgeRetryTimer = nil, nil
	if b != nil && a.bridgeID != "" && a.mayBridge(b.peer) {
		a.makeBridge(b)
	}
}

func (a *actor) stopBridgeRetry() {
	if a.bridgeRetryTimer != nil {
		a.bridgeRetryTimer.Stop()
	}
	a.bridgeRetrying, a.bridgeRetryTimer = nil, nil
}

// inBridge reports whether Asterisk has channel id in bridge br (an add
// not answered in time may have been made).
func (a *actor) inBridge(br *ari.Key, id string) bool {
	d, err := a.m.ari.Bridge().Data(br)
	return err == nil && slices.Contains(d.ChannelIDs, id)
}

// bridgeExists reports whether Asterisk has bridge br.
func (a *actor) bridgeExists(br *ari.Key) bool {
	_, err := a.m.ari.Bridge().Data(br)
	return err == nil
}

// createAgain reports whether a bridge create that failed with err is
// sent again: not sent, not answered (it may have been made: the next
// try finds it), or refused 5xx. Another refusal (4xx) would be refused
// again.
func createAgain(err error) bool {
	code := pbx.StatusCode(err)
	return pbx.NotSent(err) || code == 0 || code >= http.StatusInternalServerError
}

// addAgain reports whether an add to the bridge that failed with err is
// sent again: not sent, or refused 5xx (Asterisk answers 500 only when it
// could not allocate, before adding anything), or not answered in time:
// the next try first looks whether the channel is in the bridge (the add
// was made, late) and sends it again only if not. An add still waiting
// in the channel's queue of commands (behind a playback) then runs twice:
// Asterisk answers an add of a channel already in that bridge 204, but
// takes it out and adds it again (control.c, control_swap_channel_in_bridge:
// ChannelLeftBridge, then ChannelEnteredBridge; aritest answers 204 and
// does nothing), a moment's gap rather than both parties hung up.
func addAgain(err error) bool {
	code := pbx.StatusCode(err)
	return pbx.NotSent(err) || code == 0 || code >= http.StatusInternalServerError
}
