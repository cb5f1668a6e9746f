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
}

// Sweep deletes what is due at now and returns how many recordings went.
func (r *Retention) Sweep(now time.Time) (int, error) {
	if r.swept == nil {
		r.swept = map[string]time.Time{}
	}
	deleted := 0
	var errs []error
	for _, cl := range r.Config().Clients {
		cutoff := now.AddDate(0, 0, -cl.RecordingRetentionDays)
		calls, err := r.Store.ListCalls(store.CallFilter{ClientID: cl.ID, From: r.swept[cl.ID], To: cutoff})
		if err != nil {
			errs = append(errs, fmt.Errorf("retention: list %s: %w", cl.ID, err))
			continue
		}
		ok := true
		for _, c := range calls {
			if c.Recording == "" {
				continue
			}
			err := r.ARI.StoredRecording().Delete(ari.NewKey(ari.StoredRecordingKey, c.Recording))
			if err != nil && !pbx.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("retention: delete recording %s: %w", c.Recording, err))
				ok = false
				continue
			}
			c.Events = append(c.Events, store.CallEvent{At: now, What: fmt.Sprintf("recording %s deleted after %d days", c.Recording, cl.RecordingRetentionDays)})
			c.Recording = ""
			if err := r.Store.PutCall(c); err != nil {
				errs = append(errs, fmt.Errorf("retention: update call %s: %w", c.ID, err))
				ok = false
				continue
			}
			deleted++
		}
		if ok {
			r.swept[cl.ID] = cutoff
		}
	}
	return deleted, errors.Join(errs...)
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
