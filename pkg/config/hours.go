package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Tokyo must load on hosts without a zoneinfo database

	"github.com/toritsugi/toritsugi/pkg/phone"
	"github.com/toritsugi/toritsugi/pkg/reception"
	"github.com/toritsugi/toritsugi/pkg/reception/jpholiday"
	"golang.org/x/text/width"
)

// Public holiday calendars of hours.public_holidays.
const (
	HolidaysJP   = "jp"   // closed on Japanese public holidays (the default)
	HolidaysNone = "none" // open on public holidays as on other days
)

// DefaultTimezone is the zone of hours without a timezone key.
const DefaultTimezone = "Asia/Tokyo"

// weekdayKeys maps the YAML keys of hours.weekly to weekdays.
var weekdayKeys = []struct {
	key string
	day time.Weekday
}{
	{"mon", time.Monday}, {"tue", time.Tuesday}, {"wed", time.Wednesday}, {"thu", time.Thursday},
	{"fri", time.Friday}, {"sat", time.Saturday}, {"sun", time.Sunday},
}

// placed is an opening interval and the path of the entry that wrote it;
// overnight marks the part after midnight of the day before's range.
type placed struct {
	iv        reception.Interval
	path      string
	overnight bool
}

// hours converts an hours section. Without one the client is open around
// the clock, public holidays included.
func (c *checker) hours(path string, r *rawHours) reception.Hours {
	tz := DefaultTimezone
	if r != nil && r.Timezone != "" {
		tz = r.Timezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		c.errf(childPath(path, "timezone"), "%q is not an IANA time zone such as Asia/Tokyo", tz)
		loc = time.UTC
	}
	if r == nil {
		return reception.Hours{Location: loc, AlwaysOpen: true}
	}
	h := reception.Hours{Location: loc, PublicHolidays: true}
	if r.PublicHolidays != "" {
		h.PublicHolidays = c.oneOf(childPath(path, "public_holidays"), r.PublicHolidays, HolidaysJP, HolidaysNone) != HolidaysNone
	}
	if r.Weekly == nil {
		c.errf(childPath(path, "weekly"), "is required when hours is given (leave hours out to be always open)")
	}
	var days [7][]placed
	for _, w := range weekdayKeys {
		c.day(childPath(childPath(path, "weekly"), w.key), w.day, r.Weekly[w.key], &days)
	}
	for d, ps := range days {
		for _, p := range ps {
			if p.overnight {
				h.Overnight[d] = append(h.Overnight[d], p.iv)
			} else {
				h.Weekly[d] = append(h.Weekly[d], p.iv)
			}
		}
	}
	for i, rc := range r.Closures {
		h.Closures = append(h.Closures, c.closure(indexPath(childPath(path, "closures"), i), rc))
	}
	return h
}

// day parses one weekday's ranges into days. A range past midnight
// ("22:00-06:00") continues on the next weekday, as a part of the day it
// starts (reception.Hours.Overnight). Overlaps are refused.
func (c *checker) day(path string, day time.Weekday, raws []string, days *[7][]placed) {
	for i, raw := range raws {
		p := indexPath(path, i)
		today, next, err := reception.ParseSpan(raw)
		if err != nil {
			c.errf(p, "%s", rangeProblem(raw))
			continue
		}
		c.place(p, raw, &days[day], placed{iv: today})
		if next.Valid() {
			c.place(p, raw, &days[(day+1)%7], placed{iv: next, overnight: true})
		}
	}
}

// place adds x to a day unless it overlaps an interval already there.
func (c *checker) place(path, raw string, day *[]placed, x placed) {
	for _, o := range *day {
		if x.iv.Start < o.iv.End && o.iv.Start < x.iv.End {
			c.errf(path, "%q overlaps %s (%s)", raw, o.iv, o.path)
			return
		}
	}
	x.path = path
	*day = append(*day, x)
}

// rangeProblem explains why reception.ParseSpan refused a range.
func rangeProblem(raw string) string {
	from, to, ok := reception.SplitRange(raw)
	if !ok {
		return strconv.Quote(raw) + " is not a time range: write HH:MM-HH:MM, e.g. 09:00-18:00"
	}
	var start int
	for i, clock := range []string{from, to} {
		m, err := reception.ParseClock(clock)
		if err != nil {
			return strconv.Quote(raw) + ": " + strconv.Quote(strings.TrimSpace(clock)) + " is not a time of day (HH:MM, 00:00 to 24:00)"
		}
		if i == 0 {
			start = m
		}
	}
	if start == reception.MinutesPerDay {
		return strconv.Quote(raw) + " starts at 24:00, the end of the day: a range past midnight starts before it (22:00-06:00), one after it at 00:00"
	}
	return strconv.Quote(raw) + " is empty: it starts and ends at the same time"
}

func (c *checker) closure(path string, r rawClosure) reception.Closure {
	cl := reception.Closure{Reason: r.Reason}
	from, to := closureDay(r.From), closureDay(r.To)
	if !c.required(childPath(path, "from"), r.From) {
		return cl
	}
	if monthDay.MatchString(from) {
		// Every year: 12-29 to 01-03 (年末年始), 08-13 to 08-16 (お盆).
		cl.Annual = true
		d, ok := parseMonthDay(from)
		if !ok {
			c.errf(childPath(path, "from"), "%q is not a day of the year (MM-DD)", r.From)
		}
		cl.From, cl.To = d, d
		if to != "" {
			switch d, ok := parseMonthDay(to); {
			case !monthDay.MatchString(to):
				c.errf(childPath(path, "to"), "%q: from is a day of every year (MM-DD), so to must be one too", r.To)
			case !ok:
				c.errf(childPath(path, "to"), "%q is not a day of the year (MM-DD)", r.To)
			default:
				cl.To = d
				// Only a closure running over the year's end is bounded: a
				// season's inside one year (06-01 to 09-30) is as written.
				if days := annualSpan(cl.From, cl.To); wraps(cl.From, cl.To) && days > maxWrappingClosure {
					// 08-16 to 08-13 (お盆 written backwards) would close
					// all but two days of every year.
					c.errf(childPath(path, "to"), "%q is before from %q: running over the year's end, the closure would take %d days of every year; an annual closure may run over it for at most %d days (12-29 to 01-03)", r.To, r.From, days, maxWrappingClosure)
				}
			}
		}
		return cl
	}
	d, err := jpholiday.ParseDate(from)
	if err != nil {
		c.errf(childPath(path, "from"), "%q is not a date (YYYY-MM-DD, or MM-DD for every year)", r.From)
	}
	cl.From, cl.To = d, d
	if to != "" {
		d, err := jpholiday.ParseDate(to)
		switch {
		case err != nil && monthDay.MatchString(to):
			c.errf(childPath(path, "to"), "%q: from is a date (YYYY-MM-DD), so to must be one too", r.To)
		case err != nil:
			c.errf(childPath(path, "to"), "%q is not a date (YYYY-MM-DD)", r.To)
		case cl.From.IsValid() && d.Before(cl.From):
			c.errf(childPath(path, "to"), "%s is before from %s", d, cl.From)
		}
		cl.To = d
	}
	return cl
}

// maxWrappingClosure bounds an annual closure that runs over the year's
// end (a winter closure), in days.
const maxWrappingClosure = 92

// annualSpan is how many days an annual closure from..to takes (a leap
// year's count).
func annualSpan(from, to jpholiday.Date) int {
	doy := func(d jpholiday.Date) int { return time.Date(2028, d.Month, d.Day, 0, 0, 0, 0, time.UTC).YearDay() }
	f, t := doy(from), doy(to)
	if t >= f {
		return t - f + 1
	}
	return 366 - f + t + 1
}

// closureDay is a closure's date as typed with a Japanese input method
// (２０２６－１２－２９, 12／29) or with slashes (2026/12/29), in the
// form parsed: half-width digits and hyphens, as the hours' ranges are
// read.
func closureDay(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(strings.Map(phone.FoldRune, width.Fold.String(s))), "/", "-")
	if m := looseDate.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		return fmt.Sprintf("%04d-%02d-%02d", y, mo, d) // 2027-1-3 as 2027-01-03
	}
	return s
}

// looseDate is a date of a year, its month and day of one or two digits.
var looseDate = regexp.MustCompile(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$`)

// wraps reports whether an annual closure from..to runs over the year's
// end (to falls before from).
func wraps(from, to jpholiday.Date) bool {
	return to.Month < from.Month || (to.Month == from.Month && to.Day < from.Day)
}

// monthDay is a closure's day of every year: MM-DD (or M-D).
var monthDay = regexp.MustCompile(`^[0-9]{1,2}-[0-9]{1,2}$`)

// parseMonthDay reads MM-DD as a day some year has (02-29 included).
func parseMonthDay(s string) (jpholiday.Date, bool) {
	m, d, _ := strings.Cut(s, "-")
	mm, err1 := strconv.Atoi(m)
	dd, err2 := strconv.Atoi(d)
	if err1 != nil || err2 != nil {
		return jpholiday.Date{}, false
	}
	if !reception.IsDayOfYear(time.Month(mm), dd) {
		return jpholiday.Date{}, false
	}
	return jpholiday.Date{Month: time.Month(mm), Day: dd}, true
}
