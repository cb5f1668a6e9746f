package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/call"
	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Retention deletes call recordings (and voicemails) older than their
// client's recording_retention_days from Asterisk's stored recordings and
// notes the deletion in the call record.
type Retention struct {
	Store  RetentionStore
	ARI    ari.Client
	Config func() *config.Config
	Logger *slog.Logger
	// Deployment is the deployment id (store.DeploymentID): recordings no
	// record names are deleted only if their names carry it ("": never).
	Deployment string

	// swept is, per client, the cutoff of the last complete sweep: older
	// calls were handled already. Kept in the store: a restart goes on
	// from there, not from the first call ever stored.
	swept map[string]time.Time
	// clients are the clients configured at the last sweep.
	clients map[string]bool
	// page is how many call records a sweep reads at once (0:
	// retentionPage).
	page int
	// orphansSwept: when Asterisk's stored recordings were last looked
	// through for recordings no record names (sweepOrphans).
	orphansSwept time.Time
	// known are the clients' recording_retention_days as last configured
	// and whether they are removed since, and when (kept in the store:
	// knownStored is what it holds, once read, knownRead): a client
	// removed keeps its own days for the recordings it leaves, when
	// shorter than the removed clients' default (its callers were
	// promised them), until a sweep passed its removal.
	known, knownStored map[string]store.ClientRetention
	knownRead          bool
}

// RetentionStore is what the retention reads and writes in the store
// (*store.Store).
type RetentionStore interface {
	ListCalls(store.CallFilter) ([]store.CallRecord, error)
	RecordingDeleted(id, name string, note store.CallEvent) error
	BackfillErasedRecordingsLeft() (int, error)
	ErasedRecordingsLeft() (map[string]string, error)
	RetentionSwept() (map[string]time.Time, error)
	SetRetentionSwept(map[string]time.Time) error
	RetentionDays() (map[string]store.ClientRetention, error)
	SetRetentionDays(map[string]store.ClientRetention) error
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
	return r.sweep(context.Background(), now)
}

// sweep is Sweep until ctx ends: a stop does not wait for the rest of a
// long sweep (the first after an upgrade may have a year of recordings to
// delete, a request each, up to the ARI request timeout each while
// Asterisk is slow), and a client whose sweep it cut keeps its cutoff, so
// that the next sweep, after the restart, goes on from there.
func (r *Retention) sweep(ctx context.Context, now time.Time) (int, error) {
	if !r.knownRead {
		// Read until it works: written back before, it would lose the
		// removed clients' days.
		known, err := r.Store.RetentionDays()
		if err != nil {
			r.Logger.Warn("the clients' recording retention kept could not be read: removed clients' recordings are kept the default days meanwhile", "err", err)
		} else {
			r.known, r.knownStored, r.knownRead = known, maps.Clone(known), true
		}
	}
	if r.known == nil {
		r.known = map[string]store.ClientRetention{}
	}
	if r.swept == nil {
		r.swept = map[string]time.Time{}
		saved, err := r.Store.RetentionSwept()
		if err != nil {
			r.Logger.Warn("the recording retention's progress could not be read: every call record is read again", "err", err)
		} else {
			r.swept = saved
			// The clients of the sweep that stored them: one removed from
			// the configuration while toritsugi was stopped is handled as
			// one removed since the last sweep (below).
			r.clients = map[string]bool{}
			for id := range saved {
				if id != removedClients && !r.known[id].Removed {
					r.clients[id] = true
				}
			}
		}
	}
	before := maps.Clone(r.swept)
	defer func() {
		if !maps.Equal(before, r.swept) {
			if err := r.Store.SetRetentionSwept(r.swept); err != nil {
				r.Logger.Warn("the recording retention's progress could not be kept: the next start reads the calls again", "err", err)
			}
		}
		if r.knownRead && !maps.Equal(r.knownStored, r.known) {
			// Compared with what the store holds: a write that failed
			// is made again at the next sweep.
			if err := r.Store.SetRetentionDays(r.known); err != nil {
				r.Logger.Warn("the clients' recording retention could not be kept: tried again at the next sweep", "err", err)
			} else {
				r.knownStored = maps.Clone(r.known)
			}
		}
	}()
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
			// there now, and to its own, below, from its first call (a
			// record stored late, after its sweep had passed its start).
			delete(r.swept, id)
			delete(r.swept, removedClients)
			if k, ok := r.known[id]; ok {
				k.Removed, k.RemovedAt = true, now.UTC()
				r.known[id] = k
			}
		}
	}
	r.clients = clients
	for _, cl := range cfg.Clients {
		r.known[cl.ID] = store.ClientRetention{Days: cl.RecordingRetentionDays}
	}
	for id, k := range r.known {
		if k.Removed && k.RemovedAt.IsZero() {
			// Removed before its removal was dated (an earlier
			// version): dated now, later than it was.
			k.RemovedAt = now.UTC()
			r.known[id] = k
		}
		if k.Removed && k.Days < config.DefaultRecordingRetentionDays {
			// Removed, its days shorter than the removed clients': its
			// recordings go at its own.
			sweeps = append(sweeps, retentionSweep{id, k.Days})
			if _, ok := r.swept[id]; !ok {
				r.swept[id] = time.Time{}
			}
		}
	}
	for id := range clients {
		if _, ok := r.swept[id]; !ok {
			// No sweep of it complete yet: from the first call. Kept
			// (zero) with the cutoffs all the same, so that a restart
			// knows it was configured: removed while toritsugi was
			// stopped, its calls go back to the removed clients' sweep.
			r.swept[id] = time.Time{}
		}
	}
	sweeps = append(sweeps, retentionSweep{removedClients, config.DefaultRecordingRetentionDays})
	longest := 0
	for _, cl := range sweeps {
		longest = max(longest, cl.days)
	}
	for _, cl := range sweeps {
		if err := ctx.Err(); err != nil {
			return deleted, errors.Join(append(errs, fmt.Errorf("retention: sweep stopped: %w", err))...)
		}
		cutoff := now.Add(-config.Days(cl.days))
		ok := true
		err := r.eachCall(ctx, store.CallFilter{ClientID: cl.id, From: r.swept[cl.id], To: cutoff}, func(c store.CallRecord) {
			if c.Recording == "" || cl.id == removedClients && clients[c.ClientID] {
				return // nothing to delete, or swept with its client
			}
			err := r.ARI.StoredRecording().Delete(ari.NewKey(ari.StoredRecordingKey, c.Recording))
			if err != nil && !pbx.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("retention: delete recording %s: %w", c.Recording, err))
				ok = false
				return
			}
			// On the record as stored now, not this copy read a page ago
			// (a caller erased meanwhile must not get their number back).
			if err := r.Store.RecordingDeleted(c.ID, c.Recording, store.CallEvent{At: now, What: fmt.Sprintf("recording %s deleted after %d days", c.Recording, cl.days)}); err != nil {
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
	for id, k := range r.known {
		if !k.Removed {
			continue
		}
		sweep := removedClients
		if k.Days < config.DefaultRecordingRetentionDays {
			sweep = id
		}
		if cutoff, ok := r.swept[sweep]; ok && !cutoff.Before(k.RemovedAt) {
			// A complete sweep passed its removal: its calls, all
			// started before, are past its days, their recordings
			// deleted. Kept, its entries and its own sweep (a read
			// every hour) stayed for ever.
			delete(r.known, id)
			delete(r.swept, id)
		}
	}
	n, err := r.sweepErasedLeft(ctx, now)
	deleted += n
	if err != nil {
		errs = append(errs, err)
	}
	if err := ctx.Err(); err != nil {
		return deleted, errors.Join(append(errs, fmt.Errorf("retention: sweep stopped: %w", err))...)
	}
	if r.orphansSwept.IsZero() || now.Sub(r.orphansSwept) >= orphanEvery || now.Before(r.orphansSwept) {
		// Once a day, done or not: a list too long for the request's
		// time (a year of recordings) is not asked for every hour.
		r.orphansSwept = now
		n, err := r.sweepOrphans(ctx, now, longest)
		deleted += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return deleted, errors.Join(errs...)
}

// sweepErasedLeft deletes the recordings erasures could not delete (the
// ARI link was down): their records, erased, say no longer whose they
// were, and a caller's voice must not wait for their client's retention.
func (r *Retention) sweepErasedLeft(ctx context.Context, now time.Time) (int, error) {
	if n, err := r.Store.BackfillErasedRecordingsLeft(); err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	} else if n > 0 {
		r.Logger.Info("recordings earlier erasures left found: deleted now", "recordings", n)
	}
	left, err := r.Store.ErasedRecordingsLeft()
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	deleted := 0
	var errs []error
	for name, id := range left {
		if err := ctx.Err(); err != nil {
			return deleted, errors.Join(append(errs, fmt.Errorf("retention: sweep stopped: %w", err))...)
		}
		err := r.ARI.StoredRecording().Delete(ari.NewKey(ari.StoredRecordingKey, name))
		if err != nil && !pbx.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("retention: delete recording %s an erasure left: %w", name, err))
			continue
		}
		if err := r.Store.RecordingDeleted(id, name, store.CallEvent{At: now, What: "recording " + name + " deleted (erasure)"}); err != nil {
			errs = append(errs, fmt.Errorf("retention: %w", err))
			continue
		}
		deleted++
	}
	return deleted, errors.Join(errs...)
}

// orphanEvery is how often the sweep looks through all of Asterisk's
// stored recordings (a long list: every recording kept).
const orphanEvery = 24 * time.Hour

// sweepOrphans deletes the recordings this deployment's calls made that
// are older than the longest retention of any client (and a day more):
// past every client's, whichever call made them. Most are deleted before,
// at their own client's retention, through their call record; these are
// the ones no record names (a store restored from a backup older than
// them). A recording not named as this deployment's calls name theirs
// (made by another toritsugi, or anything else, on the same Asterisk) is
// never touched.
func (r *Retention) sweepOrphans(ctx context.Context, now time.Time, longestDays int) (int, error) {
	if r.Deployment == "" {
		return 0, nil
	}
	madeAt := call.RecordingsOf(r.Deployment)
	keys, err := r.ARI.StoredRecording().List(nil)
	if err != nil {
		return 0, fmt.Errorf("retention: list stored recordings: %w", err)
	}
	cutoff := now.Add(-config.Days(longestDays + 1))
	deleted := 0
	var errs []error
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return deleted, errors.Join(append(errs, fmt.Errorf("retention: sweep stopped: %w", err))...)
		}
		made, ok := madeAt(k.ID)
		if !ok || !made.Before(cutoff) {
			continue
		}
		err := r.ARI.StoredRecording().Delete(ari.NewKey(ari.StoredRecordingKey, k.ID))
		if err != nil && !pbx.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("retention: delete recording %s: %w", k.ID, err))
			continue
		}
		r.Logger.Info("recording past every client's retention deleted", "recording", k.ID, "made", made)
		deleted++
	}
	return deleted, errors.Join(errs...)
}

// retentionPage is how many call records a sweep reads at once: the first
// sweep after a start reads every record older than the cutoff.
const retentionPage = 500

// eachCall calls fn for every call f selects, in start order, reading
// retentionPage records at a time, until ctx ends (its error then).
func (r *Retention) eachCall(ctx context.Context, f store.CallFilter, fn func(store.CallRecord)) error {
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
			if err := ctx.Err(); err != nil {
				return err
			}
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
		n, err := r.sweep(ctx, time.Now())
		switch {
		case ctx.Err() != nil:
			r.Logger.Info("recording retention stopped with the controller (a sweep cut short goes on at the next start)", "deleted", n)
			return
		case err != nil:
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
