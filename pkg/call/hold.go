package call

import (
	"net/http"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// A phone that puts the other party on hold sends a re-INVITE, and
// Asterisk raises ChannelHold on its channel. In a two-party bridge
// Asterisk passes the hold on: the other channel plays its music on hold
// (the caller's CHANNEL(musicclass), the client's class, set by
// preferClientMusic). A conversation being recorded has a third member,
// the recorder, and Asterisk mixes it with softmix, which passes no hold
// on (bridge_softmix.c): the held party would hear silence, a dead line to
// a caller. In such a bridge the call plays the client's music on hold to
// the bridge itself (POST /bridges/{id}/moh: an announcer joins it) while
// either party holds; the recording has the music in it too.

// holdChanged: the phone of channel id put its call on hold (held) or
// took it off.
func (a *actor) holdChanged(id string, held bool) {
	if a.done || a.bridgeID == "" || a.state.Step != StepConnected || (id != a.id && id != a.state.OpChannel) {
		return
	}
	if held {
		if a.holding == nil {
			a.holding = map[string]bool{}
		}
		a.holding[id] = true
	} else {
		delete(a.holding, id)
	}
	switch {
	case held && a.rec.Recording != "" && !a.bridgeMOH:
		if err := a.m.ari.Bridge().MOH(ari.NewKey(ari.BridgeKey, a.bridgeID), a.mohClass()); err != nil {
			a.log.Warn("music on hold to the recorded conversation failed", "bridge", a.bridgeID, "error", err)
			return
		}
		a.bridgeMOH = true
		a.note("on hold: music on hold played into the recorded conversation")
	case !held && len(a.holding) == 0 && (a.bridgeMOH || a.rec.Recording != ""):
		// Also when this controller did not start it: one that stopped
		// during the hold may have (409 when nothing plays).
		wasOurs := a.bridgeMOH
		a.bridgeMOH = false
		err := a.m.ari.Bridge().StopMOH(ari.NewKey(ari.BridgeKey, a.bridgeID))
		switch {
		case err == nil:
			a.note("off hold: music on hold stopped")
		case pbx.StatusCode(err) == http.StatusConflict && !wasOurs:
		default:
			a.log.Warn("stopping the music on hold of the recorded conversation failed", "bridge", a.bridgeID, "error", err)
		}
	}
}
