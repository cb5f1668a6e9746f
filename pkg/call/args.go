package call

import (
	"errors"
	"fmt"
	"strings"
)

// Leg says which side of a call a channel entering Stasis is.
type Leg int

const (
	// LegInbound is a caller arriving from the trunk: Stasis(app,inbound,DID).
	LegInbound Leg = iota + 1
	// LegOperator is an operator channel we originated: appArgs "operator,<call id>".
	LegOperator
	// LegTransfer is a call to the client's own phone (VIP warm transfer):
	// appArgs "transfer,<call id>".
	LegTransfer
)

func (l Leg) String() string {
	switch l {
	case LegInbound:
		return "inbound"
	case LegOperator:
		return "operator"
	case LegTransfer:
		return "transfer"
	}
	return "unknown"
}

// Args is what StasisStart's args say about a channel.
type Args struct {
	Leg Leg
	// DID is the dialled number of an inbound leg, as Asterisk gave it.
	DID string
	// CallID is the inbound call an operator leg belongs to.
	CallID string
}

// ErrBadArgs is returned for StasisStart args toritsugi did not produce.
var ErrBadArgs = errors.New("unrecognised Stasis arguments")

// ParseArgs reads StasisStart args. The shipped dialplan passes
// ["inbound", DID]; a bare [DID] (a plain Stasis(app,${EXTEN}), as in the
// recordings) is accepted as inbound too.
func ParseArgs(args []string) (Args, error) {
	switch {
	case len(args) == 2 && args[0] == "inbound" && validDID(args[1]):
		return Args{Leg: LegInbound, DID: args[1]}, nil
	case len(args) == 1 && validDID(args[0]):
		return Args{Leg: LegInbound, DID: args[0]}, nil
	case len(args) == 2 && args[0] == "operator" && args[1] != "":
		return Args{Leg: LegOperator, CallID: args[1]}, nil
	case len(args) == 2 && args[0] == "transfer" && args[1] != "":
		return Args{Leg: LegTransfer, CallID: args[1]}, nil
	}
	return Args{}, fmt.Errorf("%w: %q", ErrBadArgs, args)
}

// validDID accepts what a trunk can put in ${EXTEN}: digits with an optional
// leading '+', at most 20 characters.
func validDID(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// argsFromAppData recovers Stasis args from a channel's dialplan app_data
// ("toritsugi,inbound,0312345678"), used when re-adopting a channel whose
// StasisStart we never saw.
func argsFromAppData(appData string) (Args, error) {
	parts := strings.Split(appData, ",")
	if len(parts) < 2 {
		return Args{}, fmt.Errorf("%w: app_data %q", ErrBadArgs, appData)
	}
	return ParseArgs(parts[1:])
}
