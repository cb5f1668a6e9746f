package pbx

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/CyCoreSystems/ari/v6/client/native"
)

// StatusCode returns the HTTP status of a failed ARI request anywhere in
// err's chain, or 0. (native.CodeFromError does not look through wrapping.)
//
// The library wraps some errors in types that expose their cause only
// through a Cause method (errDataGet), which errors.As does not follow, so
// both links are walked.
func StatusCode(err error) int {
	for depth := 0; err != nil && depth < 32; depth++ {
		var re native.RequestError
		if errors.As(err, &re) {
			return re.Code()
		}
		c, ok := findCauser(err)
		if !ok {
			return 0
		}
		err = c.Cause()
	}
	return 0
}

type causer interface{ Cause() error }

// findCauser finds the first error in err's Unwrap chain with a Cause method.
func findCauser(err error) (causer, bool) {
	var c causer
	if errors.As(err, &c) && c.Cause() != nil {
		return c, true
	}
	return nil, false
}

// IsNotFound reports a 404 from ARI: the channel, bridge, playback or
// recording is gone.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// DecodeEvent decodes one websocket message into an ARI event. It wraps the
// library's decoder to reject messages it would accept but we cannot route
// (no type) and to recover from decoder panics on hostile input.
func DecodeEvent(data []byte) (e ari.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("pbx: decode event: panic: %v", r)
		}
	}()
	e, err = ari.DecodeEvent(data)
	if err != nil {
		return nil, fmt.Errorf("pbx: decode event: %w", err)
	}
	if e == nil {
		return nil, errors.New("pbx: decode event: unknown event")
	}
	return e, nil
}
