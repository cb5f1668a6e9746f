package pbx

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/CyCoreSystems/ari/v6"
)

// DecodeEvent decodes one websocket message into an ARI event. It wraps the
// library's decoder to reject messages it would accept but we cannot route
// (no type) and to recover from decoder panics on hostile input.
//
// The hot event types of a call are decoded through plain mirror structs
// and built by hand (fastdecode.go) when that provably gives the library's
// result. Otherwise a message whose type a quick scan finds unambiguously
// is unmarshalled once, into its concrete event; anything else (unknown or odd types,
// escaped or case-folded keys, malformed JSON) goes to ari.DecodeEvent, so
// the result is the library's either way.
func DecodeEvent(data []byte) (e ari.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("pbx: decode event: panic: %v", r)
		}
	}()
	if typ, keys, ok := scanEvent(data); ok {
		if fast, ok := fastDecoders[string(typ)]; ok {
			if e, ok := fast(data, keys); ok {
				return e, nil
			}
		}
	}
	if typ, ok := peekType(data); ok {
		if mk, ok := eventTypes[string(typ)]; ok {
			e = mk()
			if err := json.Unmarshal(data, e); err != nil {
				return nil, fmt.Errorf("pbx: decode event: %w", err)
			}
			return e, nil
		}
	}
	e, err = ari.DecodeEvent(data)
	if err != nil {
		return nil, fmt.Errorf("pbx: decode event: %w", err)
	}
	if e == nil {
		return nil, errors.New("pbx: decode event: unknown event")
	}
	return e, nil
}
