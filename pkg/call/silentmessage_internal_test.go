package call

import (
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
)

// TestSilentMessage: with silence detection, at most 1 s of talking is a
// message nobody spoke in, whatever its duration (Asterisk takes the
// trailing silence from it: ten seconds of silence alone report 0 or 1 s);
// more is a message; without detection nothing is judged silent.
func TestSilentMessage(t *testing.T) {
	for _, tc := range []struct {
		detect            bool
		duration, talking int
		want              bool
	}{
		{true, 0, 0, true},
		{true, 1, 1, true},
		{true, 1, 0, true},
		{true, 2, 2, false},
		{true, 30, 12, false},
		{false, 0, 0, false},
		{false, 30, 0, false}, // no talking_duration reported
	} {
		a := &actor{vmDetect: tc.detect}
		r := ari.LiveRecordingData{Duration: ari.DurationSec(time.Duration(tc.duration) * time.Second), Talking: ari.DurationSec(time.Duration(tc.talking) * time.Second)}
		if got := a.silentMessage(r); got != tc.want {
			t.Errorf("detect %v, duration %d s, talking %d s: silent %v, want %v", tc.detect, tc.duration, tc.talking, got, tc.want)
		}
	}
}
