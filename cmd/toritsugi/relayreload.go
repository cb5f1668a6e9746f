package main

import (
	"fmt"
	"slices"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/relay"
)

// hastenChangedDestinations makes the relay entries waiting for a retry
// to a destination that cur has and old had not, or had otherwise (its
// definition, or the clients whose routes name it), due now
// (Outbox.HastenChanged; such an attempt that fails does not count): an
// admin who puts back a destination a reload removed or misspelt, or puts
// right its address, its token or the routes naming it, sees its
// messages go at once, not after hours of backoff. It returns how many.
func hastenChangedDestinations(ob *relay.Outbox, old, cur *config.Config) (int, error) {
	changed := map[string]bool{}
	for _, d := range cur.Destinations {
		// relay.Destination is comparable: a field added that is not
		// (a map, a func) stops this from compiling, not from comparing.
		if was, ok := old.Destination(d.Name); !ok || was != d ||
			!slices.Equal(old.DestinationUsers(d.Name), cur.DestinationUsers(d.Name)) {
			changed[d.Name] = true
		}
	}
	if len(changed) == 0 {
		return 0, nil
	}
	n, err := ob.HastenChanged(func(dest string) bool { return changed[dest] })
	if err != nil {
		return n, fmt.Errorf("relay destinations the reload added or changed: %w", err)
	}
	return n, nil
}
