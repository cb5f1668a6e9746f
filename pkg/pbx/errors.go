package pbx

import (
	"errors"
	"net/http"

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
