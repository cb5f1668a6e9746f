package store

import (
	"errors"
	"testing"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"
)

func TestWritesFailing(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name                 string
		failedAt, lastOK, at time.Time
		want                 bool
	}{
		{"never failed", time.Time{}, t0, t0, false},
		{"never failed, never written", time.Time{}, time.Time{}, t0, false},
		{"the last commit failed", t0, t0.Add(-time.Second), t0.Add(time.Hour), true},
		{"failed, nothing written since", t0, time.Time{}, t0.Add(time.Hour), true},
		{"a later commit worked, within the minute", t0, t0.Add(time.Second), t0.Add(59 * time.Second), true},
		{"a later commit worked, a minute on", t0, t0.Add(time.Second), t0.Add(time.Minute), false},
	} {
		if got := writesFailing(c.failedAt, c.lastOK, c.at); got != c.want {
			t.Errorf("%s: writesFailing = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestWriteHealthCountsCommitsOnly: a transaction's own error (a record
// refused) and a store closed say nothing of the disk.
func TestWriteHealthCountsCommitsOnly(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	refused := errors.New("refused")
	disk := errors.New("write toritsugi.db: no space left on device")
	var h writeHealth
	h.note(t0, refused, refused)
	h.note(t0, bolterrors.ErrDatabaseNotOpen, nil)
	h.note(t0, nil, nil)
	if err := h.failing(t0); err != nil {
		t.Fatalf("failing after a refused record and a closed store: %v", err)
	}
	h.note(t0.Add(time.Second), disk, nil)
	if err := h.failing(t0.Add(2 * time.Second)); !errors.Is(err, disk) {
		t.Fatalf("failing after a failed commit: %v, want %v", err, disk)
	}
	h.note(t0.Add(3*time.Second), nil, nil)
	if err := h.failing(t0.Add(time.Minute)); !errors.Is(err, disk) {
		t.Errorf("a minute after the failure, with a commit since: %v, want still %v", err, disk)
	}
	if err := h.failing(t0.Add(time.Second + time.Minute)); err != nil {
		t.Errorf("a minute and more after it: %v, want nil", err)
	}
}
