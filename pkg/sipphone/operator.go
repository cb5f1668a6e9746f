package sipphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// OperatorAccount is one operator endpoint's digest credentials.
type OperatorAccount struct {
	User, Password string
}

// ParseAccounts reads "op1001:secret,op1002:secret".
func ParseAccounts(s string) ([]OperatorAccount, error) {
	var out []OperatorAccount
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		user, pw, ok := strings.Cut(item, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("operator account %q: want user:password", item)
		}
		out = append(out, OperatorAccount{User: user, Password: pw})
	}
	if len(out) == 0 {
		return nil, errors.New("no operator accounts")
	}
	return out, nil
}

// OperatorConfig configures an OperatorPhone.
type OperatorConfig struct {
	EndpointConfig
	// Registrar is host:port of the PBX.
	Registrar string
	Accounts  []OperatorAccount
	// Expires asked for in REGISTER; zero is 300 s. Refreshed at half the grant.
	Expires time.Duration
	// AnswerAfter is the ringing time before answering.
	AnswerAfter time.Duration
	// Reject, when non-zero (e.g. 486), is sent instead of answering.
	Reject int
	// NoAnswer rings until the caller CANCELs.
	NoAnswer bool
	// Talk hangs up answered calls after this long; zero waits for BYE.
	Talk time.Duration
	// HoldAfter, when > 0, puts an answered call on hold that long after
	// the answer, as a softphone's hold key does (a re-INVITE whose SDP
	// says a=sendonly), and takes it off hold (a=sendrecv) HoldFor later
	// (zero: at once).
	HoldAfter, HoldFor time.Duration
	Media              MediaMode
	Clock              Clock
	// OnEvent, if set, is called for every OperatorEvent (from many goroutines).
	OnEvent func(OperatorEvent)
}

// OperatorEvent is one thing that happened to an operator endpoint.
type OperatorEvent struct {
	At     time.Time
	User   string
	Kind   string // registered, unregistered, register-failed, invite, answered, rejected, canceled, hold, unhold, remote-bye, local-bye, media
	CallID string
	From   string
	Status int
	Media  MediaStats
	Err    error
}

// OperatorReport counts what the operators got.
type OperatorReport struct {
	Registrations, Invites, Answered, Rejected, Canceled, RemoteBye, LocalBye int
	RTPReceived                                                               int
	DTMF                                                                      string
}

// OperatorPhone registers operator endpoints and handles the calls the PBX
// rings them with.
type OperatorPhone struct {
	cfg       OperatorConfig
	ep        *endpoint
	dialogs   *sipgo.DialogServerCache
	registrar sip.Uri
	clock     Clock
	log       *slog.Logger
	stop      context.Context
	cancel    context.CancelFunc
	calls     sync.WaitGroup

	mu      sync.Mutex
	closing bool
	report  OperatorReport
}

// NewOperatorPhone binds the SIP endpoint; Run registers and serves.
func NewOperatorPhone(ctx context.Context, cfg OperatorConfig) (*OperatorPhone, error) {
	if len(cfg.Accounts) == 0 {
		return nil, errors.New("operator phone: no accounts")
	}
	if cfg.Expires <= 0 {
		cfg.Expires = 300 * time.Second
	}
	if cfg.Registrar == "" {
		cfg.Registrar = "127.0.0.1:5060"
	}
	o := &OperatorPhone{cfg: cfg, clock: clockOr(cfg.Clock)}
	o.stop, o.cancel = context.WithCancel(context.WithoutCancel(ctx))
	ep, err := newEndpoint(ctx, cfg.EndpointConfig, func(e *endpoint) {
		o.dialogs = sipgo.NewDialogServerCache(e.cli, e.contact(""))
		e.srv.OnInvite(o.onInvite)
		e.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = o.dialogs.ReadAck(req, tx) })
		e.srv.OnBye(o.onBye)
	})
	if err != nil {
		o.cancel()
		return nil, err
	}
	o.ep, o.log = ep, ep.log
	reg, err := parseTarget(cfg.Registrar, ep.transport)
	if err != nil {
		_ = ep.Close()
		o.cancel()
		return nil, err
	}
	o.registrar = reg
	return o, nil
}

// Addr is the local SIP address (the Contact of every account).
func (o *OperatorPhone) Addr() netip.AddrPort { return o.ep.addr }

// Report returns the counters so far.
func (o *OperatorPhone) Report() OperatorReport {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.report
}

// Run registers every account, keeps the registrations fresh until ctx
// ends, then unregisters, waits for calls in progress and closes the
// endpoint. It fails early if an initial registration fails.
func (o *OperatorPhone) Run(ctx context.Context) error {
	defer o.close()
	regs := make([]*registration, len(o.cfg.Accounts))
	grants := make([]time.Duration, len(regs))
	for i, acc := range o.cfg.Accounts {
		regs[i] = newRegistration(o.ep, o.registrar, acc)
		g, err := regs[i].register(ctx, o.cfg.Expires)
		if err != nil && ctx.Err() != nil {
			// Stopped while registering (Ctrl-C, end of a test): a clean
			// stop. The registrar may have accepted this one already.
			o.unregister(ctx, regs[:i+1])
			return nil
		}
		o.emit(OperatorEvent{User: acc.User, Kind: "registered", Err: err})
		if err != nil {
			o.unregister(ctx, regs[:i])
			return err
		}
		grants[i] = g
	}
	var wg sync.WaitGroup
	for i, r := range regs {
		wg.Go(func() { o.keepRegistered(ctx, r, grants[i]) })
	}
	wg.Wait()
	o.unregister(ctx, regs)
	return nil
}

func (o *OperatorPhone) keepRegistered(ctx context.Context, r *registration, granted time.Duration) {
	t := time.NewTimer(refreshAfter(granted))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		g, err := r.register(ctx, o.cfg.Expires)
		if err != nil {
			o.emit(OperatorEvent{User: r.account.User, Kind: "register-failed", Err: err})
			g = 2 * time.Second // retry soon
		} else {
			o.emit(OperatorEvent{User: r.account.User, Kind: "registered"})
		}
		t.Reset(refreshAfter(g))
	}
}

func (o *OperatorPhone) unregister(ctx context.Context, regs []*registration) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	for _, r := range regs {
		_, err := r.register(uctx, 0)
		o.emit(OperatorEvent{User: r.account.User, Kind: "unregistered", Err: err})
	}
}

func (o *OperatorPhone) close() {
	o.mu.Lock()
	o.closing = true
	o.mu.Unlock()
	o.cancel()
	o.calls.Wait()
	_ = o.ep.Close()
}

func (o *OperatorPhone) emit(ev OperatorEvent) {
	ev.At = o.clock.Now()
	o.mu.Lock()
	r := &o.report
	switch ev.Kind {
	case "registered":
		if ev.Err == nil {
			r.Registrations++
		}
	case "invite":
		r.Invites++
	case "answered":
		r.Answered++
	case "rejected":
		r.Rejected++
	case "canceled":
		r.Canceled++
	case "remote-bye":
		r.RemoteBye++
	case "local-bye":
		r.LocalBye++
	case "media":
		r.RTPReceived += ev.Media.Received
		r.DTMF += ev.Media.DTMFReceived
	}
	o.mu.Unlock()
	if o.cfg.OnEvent != nil {
		o.cfg.OnEvent(ev)
	}
}

func (o *OperatorPhone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := o.dialogs.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	}
}
