package reception

import (
	"errors"
	"fmt"
	"slices"
	"time"

	japan "github.com/toritsugi/toritsugi/pkg/internal/jst"

	"github.com/toritsugi/toritsugi/pkg/reception/jpholiday"
)

// Date is a calendar date of the Hours' location.
type Date = jpholiday.Date

// ErrInvalidHours is wrapped by Hours.Validate errors.
var ErrInvalidHours = errors.New("invalid business hours")

// Reasons reported in Status.Reason. Holidays and closures add their name
// after the prefix: "public-holiday:元日", "closure:年末年始".
const (
	ReasonWeekly        = "weekly"
	ReasonAlwaysOpen    = "always-open"
	ReasonOutsideHours  = "outside-hours"
	ReasonPublicHoliday = "public-holiday"
	ReasonClosure       = "closure"
)

// nextChangeHorizon bounds the search for Status.NextChange.
const nextChangeHorizon = 14 * 24 * time.Hour

// tokyo is Japan Standard Time. Japan has had no daylight saving time since
// 1951, so the fixed zone equals Asia/Tokyo and needs no tz database.
var tokyo = japan.Zone

// Closure closes the office on the dates From to To, both included
// (for example 年末年始 2026-12-29 to 2027-01-03), or, when Annual, on
// those months and days every year (From and To's Year is ignored; a To
// before From runs into the next year: 12/29 to 1/3).
type Closure struct {
	From, To Date
	Reason   string
	Annual   bool
}

// covers reports whether the closure closes day d.
func (c Closure) covers(d Date) bool {
	if !c.Annual {
		return !d.Before(c.From) && !d.After(c.To)
	}
	md := func(x Date) int { return int(x.Month)*100 + x.Day }
	v, from, to := md(d), md(c.From), md(c.To)
	if from <= to {
		return v >= from && v <= to
	}
	return v >= from || v <= to // across the year's end
}

// validAnnual reports whether an annual closure's bounds are days some
// year has.
func (c Closure) validAnnual() bool {
	return IsDayOfYear(c.From.Month, c.From.Day) && IsDayOfYear(c.To.Month, c.To.Day)
}

// IsDayOfYear reports whether month m has a day d in some year (February
// 29 included: a leap year's).
func IsDayOfYear(m time.Month, d int) bool {
	return jpholiday.NewDate(2028, m, d) == Date{Year: 2028, Month: m, Day: d}
}

// Hours are a client's business hours.
type Hours struct {
	// Location is the zone of the weekly schedule and of the calendar days;
	// nil means Japan Standard Time.
	Location *time.Location
	// Weekly is the normal opening schedule.
	Weekly Weekly
	// Overnight holds the parts after midnight of overnight ranges
	// ("22:00-02:00" on Friday: Saturday 00:00-02:00), by the weekday
	// they fall on. Such a part belongs to the day its range starts:
	// that day's holiday or closure closes it, its own day's does not
	// (Friday's night shift runs into a Saturday holiday; no shift starts
	// on a holiday night). Weekly.Add puts those parts in Weekly instead,
	// where they follow their own calendar day.
	Overnight Weekly
	// PublicHolidays, when true, closes the office all day on Japanese
	// public holidays (including 振替休日 and 国民の休日).
	PublicHolidays bool
	// Closures are the client's own closed days (年末年始, 夏季休業…).
	Closures []Closure
	// AlwaysOpen replaces Weekly by 24 hours every day. PublicHolidays and
	// Closures still apply.
	AlwaysOpen bool
}

// Status is the state of Hours at one instant.
type Status struct {
	Open bool
	// Reason is ReasonWeekly or ReasonAlwaysOpen when open; when closed a
	// closure ("closure:年末年始"), a holiday ("public-holiday:元日") or
	// ReasonOutsideHours.
	Reason string
	// NextChange is the next instant the open state flips, or the zero time
	// if it does not flip within 14 days.
	NextChange time.Time
}

// Validate reports every invalid interval or closure, joined.
func (h Hours) Validate() error {
	var errs []error
	for day, ivs := range h.Weekly {
		for _, iv := range ivs {
			if !iv.Valid() {
				errs = append(errs, fmt.Errorf("%v %d-%d: %w", time.Weekday(day), iv.Start, iv.End, ErrInvalidInterval))
			}
		}
	}
	for i, c := range h.Closures {
		bad := !c.From.IsValid() || !c.To.IsValid() || c.To.Before(c.From)
		if c.Annual {
			bad = !c.validAnnual()
		}
		if bad {
			errs = append(errs, fmt.Errorf("closure %d (%s to %s): %w", i, c.From, c.To, ErrInvalidHours))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidHours, err)
	}
	return nil
}

// At returns the status at t. Invalid intervals are ignored (see Validate).
func (h Hours) At(t time.Time) Status {
	if h.neverShut() {
		// What the walk below finds, without it: open all day every day,
		// so no change within the horizon. A client without configured
		// hours is so, and its walk over every day of the horizon was
		// the most expensive step of taking a call.
		return Status{Open: true, Reason: ReasonAlwaysOpen}
	}
	loc := h.location()
	t = t.In(loc)
	s := h.stateAt(t)
	s.NextChange = h.nextChange(t, s.Open)
	return s
}

// neverShut reports whether h is open at every instant: always open, with
// no closure and no public holidays.
func (h Hours) neverShut() bool {
	return h.AlwaysOpen && len(h.Closures) == 0 && !h.PublicHolidays
}

func (h Hours) location() *time.Location {
	if h.Location == nil {
		return tokyo
	}
	return h.Location
}

// stateAt is At without NextChange; t is in h's location.
func (h Hours) stateAt(t time.Time) Status {
	ivs, open, closed := h.day(jpholiday.DateOf(t))
	m := t.Hour()*60 + t.Minute()
	for _, iv := range ivs {
		if iv.Contains(m) {
			return Status{Open: true, Reason: open}
		}
	}
	return Status{Reason: closed}
}

// day returns the merged opening intervals of d, the reason while open,
// and the reason outside them: the day's closure or holiday, else
// ReasonOutsideHours.
func (h Hours) day(d Date) (ivs []Interval, open, closed string) {
	open, closed = ReasonWeekly, ReasonOutsideHours
	if h.AlwaysOpen {
		open = ReasonAlwaysOpen
	}
	if why, shut := h.shut(d); shut {
		closed = why
	} else if h.AlwaysOpen {
		ivs = []Interval{{Start: 0, End: MinutesPerDay}}
	} else {
		ivs = h.Weekly[d.Weekday()]
	}
	// The night before's range, unless that day was shut.
	if carried := h.Overnight[d.Weekday()]; len(carried) > 0 && !h.AlwaysOpen {
		if _, shut := h.shut(d.AddDays(-1)); !shut {
			ivs = append(slices.Clip(ivs), carried...)
		}
	}
	return merge(ivs), open, closed
}

// shut reports whether day d is closed all day by a closure or a public
// holiday, and why.
func (h Hours) shut(d Date) (string, bool) {
	for _, c := range h.Closures {
		if c.covers(d) {
			if c.Reason == "" {
				return ReasonClosure, true
			}
			return ReasonClosure + ":" + c.Reason, true
		}
	}
	if h.PublicHolidays {
		if name, ok := jpholiday.Holiday(d); ok {
			return ReasonPublicHoliday + ":" + name, true
		}
	}
	return "", false
}

// merge returns the valid intervals of ivs sorted, with overlapping or
// touching ones joined.
func merge(ivs []Interval) []Interval {
	out := make([]Interval, 0, len(ivs))
	for _, iv := range ivs {
		if iv.Valid() {
			out = append(out, iv)
		}
	}
	slices.SortFunc(out, func(a, b Interval) int { return a.Start - b.Start })
	n := 0
	for _, iv := range out {
		if n > 0 && iv.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, iv.End)
			continue
		}
		out[n] = iv
		n++
	}
	return out[:n]
}

// openAt is stateAt(p).Open, read from ivs, the merged intervals of day d,
// when p is minute m of d. A time.Date that a daylight-saving gap moved
// elsewhere is looked up afresh.
func (h Hours) openAt(p time.Time, d Date, m int, ivs []Interval) bool {
	if p.Hour()*60+p.Minute() != m || jpholiday.DateOf(p) != d {
		return h.stateAt(p).Open
	}
	for _, iv := range ivs {
		if iv.Contains(m) {
			return true
		}
	}
	return false
}

// nextChange walks the candidate instants (midnights and interval bounds)
// after t in order and returns the first where the open state differs.
func (h Hours) nextChange(t time.Time, open bool) time.Time {
	loc := t.Location()
	limit := t.Add(nextChangeHorizon)
	start := jpholiday.DateOf(t)
	for k := 0; k <= 15; k++ {
		d := start.AddDays(k)
		ivs, _, _ := h.day(d)
		marks := make([]int, 0, 1+2*len(ivs))
		marks = append(marks, 0)
		for _, iv := range ivs {
			marks = append(marks, iv.Start, iv.End)
		}
		slices.Sort(marks)
		for _, m := range slices.Compact(marks) {
			if m >= MinutesPerDay {
				continue // the next day's midnight is checked with that day
			}
			p := time.Date(d.Year, d.Month, d.Day, 0, m, 0, 0, loc)
			if !p.After(t) {
				continue
			}
			if p.After(limit) {
				return time.Time{}
			}
			if h.openAt(p, d, m, ivs) != open {
				return p
			}
		}
	}
	return time.Time{}
}
