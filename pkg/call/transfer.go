package call

import (
	"fmt"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// VIP warm transfer: the client's own phone is called through the trunk
// while the caller holds; the client hears a whisper, then both are
// bridged. If the client does not answer within transfer_timeout (or is
// busy), the caller joins the operator queue with the time the transfer
// began as their place in line.

func (a *actor) transferToClient() {
	if a.ending() {
		return
	}
	a.state.EnqueuedAt = a.m.clock.Now()
	a.state.Step = StepTransfer
	if !a.saveState() || !a.startMOH() {
		return
	}
	if a.legs == nil {
		a.legs = map[string]*leg{}
	}
	a.plays++
	l := &leg{id: fmt.Sprintf("%s"+transferLegMark+"%s-%d", a.id, a.m.instance, a.plays), transfer: true}
	a.legs[l.id] = l
	a.m.disp.BindChannel(l.id, a.inbox)
	endpoint := a.m.config().DialString(a.client.TransferTo)
	timeout := max(int(a.client.TransferTimeout.Seconds()), 1)
	_, err := a.m.ari.Channel().Originate(nil, ari.OriginateRequest{
		Endpoint: endpoint, App: a.m.app, AppArgs: "transfer," + a.id, ChannelID: l.id, Timeout: timeout,
		CallerID: callerID(a.client.ShortName, a.transferCallerNumber()),
	})
	if err != nil {
		a.log.Warn("calling the client for a VIP transfer failed", "endpoint", endpoint, "error", err)
		a.note("could not call the client: queueing")
		if pbx.NotSent(err) || pbx.StatusCode(err) == 500 {
			// No channel: Asterisk never got the request, or could not
			// allocate one.
			l.gone = true
			a.m.disp.UnbindChannel(l.id, a.inbox)
		} else {
			// A timeout or a transient error: the channel may exist all
			// the same (a slow trunk). Kept bound and cancelled, so that
			// its StasisStart hangs it up rather than bridging the
			// client with a caller who went to the queue.
			l.cancelled = true
			_ = a.m.ari.Channel().Hangup(ari.NewKey(ari.ChannelKey, l.id), "normal")
		}
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
	n := a.client.TransferCallerID // a number of the service's
	switch n {
	case config.TransferCallerCaller:
		n = a.rec.CallerID
	case config.TransferCallerDID, "":
		n = a.rec.DID
	}
	if national := phone.ParseCallerID(n).National(); national != "" {
		return national // the form the carrier takes
	}
	return n
}

// transferAnswered: the client's phone was answered. With a confirm
// prompt the client is asked to press 1 first; then the whisper (the VIP
// rule's own, else the client's) and the bridge.
func (a *actor) transferAnswered(l *leg) {
	l.answered = true
	a.xfer = l
	if a.client.TransferConfirm == "" {
		a.note("client answered the transfer")
		a.transferAccepted(l)
		return
	}
	a.note("client's phone answered: asking for 1")
	a.confirming = l
	a.play(l.id, a.client.TransferConfirm, func(string) {
		if a.confirming == l {
			a.after(a.m.confirmWait, func() { a.transferNotAccepted(l) })
		}
	})
}

// transferKey: a key pressed on the client's phone while it is asked to
// press 1: 1 takes the transfer; 2 (「お受けになれない場合は2を」) declines it
// at once, the caller back in line without waiting out the confirm wait;
// other keys are not answers.
func (a *actor) transferKey(digit string) {
	l := a.confirming
	if digit != "1" && digit != "2" || l == nil {
		return
	}
	a.stopTimer()
	if a.playbackID != "" && a.playbackOn == l.id {
		a.stopPlayback(a.forgetPlayback()) // the rest of the prompt
	}
	if digit == "2" {
		a.hangupLeg(l)
		a.confirming = nil
		a.transferFailed("the client pressed 2: declined")
		return
	}
	a.confirming = nil
	a.note("client pressed 1: taking the transfer")
	a.transferAccepted(l)
}

// transferNotAccepted: no 1 within the wait (voicemail, or the client
// would not): the client's phone is hung up and the caller queued.
func (a *actor) transferNotAccepted(l *leg) {
	if a.confirming != l {
		return
	}
	a.hangupLeg(l) // cancelled: its end is no second failure
	a.transferFailed("no 1 pressed: voicemail, or the client declined")
}

// transferAccepted whispers to the client, then bridges (after telling
// the caller the call is recorded, when it is: the client's own phone is
// a conversation like an operator's).
func (a *actor) transferAccepted(l *leg) {
	whisper := a.client.TransferWhisper
	if a.vipWhisper != "" {
		whisper = a.vipWhisper
	}
	if whisper == "" {
		a.noticeThenBridge(l)
		return
	}
	a.play(l.id, whisper, func(string) { a.noticeThenBridge(l) })
}

// transferFailed: the client did not take the call; the caller keeps the
// place in line they had when the transfer began.
func (a *actor) transferFailed(why string) {
	if a.confirming != nil {
		a.confirming = nil
		a.stopTimer()
	}
	a.xfer = nil
	// A bridge being made for the client (its add refused, to be tried
	// again, when the client hung up) is given up: the caller must not
	// wait in line inside it, nor a restart read them as put through.
	a.stopBridgeRetry()
	a.dropBridge()
	a.note("transfer to the client failed (" + why + "): queueing for an operator")
	if a.done || a.callerGone {
		return
	}
	// Back in line at the place the transfer began (EnqueuedAt), with the
	// client's whole max_wait for the operators: the client's phone
	// ringing, or asking for 1, was no wait for them (a transfer longer
	// than max_wait overflowed the VIP at once, an operator free).
	a.state.WaitFrom = a.m.clock.Now()
	a.requeue()
}

func (a *actor) transferResult() (store.Result, string) {
	return store.ResultTransferred, "transferred to the client at " + a.client.TransferTo
}

// transferCause names why the client's phone was not reached, from the
// Q.850 cause of its leg: a carrier's refusal (a caller ID it will not
// present) must not read as "no answer".
func transferCause(cause int) string {
	switch cause {
	case 17:
		return "busy"
	case 0, 16, 18, 19:
		return "no answer"
	case 21:
		return "refused by the network (cause 21: a caller ID the carrier will not present? see transfer_caller_id)"
	case 1, 3, 22, 28:
		return fmt.Sprintf("number not reachable (cause %d: check transfer_to)", cause)
	case 27, 34, 38, 41, 42, 44, 47:
		return fmt.Sprintf("network failure (cause %d)", cause)
	}
	return fmt.Sprintf("no answer (cause %d)", cause)
}
