package sipphone

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// onInvite is one incoming call, from ringing to hang-up, on sipgo's
// handler goroutine.
func (o *OperatorPhone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	o.mu.Lock()
	if o.closing {
		o.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
		return
	}
	o.calls.Add(1)
	o.mu.Unlock()
	defer o.calls.Done()

	ev := OperatorEvent{User: req.Recipient.User, CallID: req.CallID().Value()}
	if f := req.From(); f != nil {
		ev.From = f.Address.User
	}
	dlg, err := o.dialogs.ReadInvite(req, tx)
	if err != nil {
		o.log.Debug("bad INVITE", "err", err)
		return
	}
	defer dlg.Close()
	o.emitCall(ev, "invite", 0)
	_ = dlg.Respond(sip.StatusTrying, "Trying", nil)
	_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)

	var answer <-chan time.Time
	if !o.cfg.NoAnswer {
		t := time.NewTimer(o.cfg.AnswerAfter)
		defer t.Stop()
		answer = t.C
	}
	select {
	case <-dlg.Context().Done():
		o.emitCall(ev, "canceled", sip.StatusRequestTerminated)
		return
	case <-o.stop.Done():
		_ = dlg.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		return
	case <-answer:
	}
	if o.cfg.Reject != 0 {
		_ = dlg.Respond(o.cfg.Reject, rejectReason(o.cfg.Reject), nil)
		o.emitCall(ev, "rejected", o.cfg.Reject)
		return
	}
	o.answer(dlg, req, ev)
}

func (o *OperatorPhone) answer(dlg *sipgo.DialogServerSession, req *sip.Request, ev OperatorEvent) {
	offer, err := ParseSDP(req.Body())
	if err != nil {
		_ = dlg.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		o.emitCall(ev, "rejected", sip.StatusNotAcceptableHere)
		return
	}
	rtp, err := ListenRTP(o.ep.addr.Addr(), o.clock, o.log)
	if err != nil {
		_ = dlg.Respond(sip.StatusInternalServerError, "Server Error", nil)
		return
	}
	defer rtp.Close()
	sd := SessionDescription{SessionID: rand.Uint64N(1 << 62), Version: 1, Addr: rtp.LocalAddr(), Codecs: answerCodecs(offer)}
	if len(sd.Codecs) == 0 {
		_ = dlg.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		o.emitCall(ev, "rejected", sip.StatusNotAcceptableHere)
		return
	}
	rtp.SetRemote(offer)
	if err := dlg.RespondSDP(sd.Marshal()); err != nil {
		o.log.Warn("answer failed", "call", ev.CallID, "err", err)
		return
	}
	o.emitCall(ev, "answered", sip.StatusOK)

	mctx, stop := context.WithCancel(o.stop)
	mdone := make(chan struct{})
	go func() {
		defer close(mdone)
		_ = rtp.Run(mctx, o.cfg.Media)
	}()
	var talk, hold <-chan time.Time
	if o.cfg.Talk > 0 {
		t := time.NewTimer(o.cfg.Talk)
		defer t.Stop()
		talk = t.C
	}
	if o.cfg.HoldAfter > 0 {
		t := time.NewTimer(o.cfg.HoldAfter)
		defer t.Stop()
		hold = t.C
	}
	local, held := true, false
wait:
	for {
		select {
		case <-dlg.Context().Done():
			local = false
			break wait
		case <-talk:
			break wait
		case <-o.stop.Done():
			break wait
		case <-hold:
			held = !held
			sd.Version++
			sd.Direction, ev.Kind = "sendonly", "hold"
			hold = time.After(o.cfg.HoldFor)
			if !held {
				sd.Direction, ev.Kind = "sendrecv", "unhold"
				hold = nil
			}
			ev.Err = o.reinvite(dlg, sd)
			o.emitCall(ev, ev.Kind, 0)
			ev.Err = nil
		}
	}
	stop()
	<-mdone
	if local {
		bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := dlg.Bye(bctx)
		cancel()
		ev.Err = err
		o.emitCall(ev, "local-bye", 0)
	} else {
		o.emitCall(ev, "remote-bye", 0)
	}
	ev.Err = nil
	ev.Media = rtp.Stats()
	o.emitCall(ev, "media", 0)
}

// reinvite offers sd anew in the call's dialog (a re-INVITE: hold or
// unhold), waits for the final answer and acknowledges a 2xx.
func (o *OperatorPhone) reinvite(dlg *sipgo.DialogServerSession, sd SessionDescription) error {
	ctx, cancel := context.WithTimeout(o.stop, 5*time.Second)
	defer cancel()
	inv := sip.NewRequest(sip.INVITE, dlg.InviteRequest.Contact().Address)
	inv.SetTransport(dlg.InviteRequest.Transport())
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(sd.Marshal())
	res, err := dlg.Do(ctx, inv)
	if err != nil {
		return fmt.Errorf("re-INVITE: %w", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("re-INVITE: %d %s", res.StatusCode, res.Reason)
	}
	ack := sip.NewRequest(sip.ACK, inv.Recipient)
	ack.SetTransport(inv.Transport())
	if err := dlg.WriteRequest(ack); err != nil {
		return fmt.Errorf("ACK of the re-INVITE: %w", err)
	}
	return nil
}

func (o *OperatorPhone) emitCall(ev OperatorEvent, kind string, status int) {
	ev.Kind, ev.Status = kind, status
	o.emit(ev)
}

// answerCodecs keeps the first offered G.711 codec and telephone-event.
func answerCodecs(offer SessionDescription) []Codec {
	var out []Codec
	for _, c := range offer.Codecs {
		if c.Name == "PCMU" || c.Name == "PCMA" {
			out = append(out, c)
			break
		}
	}
	if len(out) == 0 {
		return nil
	}
	if c, ok := offer.Codec("telephone-event"); ok {
		out = append(out, c)
	}
	return out
}

func rejectReason(code int) string {
	switch code {
	case sip.StatusBusyHere:
		return "Busy Here"
	case sip.StatusTemporarilyUnavailable:
		return "Temporarily Unavailable"
	}
	return "Rejected"
}
