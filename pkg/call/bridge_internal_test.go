package call

import (
	"context"
	"fmt"
	"testing"

	"github.com/toritsugi/toritsugi/pkg/pbx"
)

// statusErr is a failed ARI request with its status (as the ari library's).
type statusErr int

func (e statusErr) Error() string { return fmt.Sprintf("Non-2XX response: %d", int(e)) }
func (e statusErr) Code() int     { return int(e) }

// TestBridgeRequestsSentAgain: which failures of the requests that make
// a bridge are sent again. A request never sent (every REST connection
// busy: pbx.ErrNotSent) and a 5xx are, for the create and the adds; a
// create or an add not answered in time is (the next try first looks
// whether it was made); a 4xx is not.
func TestBridgeRequestsSentAgain(t *testing.T) {
	for _, tc := range []struct {
		name          string
		err           error
		create, added bool
	}{
		{"not sent", fmt.Errorf("failed to make request: %w: fasthttp: no free connections available to host", pbx.ErrNotSent), true, true},
		{"503", fmt.Errorf("wrapped: %w", statusErr(503)), true, true},
		{"500", statusErr(500), true, true},
		{"no answer in time", fmt.Errorf("failed to make request: fasthttp: timeout (%w)", context.DeadlineExceeded), true, true},
		{"404", statusErr(404), false, false},
		{"422", statusErr(422), false, false},
		{"409", statusErr(409), false, false},
	} {
		if got := createAgain(tc.err); got != tc.create {
			t.Errorf("%s: create sent again %v, want %v", tc.name, got, tc.create)
		}
		if got := addAgain(tc.err); got != tc.added {
			t.Errorf("%s: add sent again %v, want %v", tc.name, got, tc.added)
		}
	}
}
