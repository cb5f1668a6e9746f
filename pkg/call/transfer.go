package call

import (
	"fmt"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// VIP warm transfer: the client's own phone is called through the trunk
// while the caller holds; the client hears a whisper, then both are
// bridged. If the client does not answer within transfer_timeout (or is
// busy), the caller joins the operator queue with the time the transfer
// began as their place in line.

func (a *actor) transferToClient() {
	if a.done || a.callerGone {
		return
	}
	a.state.EnqueuedAt = a.m.clock.Now()
	a.state.Step = StepTransfer
	if !a.saveState() {
		return
	}
	a.startMOH()
	if a.legs == nil {
		a.legs = map[string]*leg{}
	}
	a.plays++
	l := &leg{id: fmt.Sprintf("%s-tx-%s-%d", a.id, a.m.instance, a.plays), transfer: true}
	a.legs[l.id] = l
	a.m.disp.BindChannel(l.id, a.inbox)
	endpoint := a.m.config().DialString(a.client.TransferTo)
	timeout := max(int(a.client.TransferTimeout.Seconds()), 1)
	_, err := a.m.ari.Channel().Originate(nil, ari.OriginateRequest{
		Endpoint: endpoint, App: a.m.app, AppArgs: "transfer," + a.id, ChannelID: l.id, Timeout: timeout,
		CallerID: fmt.Sprintf("%q <%s>", a.client.ShortName, a.transferCallerNumber()),
	})
	if err != nil {
		l.gone = true
		a.m.disp.UnbindChannel(l.id, a.inbox)
		a.log.Warn("calling the client for a VIP transfer failed", "endpoint", endpoint, "error", err)
		a.note("could not call the client: queueing")
		a.enqueue()
		return
	}
	a.note("calling the client at " + a.client.TransferTo)
}

// transferCallerNumber is the number the transfer presents to the client
// (config.Client.TransferCallerID): by default the number the VIP dialled,
// in national form, since Japanese carriers refuse or replace a caller ID
// that is not their subscriber's own.
func (a *actor) transferCallerNumber() string {
	switch a.client.TransferCallerID {
	case config.TransferCallerCaller:
		return a.rec.CallerID
	case config.TransferCallerDID, "":
		if n, err := phone.ParseNumber(a.rec.DID); err == nil {
			return config.NationalForm(n)
		}
		return a.rec.DID
	}
	return config.NationalForm(a.client.TransferCallerID)
}

// transferAnswered: the client picked up; whisper (the VIP rule's own,
// else the client's), then bridge.
func (a *actor) transferAnswered(l *leg) {
	l.answered = true
	a.xfer = l
	a.note("client answered the transfer")
	whisper := a.client.TransferWhisper
	if a.vipWhisper != "" {
		whisper = a.vipWhisper
	}
	if whisper == "" {
		a.bridgeWith(l)
		return
	}
	a.play(l.id, whisper, func(string) { a.bridgeWith(l) })
}

// transferFailed: the client did not take the call; the caller keeps the
// place in line they had when the transfer began.
func (a *actor) transferFailed(why string) {
	a.xfer = nil
	a.note("transfer to the client failed (" + why + "): queueing for an operator")
	if a.done || a.callerGone {
		return
	}
	a.requeue()
}

func (a *actor) transferResult() (store.Result, string) {
	return store.ResultTransferred, "transferred to the client at " + a.client.TransferTo
}
