package jst

import (
	"testing"
	"time"
)

func TestIn(t *testing.T) {
	at := time.Date(2026, 11, 30, 23, 50, 0, 0, time.UTC)
	if got := In(at); got.Format(time.RFC3339) != "2026-12-01T08:50:00+09:00" || !got.Equal(at) {
		t.Fatalf("In(%v) = %v", at, got)
	}
	if got := In(time.Time{}); !got.IsZero() || got.Location() != time.UTC {
		t.Fatalf("In(zero) = %v in %v", got, got.Location())
	}
}
