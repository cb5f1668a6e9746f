package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Retention deletes call recordings (and voicemails) older than their
// client's recording_retention_days from Asterisk's stored recordings and
// notes the deletion in the call record.
type Retention struct {
	Store  *store.Store
	ARI    ari.Client
	Config func() *config.Config
	Logger *slog.Logger

	// swept is, per client, the cutoff of the last complete sweep: older
	// calls were handled already.
	swept map[string]time.Time
	// clients are the clients configured at the last sweep.
	clients map[string]bool
	// page is how many call records a sweep reads at once (0:
	// retentionPage).
	page int
}

// removedClients keys the sweep of the calls of clients no longer
// configured (client ids are never empty).
const removedClients = ""

// retentionSweep is one client's sweep (or removedClients'): recordings
// older than days go.
type retentionSweep struct {
	id   string
	days int
}

// Sweep deletes what is due at now and returns how many recordings went.
// The recordings of a client no longer configured are kept the default
// recording_retention_days.
func (r *Retention) Sweep(now time.Time) (int, error) {
	if r.swept == nil {
		r.swept = map[string]time.Time{}
	}
	deleted := 0
	var errs []error
	cfg := r.Config()
	sweeps := make([]retentionSweep, 0, len(cfg.Clients)+1)
	for _, cl := range cfg.Clients {
		sweeps = append(sweeps, retentionSweep{cl.ID, cl.RecordingRetentionDays})
	}
	clients := make(map[string]bool, len(cfg.Clients))
	for _, cl := range cfg.Clients {
		clients[cl.ID] = true
	}
	for id := range r.clients {
		if !clients[id] {
			// Removed since the last sweep: its calls that the sweep of
			// removed clients passed while it was configured are due
			// there now.
			delete(r.swept, id)
			delete(r.swept, removedClients)
		}
	}
	r.clients = clients
	sweeps = append(sweeps, retentionSweep{removedClients, config.DefaultRecordingRetentionDays})
	for _, cl := range sweeps {
		cutoff := now.AddDate(0, 0, -cl.days)
		ok := true
		err := r.eachCall(store.CallFilter{ClientID: cl.id, From: r.swept[cl.id], To: cutoff}, func(c store.CallRecord) {
			if c.Recording == "" || cl.id == removedClients && clients[c.ClientID] {
				return // nothing to delete, or swept with its client
			}
			err := r.ARI.StoredRecording().Delete(ari.NewKey(ari.StoredRecordingKey, c.Recording))
			if err != nil && !pbx.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("retention: delete recording %s: %w", c.Recording, err))
				ok = false
				return
			}
			c.Events = append(c.Events, store.CallEvent{At: now, What: fmt.Sprintf("recording %s deleted after %d days", c.Recording, cl.days)})
			c.Recording = ""
			if err := r.Store.PutCall(c); err != nil {
				errs = append(errs, fmt.Errorf("retention: update call %s: %w", c.ID, err))
				ok = false
				return
			}
			deleted++
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("retention: list %s: %w", cl.id, err))
			continue
		}
		if ok {
			r.swept[cl.id] = cutoff
		}
	}
	return deleted, errors.Join(errs...)
}

// retentionPage is how many call records a sweep reads at once: the first
// sweep after a start reads every record older than the cutoff.
const retentionPage = 500

// eachCall calls fn for every call f selects, in start order, reading
// retentionPage records at a time.
func (r *Retention) eachCall(f store.CallFilter, fn func(store.CallRecord)) error {
	// done: the ids read that started at f.From (the next page starts
	// there again).
	done := map[string]bool{}
	page := r.page
	if page <= 0 {
		page = retentionPage
	}
	for {
		f.Limit = page + len(done)
		calls, err := r.Store.ListCalls(f)
		if err != nil {
			return err
		}
		for _, c := range calls {
			if !done[c.ID] {
				fn(c)
			}
		}
		if len(calls) < f.Limit {
			return nil
		}
		last := calls[len(calls)-1].StartedAt
		if !last.Equal(f.From) {
			clear(done)
		}
		for _, c := range calls {
			if c.StartedAt.Equal(last) {
				done[c.ID] = true
			}
		}
		f.From = last
	}
}

// Run sweeps at start and then every interval until ctx ends.
func (r *Retention) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := r.Sweep(time.Now())
		if err != nil {
			r.Logger.Warn("recording retention", "error", err)
		}
		if n > 0 {
			r.Logger.Info("recordings past retention deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
