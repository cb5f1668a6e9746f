package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/toritsugi/toritsugi/pkg/acd"
	"github.com/toritsugi/toritsugi/pkg/password"
	"github.com/toritsugi/toritsugi/pkg/reception"
)

// phoneTechnologies are the channel technologies of Asterisk 22 whose
// endpoints ARI reports (endpoint:<tech> events) that a phone can use.
var phoneTechnologies = []string{"PJSIP", "IAX2", "DAHDI"}

var (
	operatorID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	endpoint   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*/[^\s/]+$`)
)

// MaxTier is the highest tier an operator's client entry may carry.
const MaxTier = 9

func (c *checker) operators(raws []rawOperator, clients []Client) []Operator {
	known := map[string]bool{}
	for _, cl := range clients {
		known[cl.ID] = true
	}
	ids := map[string]string{}
	endpoints := map[string]string{}
	out := make([]Operator, 0, len(raws))
	for i, r := range raws {
		p := indexPath("operators", i)
		op := Operator{ID: r.ID, Name: r.Name, Endpoint: r.Endpoint, PasswordHash: r.PasswordHash}
		if r.PasswordHash != "" {
			// The console would refuse every login; the operator would
			// not know why. (The value is not repeated: it may be a
			// password pasted in.)
			if _, _, _, err := password.Parse(r.PasswordHash); err != nil {
				c.errf(childPath(p, "password_hash"), "is not a hash made by `toritsugi hash-password` (%v); leave it empty for an operator who does not use the console", err)
			}
		}
		if r.Supervisor != nil {
			op.Supervisor = c.boolean(indexPath("operators", i)+".supervisor", *r.Supervisor)
		}
		c.uniqueID(p, r.ID, operatorID, "must be letters, digits, _ . and -", ids)
		c.required(childPath(p, "name"), r.Name)
		if c.required(childPath(p, "endpoint"), r.Endpoint) {
			tech, res, _ := strings.Cut(r.Endpoint, "/")
			key := strings.ToUpper(tech) + "/" + res
			switch first, dup := endpoints[key]; {
			case !endpoint.MatchString(r.Endpoint):
				c.errf(childPath(p, "endpoint"), "%q is not TECH/resource such as PJSIP/op1001", r.Endpoint)
			case !slices.Contains(phoneTechnologies, strings.ToUpper(tech)):
				// Asterisk refuses the endpoint events of a technology it
				// does not have (chan_sip is gone since Asterisk 21): the
				// phone would never be seen registered.
				c.errf(childPath(p, "endpoint"), "%q: Asterisk 22 has no %s phones; softphones are PJSIP/<endpoint> (one of %s)", r.Endpoint, tech, strings.Join(phoneTechnologies, ", "))
			case dup:
				c.errf(childPath(p, "endpoint"), "%q is already the endpoint of %s", r.Endpoint, first)
			default:
				endpoints[key] = p
				// Asterisk dials pjsip/op1001 but names it PJSIP in its
				// endpoint events: as written, the operator's
				// registrations would never be matched.
				op.Endpoint = strings.ToUpper(tech) + "/" + res
			}
		}
		op.Clients, op.skills = c.operatorClients(childPath(p, "clients"), r.Clients, known)
		out = append(out, op)
	}
	return out
}

// staffed refuses a configuration with no clients or no operators, and
// warns of a client no operator serves at any tier and of one whose
// hours never open. A file saved half-written (README's reload: a writer
// pausing) is most often a valid configuration of that kind: cut before
// its clients, every number would be "not in service"; cut before its
// operators (or at `operators:`), every caller would wait until max_wait
// and overflow. Without a list, the error is at line 1.
func (c *checker) staffed(cfg *Config) {
	const cut = " (a file saved half-written has none: it is read again when saved whole)"
	if len(cfg.Clients) == 0 {
		c.errf("clients", "is required: list the clients answered; without any, every number is answered as not in service%s", cut)
	}
	if len(cfg.Operators) == 0 {
		c.errf("operators", "is required: list the operators; without any, every caller waits until max_wait and overflows%s", cut)
		return
	}
	for i := range cfg.Clients {
		cl := &cfg.Clients[i]
		p := indexPath("clients", i)
		if len(cfg.OperatorsFor(cl.ID)) == 0 {
			c.warnf(childPath(p, "id"), "%q is served by no operator at any tier: its callers wait until max_wait (%s) and overflow; list it in an operator's clients (or give one \"*\")",
				cl.ID, cl.QueueSettings().MaxWait)
		}
		if neverOpen(cl.Hours) && !cl.AfterHoursVoicemail {
			c.warnf(childPath(childPath(p, "hours"), "weekly"), "opens on no day: every call is answered as after hours; give the days' ranges (mon: [\"09:00-18:00\"]), or leave hours out to be always open (a number that only takes voicemail: set after_hours_voicemail)")
		}
	}
}

// neverOpen reports whether hours have no opening time in the week.
func neverOpen(h reception.Hours) bool {
	if h.AlwaysOpen {
		return false
	}
	for d := range h.Weekly {
		if len(h.Weekly[d]) > 0 || len(h.Overnight[d]) > 0 {
			return false
		}
	}
	return true
}

// operatorClients reads entries "acme" (tier 1), "acme:2", "*" or "*:2"
// into the plain client ids and the skills map.
func (c *checker) operatorClients(path string, entries []string, known map[string]bool) ([]string, map[string]int) {
	if len(entries) == 0 {
		c.errf(path, `is required: list client ids, or ["*"] for all clients`)
		return nil, nil
	}
	ids := make([]string, 0, len(entries))
	skills := make(map[string]int, len(entries))
	where := map[string]int{} // id -> index of its entry
	for i, e := range entries {
		p := indexPath(path, i)
		id, tier, ok := c.tierEntry(p, e)
		if !ok {
			continue
		}
		if first, dup := where[id]; dup {
			c.errf(p, "%q is already listed at %s", id, indexPath(path, first))
			continue
		}
		if id != acd.WildcardClient && !known[id] {
			c.errf(p, "%q is not a client id%s", id, closestID(id, known))
			continue
		}
		where[id] = i
		ids = append(ids, id)
		skills[id] = tier
	}
	if all, ok := skills[acd.WildcardClient]; ok {
		for _, id := range ids {
			if id != acd.WildcardClient && skills[id] == all {
				c.errf(indexPath(path, where[id]), "%q is already served at tier %d through %q: drop it or give it another tier",
					id, all, entries[where[acd.WildcardClient]])
			}
		}
	}
	return ids, skills
}

// tierEntry splits "acme:2" into the id and the tier (1 when absent).
func (c *checker) tierEntry(path, e string) (id string, tier int, ok bool) {
	id, t, hasTier := strings.Cut(strings.TrimSpace(e), ":")
	if !hasTier {
		return id, 1, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(t))
	if err != nil || n < 1 || n > MaxTier {
		c.errf(path, "%q: the tier after \":\" must be a whole number from 1 to %d", e, MaxTier)
		return "", 0, false
	}
	return strings.TrimSpace(id), n, true
}

func closestID(id string, known map[string]bool) string {
	best, bestDist := "", 3
	for k := range known {
		if d := editDistance(id, k); d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
