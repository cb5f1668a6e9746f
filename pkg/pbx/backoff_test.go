package pbx

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	tests := []struct {
		n        int
		r        float64
		min, max time.Duration
	}{
		{1, 0, 50 * time.Millisecond, 50 * time.Millisecond},
		{1, 0.999999, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 0.5, 150 * time.Millisecond, 150 * time.Millisecond},
		{3, 0, 200 * time.Millisecond, 200 * time.Millisecond},
		{5, 0.999999, 800 * time.Millisecond, 1600 * time.Millisecond},
		{6, 0.999999, time.Second, 2 * time.Second}, // capped
		{60, 0, time.Second, time.Second},           // no overflow for large n
	}
	for _, tt := range tests {
		b.Rand = func() float64 { return tt.r }
		got := b.Delay(tt.n)
		if got < tt.min || got > tt.max {
			t.Errorf("Delay(%d) with r=%v = %v, want in [%v, %v]", tt.n, tt.r, got, tt.min, tt.max)
		}
	}
}

func TestBackoffJitterSpreads(t *testing.T) {
	b := Backoff{Min: time.Second, Max: time.Second}
	seen := map[time.Duration]bool{}
	for range 50 {
		d := b.Delay(1)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("delay %v outside [0.5s, 1s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter produced only %d distinct delays out of 50", len(seen))
	}
}
