package config

import (
	"strings"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/reception"
)

// Rules are the client's reception rules for reception.Decide. Every part was
// parsed and validated by Parse; building the value neither allocates nor
// depends on the number of rules, so call it on every routing decision. The
// Hours and Callers slices are shared: do not modify them.
func (c *Client) Rules() reception.Rules {
	return reception.Rules{
		Hours:          c.Hours,
		Callers:        c.Callers,
		BlockWithheld:  c.BlockWithheld,
		BillAfterHours: c.BillAfterHours,
		AnswerMode:     c.AnswerMode,
	}
}

// StandIn is a client no longer configured (a call of it outlived its
// removal across a restart), with the configuration's defaults: its
// queue section for wrap-up, no script, no relay.
func (c *Config) StandIn(id string) *Client {
	q := c.Queue
	return &Client{ID: id, Name: id, queueDefaults: &q}
}

// DefaultACDSettings are the queue settings of a client that sets none of
// its own: the configuration's queue section.
func (c *Config) DefaultACDSettings() acd.ClientSettings {
	q := c.Queue
	return (&Client{queueDefaults: &q}).ACDSettings()
}

// ACDSettings are the client's queue settings (QueueSettings) in the form
// the ACD core takes. It does not allocate.
func (c *Client) ACDSettings() acd.ClientSettings {
	q := c.QueueSettings()
	return acd.ClientSettings{
		Strategy:       acd.Strategy(q.Strategy),
		RingTimeout:    q.RingTimeout,
		MaxWait:        q.MaxWait,
		MaxCallers:     q.MaxCallers,
		WrapUp:         q.Wrapup,
		WrapUpHold:     q.WrapupHold,
		AutoPauseAfter: q.AutoPauseAfter,
		EscalateAfter:  q.EscalateAfter,
		AnnouncePeriod: q.AnnouncePeriod,
	}
}

// Skills maps each client id the operator serves (or acd.WildcardClient,
// "*") to the operator's tier for it: 1 primary, 2 backup, ... as written
// in the configuration ("acme:2"). The map is built once by Parse and shared:
// do not modify it. For an Operator built by hand (not by Parse) every entry
// of Clients gets tier 1, in a new map.
func (o *Operator) Skills() map[string]int {
	if o.skills != nil {
		return o.skills
	}
	m := make(map[string]int, len(o.Clients))
	for _, id := range o.Clients {
		m[id] = 1
	}
	return m
}

// Tier is the operator's tier for a client, a specific entry taking
// precedence over "*"; ok is false when the operator does not serve it.
func (o *Operator) Tier(clientID string) (tier int, ok bool) {
	skills := o.Skills()
	if t, ok := skills[clientID]; ok {
		return t, true
	}
	t, ok := skills[acd.WildcardClient]
	return t, ok
}

// Values of Client.TransferCallerID besides a number.
const (
	TransferCallerDID    = "did"
	TransferCallerCaller = "caller"
)

// dialForm is number (E.164) as Japanese carriers dial it: +81 becomes a
// leading 0, another country's + the international prefix 010
// (+12125550123 → 0101212…); anything else is left as it is.
func dialForm(number string) string {
	if rest, ok := strings.CutPrefix(number, "+81"); ok {
		return "0" + rest
	}
	if rest, ok := strings.CutPrefix(number, "+"); ok {
		return "010" + rest
	}
	return number
}

// DialString is the endpoint that calls number (E.164) out through the
// trunk: "PJSIP/0312345678@trunk" for trunk PJSIP/trunk. Japanese numbers
// are dialled in national form, as Japanese carriers expect.
func (c *Config) DialString(number string) string {
	tech, ep, _ := strings.Cut(c.Trunk, "/")
	return tech + "/" + dialForm(number) + "@" + ep
}
