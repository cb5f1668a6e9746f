package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Sender delivers one message to one destination. Implementations honour
// ctx (which carries the attempt timeout) and wrap ErrPermanent for errors
// that retrying cannot fix.
type Sender interface {
	Send(ctx context.Context, d Destination, m Message) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, d Destination, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, d Destination, m Message) error { return f(ctx, d, m) }

// DefaultConcurrency is the number of deliveries a Worker runs at once
// when WorkerOptions.Concurrency is zero.
const DefaultConcurrency = 8

// DefaultPerDestination is the number of deliveries to one server a
// Worker runs at once when WorkerOptions.PerDestination is zero: a server
// that stops answering holds at most that many of the worker's slots
// (each for its whole timeout), not all of them, however many
// destinations send through it (every client's email destination
// usually names one SMTP relay). Two such servers leave half the slots.
const DefaultPerDestination = 2

// storeRetryDelay is how long the worker waits after a failed bbolt read,
// and first after a failed commit of an attempt's outcome; the wait for
// the commit doubles up to storeRetryMax.
const (
	storeRetryDelay = 5 * time.Second
	storeRetryMax   = time.Minute
)

// WorkerOptions configure NewWorker.
type WorkerOptions struct {
	// Destinations resolves a destination name at send time (so a config
	// reload applies to queued entries). Required.
	Destinations func(name string) (Destination, bool)
	// DestinationUsers, if set, lists the clients whose routes name a
	// destination now: an entry of a client not among them (the name
	// given to another client's destination by a reload since the
	// message was queued) is not sent, lest one client's message reach
	// another (ErrNotTheClientsDestination; retried, as a configuration
	// may be put right). A destination no client names is sent to.
	DestinationUsers func(name string) []string
	// Senders maps Destination.Type to its channel; nil means
	// Channels(ChannelOptions{}).
	Senders map[string]Sender
	// Concurrency; zero means DefaultConcurrency.
	Concurrency int
	// PerDestination bounds the deliveries to one server at once (the
	// SMTP server, or the host of the URL; Destination.Server), whichever
	// destinations name it; zero means DefaultPerDestination.
	PerDestination int
	// Logger; nil discards.
	Logger *slog.Logger
	// OnAttempt, if set, is called after each attempt is committed, with
	// the entry as stored (delivered, pending with a new NextAt, or dead).
	OnAttempt func(Entry)
	// ShutdownGrace is how long the sends in flight when Run's context
	// ends may go on (a send cut short is sent again after the restart:
	// a second copy in a chat room or a mailbox). Zero means
	// DefaultShutdownGrace; negative, none.
	ShutdownGrace time.Duration
}

// DefaultShutdownGrace is WorkerOptions.ShutdownGrace's default.
const DefaultShutdownGrace = 5 * time.Second

// Worker sends due outbox entries. All its state is in the Outbox's bbolt
// buckets, so a new Worker after a restart carries on where the old one
// stopped.
type Worker struct {
	o       *Outbox
	resolve func(string) (Destination, bool)
	users   func(string) []string
	senders map[string]Sender
	conc    int
	perDest int
	log     *slog.Logger
	on      func(Entry)
	grace   time.Duration
}

// NewWorker returns a worker for o. Run only one per Outbox.
func NewWorker(o *Outbox, opts WorkerOptions) (*Worker, error) {
	if o == nil || opts.Destinations == nil {
		return nil, fmt.Errorf("relay: new worker: outbox and Destinations are required: %w", ErrInvalid)
	}
	w := &Worker{o: o, resolve: opts.Destinations, users: opts.DestinationUsers, senders: opts.Senders, conc: opts.Concurrency,
		perDest: opts.PerDestination, log: opts.Logger, on: opts.OnAttempt, grace: opts.ShutdownGrace}
	if w.grace == 0 {
		w.grace = DefaultShutdownGrace
	}
	if w.senders == nil {
		w.senders = Channels(ChannelOptions{Clock: o.clock})
	}
	if w.conc <= 0 {
		w.conc = DefaultConcurrency
	}
	if w.perDest <= 0 {
		w.perDest = DefaultPerDestination
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	return w, nil
}

// Run delivers entries until ctx ends, then lets the attempts in flight
// finish (for at most the shutdown grace) and returns nil. An attempt cut
// short is not counted and is sent again by the next Run.
func (w *Worker) Run(ctx context.Context) error {
	inflight := map[string]bool{}
	busy := map[string]int{}        // deliveries in flight by server
	serverOf := map[string]string{} // entry in flight → its server
	// paused holds back the destinations that answered "too many" until
	// the time they asked for: their other entries would only be refused
	// too.
	paused := map[string]time.Time{}
	done := make(chan attemptDone)
	// Sends outlive ctx by the grace: no new one starts once it ends.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	for {
		if ctx.Err() != nil {
			if len(inflight) > 0 {
				w.log.Info("relay stopping: letting the sends in flight finish", "sends", len(inflight), "at_most", max(w.grace, 0))
			}
			t := time.AfterFunc(max(w.grace, 0), cancelSends)
			for range inflight {
				<-done
			}
			t.Stop()
			return nil
		}
		var timer <-chan time.Time
		if free := w.conc - len(inflight); free > 0 {
			now := w.o.clock.Now()
			for d, until := range paused {
				// A pause more than the longest wait ahead was set
				// while the clock ran ahead (NTP set it back since).
				if !until.After(now) || until.Sub(now) > maxThrottleWait {
					delete(paused, d)
				}
			}
			picked := map[string]int{}
			servers := map[string]string{} // destination → server, this scan
			pick := func(e Entry) bool {
				if _, p := paused[e.Destination]; p {
					return false
				}
				srv, ok := servers[e.Destination]
				if !ok {
					srv = w.server(e.Destination)
					servers[e.Destination] = srv
				}
				if busy[srv]+picked[srv] >= w.perDest {
					return false
				}
				picked[srv]++
				return true
			}
			ready, next, err := w.o.due(now, inflight, pick, free)
			if err != nil {
				w.log.Error("relay scan failed", "err", err)
				timer = w.o.clock.After(storeRetryDelay)
			}
			for _, e := range ready {
				inflight[e.ID] = true
				srv := servers[e.Destination]
				serverOf[e.ID] = srv
				busy[srv]++
				go func() { done <- attemptDone{e, w.attempt(ctx, sendCtx, e)} }()
			}
			for _, until := range paused {
				if next.IsZero() || until.Before(next) {
					next = until
				}
			}
			if err == nil && !next.IsZero() {
				timer = w.o.clock.After(next.Sub(now))
			}
		}
		select {
		case <-ctx.Done():
		case d := <-done:
			e := d.entry
			delete(inflight, e.ID)
			srv := serverOf[e.ID]
			delete(serverOf, e.ID)
			if busy[srv]--; busy[srv] <= 0 {
				delete(busy, srv)
			}
			if d.pauseUntil.After(paused[e.Destination]) {
				paused[e.Destination] = d.pauseUntil
			}
		case <-w.o.kick:
		case <-timer:
		}
	}
}

// attemptDone is an attempt's end: pauseUntil, when set, is how long its
// destination asked to be left alone.
type attemptDone struct {
	entry      Entry
	pauseUntil time.Time
}

// attempt sends e once (under ctx, which a stop cancels after a grace)
// and commits the outcome, retrying the commit until run ends. It returns
// when the destination may be sent to again if it answered "too many",
// else zero.
func (w *Worker) attempt(run, ctx context.Context, e Entry) (pauseUntil time.Time) {
	err := w.send(ctx, e)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrPartlyDelivered) {
		w.log.Info("relay attempt interrupted by shutdown", "entry", e.ID, "err", err)
		return time.Time{}
	}
	rec, rerr := w.o.record(e.ID, err)
	for delay := storeRetryDelay; rerr != nil && !errors.Is(rerr, ErrNotFound); delay = min(2*delay, storeRetryMax) {
		// The outcome is known: only its commit is tried again, the
		// message is not sent again (a chat room or a mailbox would get
		// it every few seconds while the disk is full). The entry keeps
		// its slot meanwhile, so no scan picks it. Only a stop before
		// the commit works sends it again, after the restart (webhook
		// receivers dedupe on the idempotency key).
		w.log.Error("relay commit failed; the outcome is recorded again later, the message is not sent again", "entry", e.ID, "in", delay, "err", rerr)
		select {
		case <-run.Done():
			w.log.Warn("relay outcome not recorded before the stop: the entry is sent again after the restart", "entry", e.ID)
			return time.Time{}
		case <-w.o.clock.After(delay):
		}
		rec, rerr = w.o.record(e.ID, err)
	}
	if rerr != nil {
		// ErrNotFound: Outbox.Forget erased the entry while it was being
		// sent (a caller's erasure, an intake past its retention). There
		// is nothing left to record: the attempt is settled and its slot
		// free (retrying the commit held the slot until the restart, and
		// two such erasures stopped all sends to that server).
		w.log.Info("relay entry erased while it was being sent; nothing to record", "entry", e.ID,
			"sent", err == nil || errors.Is(err, ErrPartlyDelivered), "err", err)
		return time.Time{}
	}
	switch rec.State {
	case StateDelivered:
		if rec.LastError != "" {
			w.log.Warn("relay delivered, some recipients refused", "entry", e.ID, "attempts", rec.Attempts, "err", rec.LastError)
			break
		}
		w.log.Info("relay delivered", "entry", e.ID, "attempts", rec.Attempts)
	case StateDead:
		w.log.Warn("relay dead-lettered", "entry", e.ID, "attempts", rec.Attempts, "err", rec.LastError)
	default:
		if until, limited := pauseFor(err, rec); limited {
			pauseUntil = until
			w.log.Warn("relay destination asked to be sent less; its messages wait", "entry", e.ID, "destination", e.Destination, "until", until, "next", rec.NextAt, "err", rec.LastError)
			break
		}
		w.log.Warn("relay attempt failed", "entry", e.ID, "attempts", rec.Attempts, "next", rec.NextAt, "err", rec.LastError)
	}
	if rec.State == StateDelivered {
		w.hastenServer(e.Destination)
	}
	if w.on != nil {
		w.on(rec)
	}
	return pauseUntil
}

// hastenServer brings forward (Outbox.Hasten) the entries waiting for a
// retry to the server destination sends to, which has just taken a
// message: after an outage of Slack or of the SMTP relay, the messages
// that failed during it go now, not hours later and after those queued
// since. The bound on sends to one server and the pause of a
// destination that asked to be sent less (Run's pick) still apply. An
// entry that keeps failing on its own (a mailbox full, one client's bad
// token or address) while others to its server are delivered is thereby
// tried again at such deliveries, up to maxFreeHastens times, and those
// attempts do not count nor advance its backoff (Outbox.record): it
// reaches the dead letters on its backoff's schedule, not after a few
// minutes of a busy server. Cheap when nothing waits: Hasten reads the
// due index and writes only when something is to be brought forward.
func (w *Worker) hastenServer(dest string) {
	srv := w.server(dest)
	servers := map[string]string{} // destination → server, this scan
	n, err := w.o.Hasten(func(d string) bool {
		s, ok := servers[d]
		if !ok {
			s = w.server(d)
			servers[d] = s
		}
		return s == srv
	})
	if err != nil {
		w.log.Error("relay: the messages waiting for a server that answers again still wait for their retry", "server", srv, "err", err)
		return
	}
	if n > 0 {
		w.log.Info("relay server answers again: the messages waiting for it go now", "server", srv, "entries", n)
	}
}

// server is the server destination name sends to (Destination.Server),
// or the name itself when it is not configured (its sends fail at once).
func (w *Worker) server(name string) string {
	if d, ok := w.resolve(name); ok {
		return d.Server()
	}
	return "destination " + name
}

func (w *Worker) send(ctx context.Context, e Entry) error {
	d, ok := w.resolve(e.Destination)
	if !ok {
		return fmt.Errorf("relay: %q: %w", e.Destination, ErrUnknownDestination)
	}
	if w.users != nil && e.Message.ClientID != "" {
		if users := w.users(e.Destination); len(users) > 0 && !slices.Contains(users, e.Message.ClientID) {
			// The entry's last error is shown to the client's own API
			// token (GET /api/v1/relay): it names no other client. The
			// operators read whose the name is in the log.
			w.log.Warn("relay destination's name is another client's now: not sent there", "entry", e.ID,
				"destination", e.Destination, "client", e.Message.ClientID, "named_by", strings.Join(users, ", "))
			return fmt.Errorf("relay: %q: %w", e.Destination, ErrNotTheClientsDestination)
		}
	}
	s, ok := w.senders[d.Type]
	if !ok {
		return fmt.Errorf("relay: %q type %q: %w", d.Name, d.Type, ErrNoChannel)
	}
	actx, cancel := context.WithTimeout(ctx, timeout(d))
	defer cancel()
	err := s.Send(actx, d, e.Message)
	if err != nil && errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("relay: %q: timed out after %v: %w", d.Name, timeout(d), err)
	}
	return err
}
