package call

import (
	"net/http"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// A phone that puts the other party on hold sends a re-INVITE, and
// Asterisk raises ChannelHold on its channel. In a two-party bridge
// (simple_bridge, native_rtp) Asterisk passes the hold on: the other
// channel plays its music on hold (the caller's CHANNEL(musicclass), the
// client's class, set by preferClientMusic). A conversation being
// recorded has a third member, the recorder, and Asterisk mixes it with
// softmix, which passes no hold on (bridge_softmix.c): the held party
// would hear silence, a dead line to a caller. In a softmix bridge the
// call plays the client's music on hold to the bridge itself (POST
// /bridges/{id}/moh: an announcer joins it) while either party holds;
// the recording has the music in it too. The bridge's technology, read
// at the hold, decides: a recording whose request went unanswered may
// never have started, and a two-party bridge given an announcer would
// turn softmix and pass the unhold on to nobody.

// stopMOHTries is how many times a failed stop of the bridge's music is
// sent (stopMOHRetry apart): music left over a conversation is worse
// than silence during a hold.
const (
	stopMOHTries = 5
	stopMOHRetry = 2 * time.Second
)

// holdChanged: the phone of channel id put its call on hold (held) or
// took it off.
func (a *actor) holdChanged(id string, held bool) {
	if a.done || a.bridgeID == "" || a.state.Step != StepConnected || (id != a.id && id != a.state.OpChannel) {
		return
	}
	if !held {
		delete(a.holding, id)
		if len(a.holding) == 0 && a.bridgeMOH {
			a.bridgeMOH = false
			a.stopBridgeMOH(a.bridgeID, 1)
		}
		return
	}
	if a.holding == nil {
		a.holding = map[string]bool{}
	}
	a.holding[id] = true
	if a.bridgeMOH {
		return
	}
	br := ari.NewKey(ari.BridgeKey, a.bridgeID)
	d, err := a.m.ari.Bridge().Data(br)
	switch {
	case err != nil:
		a.log.Warn("reading the bridge at a hold failed: its music is left to Asterisk", "bridge", a.bridgeID, "error", err)
		return
	case d.Technology != "softmix":
		return // Asterisk passes the hold on
	}
	if err := a.m.ari.Bridge().MOH(br, a.mohClass()); err != nil {
		a.log.Warn("music on hold to the recorded conversation failed", "bridge", a.bridgeID, "error", err)
		return
	}
	a.bridgeMOH = true
	a.note("on hold: music on hold played into the recorded conversation")
}

// stopBridgeMOH stops the music on hold of bridge, this call's, asking
// again (stopMOHRetry later, up to stopMOHTries) when Asterisk could not
// be told: not when none plays (409, or the bridge is gone), nor once the
// call is over or holding again.
func (a *actor) stopBridgeMOH(bridge string, try int) {
	err := a.m.ari.Bridge().StopMOH(ari.NewKey(ari.BridgeKey, bridge))
	switch code := pbx.StatusCode(err); {
	case err == nil:
		a.note("off hold: music on hold stopped")
	case code == http.StatusConflict || code == http.StatusNotFound:
	case try >= stopMOHTries:
		a.log.Error("stopping the music on hold of the recorded conversation failed: it plays on", "bridge", bridge, "error", err)
	default:
		a.log.Warn("stopping the music on hold of the recorded conversation failed: asking again", "bridge", bridge, "error", err)
		if a.mohRetry != nil {
			a.mohRetry.Stop()
		}
		a.mohRetry, a.mohRetryBridge, a.mohRetryTry = a.m.clock.NewTimer(stopMOHRetry), bridge, try+1
	}
}
