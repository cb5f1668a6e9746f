package sipphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// ErrRejected wraps a non-2xx final answer to an INVITE.
var ErrRejected = errors.New("call rejected")

// CallerConfig configures a Caller's SIP endpoint.
type CallerConfig struct {
	EndpointConfig
	Clock Clock
}

// CallOptions describes one call.
type CallOptions struct {
	// To is the request URI, e.g. sip:0312345678@127.0.0.1:5060.
	To string
	// From is the calling number (From user part).
	From string
	// DTMF digits to send as RFC 4733 events after DTMFDelay.
	DTMF      string
	DTMFDelay time.Duration
	// Hold is how long to stay connected; zero waits for the peer's BYE.
	Hold time.Duration
	// RingTimeout bounds the wait for a final answer (CANCEL after); zero is 60 s.
	RingTimeout time.Duration
	// Username and Password answer a 401/407 digest challenge.
	Username, Password string
	Media              MediaMode
}

// CallResult is what one call measured. Durations are zero when the event
// did not happen.
type CallResult struct {
	StatusCode int
	Reason     string
	// Trying, Ringing and Answered are measured from sending the INVITE.
	Trying, Ringing, Answered time.Duration
	// FirstRTP is measured from the 200 OK to the first RTP packet received.
	FirstRTP time.Duration
	// Talk is the time between the 200 OK and the end of the call.
	Talk time.Duration
	// HungUpBy is "local" or "remote" for answered calls.
	HungUpBy string
	Media    MediaStats
	Remote   SessionDescription
}

// Caller places trunk-side calls from one local SIP endpoint. It is safe
// for concurrent Calls.
type Caller struct {
	ep      *endpoint
	dialogs *sipgo.DialogClientCache
	clock   Clock
	log     *slog.Logger
}

// NewCaller binds the SIP endpoint. Close releases it.
func NewCaller(ctx context.Context, cfg CallerConfig) (*Caller, error) {
	c := &Caller{clock: clockOr(cfg.Clock)}
	ep, err := newEndpoint(ctx, cfg.EndpointConfig, func(e *endpoint) {
		e.srv.OnBye(c.onBye)
		c.dialogs = sipgo.NewDialogClientCache(e.cli, e.contact(""))
	})
	if err != nil {
		return nil, err
	}
	c.ep, c.log = ep, ep.log
	return c, nil
}

// Addr is the local SIP address.
func (c *Caller) Addr() netip.AddrPort { return c.ep.addr }

// Close shuts the endpoint down.
func (c *Caller) Close() error { return c.ep.Close() }

func (c *Caller) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := c.dialogs.ReadBye(req, tx); err != nil {
		c.log.Debug("BYE outside a dialog", "err", err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	}
}

// Call places one call and returns when it is over. A non-2xx answer yields
// an error wrapping ErrRejected with StatusCode set in the result.
func (c *Caller) Call(ctx context.Context, o CallOptions) (CallResult, error) {
	var res CallResult
	recipient, err := parseTarget(o.To, c.ep.transport)
	if err != nil {
		return res, err
	}
	rtp, err := ListenRTP(c.ep.addr.Addr(), c.clock, c.log)
	if err != nil {
		return res, err
	}
	defer rtp.Close()

	offer := SessionDescription{SessionID: rand.Uint64N(1 << 62), Version: 1, Addr: rtp.LocalAddr(), Codecs: DefaultCodecs()}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: o.From, Host: c.ep.addr.Addr().String()}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: recipient.User, Host: recipient.Host}, Params: sip.NewParams()}
	contact := c.ep.contact(o.From)

	ringTimeout := o.RingTimeout
	if ringTimeout <= 0 {
		ringTimeout = 60 * time.Second
	}
	ringCtx, cancelRing := context.WithTimeout(ctx, ringTimeout)
	defer cancelRing()

	start := c.clock.Now()
	dlg, err := c.dialogs.Invite(ringCtx, recipient, offer.Marshal(), from, to, &contact,
		sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		return res, fmt.Errorf("send INVITE: %w", err)
	}
	defer dlg.Close()

	var answeredAt time.Time
	err = dlg.WaitAnswer(ringCtx, sipgo.AnswerOptions{
		Username: o.Username,
		Password: o.Password,
		OnResponse: func(r *sip.Response) error {
			at := c.clock.Now()
			switch {
			case r.StatusCode == sip.StatusTrying && res.Trying == 0:
				res.Trying = at.Sub(start)
			case (r.StatusCode == sip.StatusRinging || r.StatusCode == sip.StatusSessionInProgress) && res.Ringing == 0:
				res.Ringing = at.Sub(start)
			case r.IsSuccess():
				res.Answered, answeredAt = at.Sub(start), at
			}
			res.StatusCode, res.Reason = r.StatusCode, r.Reason
			return nil
		},
	})
	if err != nil {
		var dr *sipgo.ErrDialogResponse
		if errors.As(err, &dr) {
			res.StatusCode, res.Reason = dr.Res.StatusCode, dr.Res.Reason
			return res, fmt.Errorf("%w: %d %s", ErrRejected, dr.Res.StatusCode, dr.Res.Reason)
		}
		return res, fmt.Errorf("wait for answer: %w", err)
	}
	if err := dlg.Ack(ctx); err != nil {
		return res, fmt.Errorf("send ACK: %w", err)
	}
	return c.talk(ctx, dlg, rtp, o, res, answeredAt)
}

// talk runs media on an answered call until Hold elapses, the peer hangs up
// or ctx ends, then hangs up if still connected.
func (c *Caller) talk(ctx context.Context, dlg *sipgo.DialogClientSession, rtp *RTPSession, o CallOptions, res CallResult, answeredAt time.Time) (CallResult, error) {
	answer, err := ParseSDP(dlg.InviteResponse.Body())
	if err != nil {
		c.hangup(ctx, dlg)
		return res, fmt.Errorf("answer SDP: %w", err)
	}
	res.Remote = answer
	rtp.SetRemote(answer)
	mediaCtx, stopMedia := context.WithCancel(ctx)
	mediaDone := make(chan struct{})
	go func() {
		defer close(mediaDone)
		if err := rtp.Run(mediaCtx, o.Media); err != nil {
			c.log.Warn("rtp ended", "err", err)
		}
	}()
	if o.DTMF != "" {
		go func() {
			select {
			case <-time.After(o.DTMFDelay):
				if err := rtp.SendDTMF(o.DTMF); err != nil {
					c.log.Warn("dtmf", "err", err)
				}
			case <-mediaCtx.Done():
			}
		}()
	}
	var hold <-chan time.Time
	if o.Hold > 0 {
		t := time.NewTimer(o.Hold)
		defer t.Stop()
		hold = t.C
	}
	select {
	case <-hold:
		res.HungUpBy = "local"
	case <-ctx.Done():
		res.HungUpBy = "local"
	case <-dlg.Context().Done():
		res.HungUpBy = "remote"
	}
	res.Talk = c.clock.Now().Sub(answeredAt)
	stopMedia()
	<-mediaDone
	res.Media = rtp.Stats()
	if !res.Media.FirstRecvAt.IsZero() {
		res.FirstRTP = res.Media.FirstRecvAt.Sub(answeredAt)
	}
	if res.HungUpBy == "local" {
		if err := c.hangup(ctx, dlg); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (c *Caller) hangup(ctx context.Context, dlg *sipgo.DialogClientSession) error {
	byeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := dlg.Bye(byeCtx); err != nil {
		return fmt.Errorf("send BYE: %w", err)
	}
	return nil
}
