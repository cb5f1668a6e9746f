package call

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
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
	// DID is the dialled number of an inbound leg, as Asterisk gave it;
	// empty when DIDInTo.
	DID string
	// DIDInTo says the dialled number is in the call's To header, not in
	// its Request-URI: Stasis(app,inbound,${EXTEN},to), for gateways (an
	// NTT ひかり電話 home gateway) that call an extension. Exten is then
	// the Request-URI's user, for the log.
	DIDInTo bool
	Exten   string
	// CallID is the inbound call an operator leg belongs to.
	CallID string
}

// ErrBadArgs is returned for StasisStart args toritsugi did not produce.
var ErrBadArgs = errors.New("unrecognised Stasis arguments")

// ArgDIDInTo is the Stasis argument after the extension that says the
// dialled number is in the To header.
const ArgDIDInTo = "to"

// ParseArgs reads StasisStart args. The shipped dialplan passes
// ["inbound", DID], or ["inbound", extension, "to"] for a gateway that
// puts the dialled number in the To header; a bare [DID] (a plain
// Stasis(app,${EXTEN}), as in the recordings) is accepted as inbound too.
// A dialled number's URI parameters are dropped ("0312345678;npdi": see
// uriUser).
func ParseArgs(args []string) (Args, error) {
	if len(args) > 0 && args[0] == "inbound" && len(args) >= 2 {
		args = append([]string{args[0], uriUser(args[1])}, args[2:]...)
	} else if len(args) == 1 {
		args = []string{uriUser(args[0])}
	}
	switch {
	case len(args) == 2 && args[0] == "inbound" && validDID(args[1]):
		return Args{Leg: LegInbound, DID: args[1]}, nil
	case len(args) == 3 && args[0] == "inbound" && args[2] == ArgDIDInTo && validExten(args[1]):
		return Args{Leg: LegInbound, DIDInTo: true, Exten: args[1]}, nil
	case len(args) == 1 && validDID(args[0]):
		return Args{Leg: LegInbound, DID: args[0]}, nil
	case len(args) == 2 && args[0] == "operator" && args[1] != "":
		return Args{Leg: LegOperator, CallID: args[1]}, nil
	case len(args) == 2 && args[0] == "transfer" && args[1] != "":
		return Args{Leg: LegTransfer, CallID: args[1]}, nil
	}
	return Args{}, fmt.Errorf("%w: %q", ErrBadArgs, args)
}

// uriUser is the number of a Request-URI's user part without its
// parameters: a carrier may send "sip:0312345678;npdi;rn=...@host" (RFC
// 3966 / RFC 4694 number portability), and Asterisk puts the whole user
// part in ${EXTEN} unless pjsip.conf's ignore_uri_user_options is set
// (the kit sets it; an admin's own pjsip.conf may not).
func uriUser(s string) string {
	user, _, _ := strings.Cut(s, ";")
	return user
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

// inbound is the Stasis args of an inbound leg, as the shipped dialplan
// passes them.
func (a Args) inbound() []string {
	if a.DIDInTo {
		return []string{"inbound", a.Exten, ArgDIDInTo}
	}
	return []string{"inbound", a.DID}
}

// validExten accepts what a gateway can put in the Request-URI's user:
// an extension ("3"), "s", an account id; at most 40 characters. Not "h":
// Asterisk runs that extension when a call hangs up, and a dialplan whose
// pattern sends it to Stasis would start an ended call again.
func validExten(s string) bool {
	if s == "" || s == "h" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', strings.ContainsRune("+*#._-", r):
		default:
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

// callerID is an originate's callerId: the name as a SIP phone shows it
// (the client's short name) and the number. Asterisk reads the name
// between the first two double quotes, as written: no escape sequence
// is turned back (Go's %q wrote 株式会社\u3000さくら for an ideographic
// space, and the phone showed the backslash sequence), so quotes,
// backslashes and control characters are left out of the name instead.
// The number is the caller's, as the trunk gave it: Asterisk takes it from
// after the last '<', so angle brackets, quotes, backslashes and control
// characters are left out of it too, or a caller's own text could add to
// the name the operator's phone shows.
func callerID(name, number string) string {
	return `"` + strings.Map(callerIDRune, name) + `" <` + strings.Map(func(r rune) rune {
		if r == '<' || r == '>' {
			return -1
		}
		return callerIDRune(r)
	}, number) + `>`
}

// callerIDRune drops what a callerId cannot carry as written.
func callerIDRune(r rune) rune {
	if r == '"' || r == '\\' || unicode.IsControl(r) {
		return -1
	}
	return r
}

// The marks in the ids of the channels calls originate: an operator's leg
// "<call>-op-<operator>-<instance>-<n>", a VIP transfer's
// "<call>-tx-<instance>-<n>". Asterisk names the channels it makes itself
// "<epoch>.<n>".
const (
	operatorLegMark = "-op-"
	transferLegMark = "-tx-"
)

// operatorLegOf reads the call and the operator of an operator's leg
// from its id ("<call>-op-<operator>-<instance>-<n>"); ok is false for
// any other id.
func operatorLegOf(id string) (callID, opID string, ok bool) {
	callID, rest, found := strings.Cut(id, operatorLegMark)
	if !found || callID == "" {
		return "", "", false
	}
	for range 2 { // the instance and the count
		i := strings.LastIndexByte(rest, '-')
		if i < 0 {
			return "", "", false
		}
		rest = rest[:i]
	}
	return callID, rest, rest != ""
}

// OwnChannel reports whether channel id is one a call originated (an
// operator's or a transfer's leg): any other channel on an operator's
// phone is a call the operator placed.
func OwnChannel(id string) bool {
	return strings.Contains(id, operatorLegMark) || strings.Contains(id, transferLegMark)
}
