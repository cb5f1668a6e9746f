// Package fallback records the calls Asterisk refused while toritsugi was
// down. asterisk-conf's dialplan, when Stasis() fails, adds a line to a
// file (Set(FILE(...,,,al)=...)); this package reads the lines it has not
// read yet, stores each call's record (result failed, not billable; an
// unknown number's is unknown-did) once, and hands it on to be relayed to
// the client as a missed call. A call the controller never saw would
// otherwise leave no trace but Asterisk's log.
package fallback

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/store"
)

// Reason is the reason of the record of a call refused by the fallback:
// the desk relays these as missed calls.
const Reason = "toritsugi unavailable: the dialplan's fallback told the caller to call again later"

// IDPrefix starts the id of a fallback call's record ("fallback-" and
// Asterisk's unique id of the channel).
const IDPrefix = "fallback-"

// The times a line may have: a call record's start must lie in the
// store's range.
var (
	minEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxEpoch = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - 1
)

// ErrLine wraps every error about a line of the file.
var ErrLine = errors.New("fallback: bad line")

// Line is one call the fallback refused, as the dialplan wrote it:
//
//	v1|<epoch>|<uniqueid>|exten|<number dialled>|<caller number>|<caller name>
//	v1|<epoch>|<uniqueid>|to|<To header>|<caller number>|<caller name>
//
// The last three fields are URI-encoded (URIENCODE), so they hold no "|".
type Line struct {
	At       time.Time
	UniqueID string
	// DIDInTo: DID is the To header's value, not the number dialled.
	DIDInTo      bool
	DID          string
	CallerNumber string
	CallerName   string
}

// ParseLine reads one line (without its newline).
func ParseLine(s string) (Line, error) {
	f := strings.Split(strings.TrimRight(s, "\r"), "|")
	if len(f) != 7 || f[0] != "v1" {
		// Not the line itself: it holds a caller's number and name, and
		// the error is logged (the file and offset say where it is).
		return Line{}, fmt.Errorf("%w: want 7 fields starting v1, got %d", ErrLine, len(f))
	}
	epoch, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || epoch < minEpoch || epoch > maxEpoch {
		return Line{}, fmt.Errorf("%w: time %q is not seconds since 1970 between 2000 and 2199", ErrLine, f[1])
	}
	if f[2] == "" || len(f[2]) > 150 || strings.ContainsAny(f[2], " /\x00") {
		return Line{}, fmt.Errorf("%w: channel id %.80q", ErrLine, f[2])
	}
	l := Line{At: time.Unix(epoch, 0), UniqueID: f[2]}
	switch f[3] {
	case "exten":
	case "to":
		l.DIDInTo = true
	default:
		return Line{}, fmt.Errorf("%w: kind %q is neither exten nor to", ErrLine, f[3])
	}
	for i, dst := range []*string{&l.DID, &l.CallerNumber, &l.CallerName} {
		v, err := url.PathUnescape(f[4+i])
		if err != nil {
			return Line{}, fmt.Errorf("%w: field %d: %w", ErrLine, 5+i, err)
		}
		*dst = v
	}
	return l, nil
}

// Record is the call record of l under cfg: failed for a client's number,
// unknown-did for a number no client has; not billable, started and ended
// when the fallback refused it.
func Record(l Line, cfg *config.Config) store.CallRecord {
	caller := phone.FromChannel(l.CallerNumber, l.CallerName)
	rec := store.CallRecord{
		ID: IDPrefix + l.UniqueID, CallerID: caller, CallerKind: phone.ParseCallerID(caller).Kind.String(),
		StartedAt: l.At, EndedAt: l.At, Result: store.ResultFailed, Reason: Reason,
	}
	did := l.DID
	if l.DIDInTo {
		d, err := phone.DIDFromAddress(l.DID)
		if err != nil {
			rec.Result, rec.Reason = store.ResultUnknownDID, fmt.Sprintf("To header %.120q names no number (%s)", l.DID, Reason)
			return rec
		}
		did = d
	}
	rec.DID = did
	if cl, ok := cfg.ClientByDID(did); ok {
		rec.ClientID = cl.ID
		return rec
	}
	rec.Result, rec.Reason = store.ResultUnknownDID, fmt.Sprintf("no client has DID %s (%s)", did, Reason)
	return rec
}
