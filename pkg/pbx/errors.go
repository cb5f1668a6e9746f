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
	code := 0
	inChain(err, func(e error) bool {
		var re native.RequestError
		if errors.As(e, &re) {
			code = re.Code()
			return true
		}
		return false
	})
	return code
}

// inChain reports whether found holds for err or for an error reached
// from it through Cause methods (each checked with its own Unwrap chain).
func inChain(err error, found func(error) bool) bool {
	for depth := 0; err != nil && depth < 32; depth++ {
		if found(err) {
			return true
		}
		c, ok := findCauser(err)
		if !ok {
			return false
		}
		err = c.Cause()
	}
	return false
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

// ErrNotSent marks a REST request that failed before it was written to
// Asterisk (no connection could be had or made in time): Asterisk never
// saw it, so nothing it asked for happened.
var ErrNotSent = errors.New("pbx: request not sent to Asterisk")

// ErrUnauthorized: Asterisk refused the ARI user and password (401), or
// the user may not do what was asked (403: a read_only user). The link
// says which and what to check, instead of a body the client cannot
// decode or a websocket's "bad status".
var ErrUnauthorized = errors.New("pbx: Asterisk refused the ARI user")

// Unauthorized reports whether err is Asterisk refusing the ARI user
// (ErrUnauthorized), through the ari library's wrapping.
func Unauthorized(err error) bool {
	return inChain(err, func(e error) bool { return errors.Is(e, ErrUnauthorized) })
}

// NotSent reports whether err is a request that never reached Asterisk.
// The ari library wraps transport errors in types that expose them only
// through Cause, so both links are walked, as in StatusCode.
func NotSent(err error) bool {
	return inChain(err, func(e error) bool { return errors.Is(e, ErrNotSent) })
}

// statusError is a failed ARI request made outside the ari library; like
// the library's errors it has Code, so StatusCode reads it.
type statusError struct {
	code    int
	text    string
	wrapped error // nil, or ErrUnauthorized
}

func (e *statusError) Error() string { return e.text }

// Unwrap gives the sentinel a refusal of the user carries (ErrUnauthorized).
func (e *statusError) Unwrap() error { return e.wrapped }

// Code returns the HTTP status.
func (e *statusError) Code() int { return e.code }

// IsNotFound reports a 404 from ARI: the channel, bridge, playback or
// recording is gone.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }
