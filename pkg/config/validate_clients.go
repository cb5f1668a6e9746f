package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

var (
	clientID   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	operatorID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	endpoint   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*/[^\s/]+$`)
)

func (c *checker) clients(raws []rawClient, queueDefaults Queue) []Client {
	ids := map[string]string{}  // id -> path of its first use
	dids := map[string]string{} // E.164 -> path of its first use
	out := make([]Client, 0, len(raws))
	for i, r := range raws {
		p := indexPath("clients", i)
		q := queueDefaults
		cl := Client{
			ID: r.ID, Name: r.Name, ShortName: r.ShortName, Greeting: r.Greeting,
			GreetingText: r.GreetingText, AfterHoursSound: r.AfterHoursSound,
			queueDefaults: &q,
		}
		if c.required(childPath(p, "id"), r.ID) {
			switch first, dup := ids[r.ID]; {
			case !clientID.MatchString(r.ID):
				c.errf(childPath(p, "id"), "%q must be lower-case letters, digits and hyphens", r.ID)
			case dup:
				c.errf(childPath(p, "id"), "%q is already the id of %s", r.ID, first)
			default:
				ids[r.ID] = p
			}
		}
		c.required(childPath(p, "name"), r.Name)
		if strings.TrimSpace(cl.ShortName) == "" {
			cl.ShortName = cl.Name
		}
		if c.required(childPath(p, "greeting"), r.Greeting) {
			c.media(childPath(p, "greeting"), r.Greeting)
		}
		if r.AfterHoursSound != "" {
			c.media(childPath(p, "after_hours_sound"), r.AfterHoursSound)
		}
		cl.DIDs = c.dids(childPath(p, "dids"), r.ID, r.DIDs, dids)
		cl.Hours = c.hours(childPath(p, "hours"), r.Hours)
		cl.Queue = c.queue(childPath(p, "queue"), r.Queue)
		out = append(out, cl)
	}
	return out
}

// dids normalises a client's numbers; seen holds the numbers of earlier clients.
func (c *checker) dids(path, owner string, raws []string, seen map[string]string) []string {
	if len(raws) == 0 {
		c.errf(path, "is required: list the numbers this client is called on")
		return nil
	}
	out := make([]string, 0, len(raws))
	for i, raw := range raws {
		p := indexPath(path, i)
		n, err := normalizeDID(raw)
		if err != nil {
			c.errf(p, "%q is not a phone number: %v", raw, err)
			continue
		}
		if first, dup := seen[n]; dup {
			c.errf(p, "%q (%s) is already used by %s", raw, n, first)
			continue
		}
		seen[n] = fmt.Sprintf("client %q (%s)", owner, p)
		out = append(out, n)
	}
	return out
}

func (c *checker) hours(path string, r *rawHours) Hours {
	if r == nil {
		return Hours{}
	}
	h := Hours{Scheduled: true, Timezone: r.Timezone, PublicHolidays: r.PublicHolidays}
	if h.Timezone == "" {
		h.Timezone = "Asia/Tokyo"
	}
	loc, err := time.LoadLocation(h.Timezone)
	if err != nil || h.Timezone == "Local" {
		c.errf(childPath(path, "timezone"), "%q is not an IANA time zone such as Asia/Tokyo", h.Timezone)
	}
	h.Location = loc
	if h.PublicHolidays == "" {
		h.PublicHolidays = HolidaysJP
	}
	c.oneOf(childPath(path, "public_holidays"), h.PublicHolidays, HolidaysJP, HolidaysNone)
	if r.Weekly == nil {
		c.errf(childPath(path, "weekly"), "is required when hours is given (leave hours out to be always open)")
	}
	for _, w := range weekdayKeys {
		h.Weekly[w.day] = c.day(childPath(childPath(path, "weekly"), w.key), r.Weekly[w.key])
	}
	for i, rc := range r.Closures {
		h.Closures = append(h.Closures, c.closure(indexPath(childPath(path, "closures"), i), rc))
	}
	return h
}

// day parses one weekday's intervals and refuses overlaps.
func (c *checker) day(path string, raws []string) []Interval {
	var out []Interval
	for i, raw := range raws {
		iv, err := parseInterval(raw)
		if err != nil {
			c.errf(indexPath(path, i), "%v", err)
			continue
		}
		for _, o := range out {
			if iv.Start < o.End && o.Start < iv.End {
				c.errf(indexPath(path, i), "%q overlaps %s", raw, o)
			}
		}
		out = append(out, iv)
	}
	slices.SortFunc(out, func(a, b Interval) int { return a.Start - b.Start })
	return out
}

func (c *checker) closure(path string, r rawClosure) Closure {
	cl := Closure{Reason: r.Reason}
	if c.required(childPath(path, "from"), r.From) {
		d, err := parseDate(r.From)
		if err != nil {
			c.errf(childPath(path, "from"), "%v", err)
		}
		cl.From, cl.To = d, d
	}
	if r.To != "" {
		d, err := parseDate(r.To)
		switch {
		case err != nil:
			c.errf(childPath(path, "to"), "%v", err)
		case d.Compare(cl.From) < 0:
			c.errf(childPath(path, "to"), "%s is before from %s", d, cl.From)
		}
		cl.To = d
	}
	return cl
}

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
		op := Operator{ID: r.ID, Name: r.Name, Endpoint: r.Endpoint, Clients: r.Clients, PasswordHash: r.PasswordHash}
		if c.required(childPath(p, "id"), r.ID) {
			switch first, dup := ids[r.ID]; {
			case !operatorID.MatchString(r.ID):
				c.errf(childPath(p, "id"), "%q must be letters, digits, _ . and -", r.ID)
			case dup:
				c.errf(childPath(p, "id"), "%q is already the id of %s", r.ID, first)
			default:
				ids[r.ID] = p
			}
		}
		c.required(childPath(p, "name"), r.Name)
		if c.required(childPath(p, "endpoint"), r.Endpoint) {
			tech, res, _ := strings.Cut(r.Endpoint, "/")
			key := strings.ToUpper(tech) + "/" + res
			switch first, dup := endpoints[key]; {
			case !endpoint.MatchString(r.Endpoint):
				c.errf(childPath(p, "endpoint"), "%q is not TECH/resource such as PJSIP/op1001", r.Endpoint)
			case dup:
				c.errf(childPath(p, "endpoint"), "%q is already the endpoint of %s", r.Endpoint, first)
			default:
				endpoints[key] = p
			}
		}
		c.operatorClients(childPath(p, "clients"), r.Clients, known)
		out = append(out, op)
	}
	return out
}

func (c *checker) operatorClients(path string, ids []string, known map[string]bool) {
	if len(ids) == 0 {
		c.errf(path, `is required: list client ids, or ["*"] for all clients`)
		return
	}
	for i, id := range ids {
		switch {
		case id == "*" && len(ids) > 1:
			c.errf(indexPath(path, i), `"*" (all clients) must be the only entry`)
		case id == "*":
		case !known[id]:
			c.errf(indexPath(path, i), "%q is not a client id%s", id, closestID(id, known))
		}
	}
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
