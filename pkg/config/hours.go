package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Tokyo must load on hosts without a zoneinfo database
)

// Hours is when a client is open. When Scheduled is false the client had no
// hours section and is always open; otherwise a weekday without intervals is
// closed all day.
type Hours struct {
	Scheduled      bool
	Timezone       string // IANA name, default Asia/Tokyo
	Location       *time.Location
	Weekly         [7][]Interval // indexed by time.Weekday, sorted, not overlapping
	PublicHolidays string        // "jp" (closed on Japanese public holidays) or "none"
	Closures       []Closure
}

// Public holiday calendars.
const (
	HolidaysJP   = "jp"
	HolidaysNone = "none"
)

// Interval is an opening interval in minutes from local midnight, [Start, End).
// End may be 1440 (written "24:00").
type Interval struct {
	Start, End int
}

// Contains reports whether the minute of day falls within the interval.
func (iv Interval) Contains(minute int) bool { return minute >= iv.Start && minute < iv.End }

// String formats the interval as written in the configuration, "09:00-18:00".
func (iv Interval) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", iv.Start/60, iv.Start%60, iv.End/60, iv.End%60)
}

// Date is a civil date without a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String formats the date as 2006-01-02.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Compare returns -1, 0 or 1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Closure is a client's own closed period, both ends included.
type Closure struct {
	From, To Date
	Reason   string
}

// Contains reports whether the date falls within the closure.
func (c Closure) Contains(d Date) bool { return c.From.Compare(d) <= 0 && d.Compare(c.To) <= 0 }

// OpenWeekly reports whether t falls in the weekly schedule, ignoring public
// holidays and closures (pkg/reception combines those).
func (h *Hours) OpenWeekly(t time.Time) bool {
	if !h.Scheduled {
		return true
	}
	if h.Location != nil {
		t = t.In(h.Location)
	}
	minute := t.Hour()*60 + t.Minute()
	for _, iv := range h.Weekly[t.Weekday()] {
		if iv.Contains(minute) {
			return true
		}
	}
	return false
}

// ClosureOn returns the closure covering the date, if any.
func (h *Hours) ClosureOn(d Date) (Closure, bool) {
	for _, c := range h.Closures {
		if c.Contains(d) {
			return c, true
		}
	}
	return Closure{}, false
}

// weekdayKeys maps the YAML keys of hours.weekly to weekdays.
var weekdayKeys = []struct {
	key string
	day time.Weekday
}{
	{"mon", time.Monday}, {"tue", time.Tuesday}, {"wed", time.Wednesday}, {"thu", time.Thursday},
	{"fri", time.Friday}, {"sat", time.Saturday}, {"sun", time.Sunday},
}

// parseInterval reads "09:00-18:00".
func parseInterval(s string) (Interval, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Interval{}, fmt.Errorf("%q is not an interval: write HH:MM-HH:MM", s)
	}
	start, err := parseClock(strings.TrimSpace(from), false)
	if err != nil {
		return Interval{}, fmt.Errorf("%q: %w", s, err)
	}
	end, err := parseClock(strings.TrimSpace(to), true)
	if err != nil {
		return Interval{}, fmt.Errorf("%q: %w", s, err)
	}
	if end <= start {
		return Interval{}, fmt.Errorf("%q ends before it starts: split intervals that cross midnight over two days", s)
	}
	return Interval{start, end}, nil
}

// parseClock reads "HH:MM"; "24:00" only as an end.
func parseClock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !allDigits(h) || !allDigits(m) {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	switch {
	case hh == 24 && mm == 0 && end:
		return 24 * 60, nil
	case hh > 23 || mm > 59:
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	return hh*60 + mm, nil
}

// parseDate reads a civil date "2006-01-02".
func parseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}
