package config

import (
	"slices"

	"github.com/toritsugi/toritsugi/pkg/relay"
)

// Destination finds a relay destination by name.
func (c *Config) Destination(name string) (relay.Destination, bool) {
	if c.destByName != nil {
		if i, ok := c.destByName[name]; ok {
			return c.Destinations[i], true
		}
		return relay.Destination{}, false
	}
	for _, d := range c.Destinations { // a hand-built Config
		if d.Name == name {
			return d, true
		}
	}
	return relay.Destination{}, false
}

// RelayRules are the client's routing rules for relay.Route: first a rule
// with an empty Field (always matches) sending to RelayTo, when set, then
// relay.rules in file order. The slice is fresh on each call.
func (c *Client) RelayRules() []relay.Rule {
	var out []relay.Rule
	if len(c.RelayTo) > 0 {
		out = append(out, relay.Rule{To: slices.Clone(c.RelayTo)})
	}
	for _, r := range c.relayRules {
		r.To = slices.Clone(r.To)
		out = append(out, r)
	}
	return out
}

// DestinationUsers lists the clients whose relay routes (relay.to,
// relay.urgent, a rule's to) name destination name, in configuration
// order.
func (c *Config) DestinationUsers(name string) []string {
	var out []string
	for i := range c.Clients {
		cl := &c.Clients[i]
		uses := slices.Contains(cl.RelayUrgent, name)
		for _, r := range cl.RelayRules() {
			uses = uses || slices.Contains(r.To, name)
		}
		if uses {
			out = append(out, cl.ID)
		}
	}
	return out
}
