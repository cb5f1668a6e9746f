package reception

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/toritsugi/toritsugi/pkg/phone"
	"golang.org/x/text/width"
)

// MinutesPerDay is the number of minutes in a day, the largest Interval.End.
const MinutesPerDay = 24 * 60

var (
	// ErrInvalidInterval is wrapped by every error about a time range.
	ErrInvalidInterval = errors.New("invalid time range")
	// ErrOvernight is wrapped (with ErrInvalidInterval) by ParseInterval for
	// a range that ends the next day, such as "22:00-06:00"; use ParseSpan
	// or Weekly.Add for those.
	ErrOvernight = errors.New("range ends the next day")
)

// Interval is a half-open range [Start, End) of minutes since midnight.
// End may be MinutesPerDay (24:00); End <= Start is invalid.
type Interval struct{ Start, End int }

// Valid reports whether 0 <= Start < End <= MinutesPerDay.
func (iv Interval) Valid() bool {
	return iv.Start >= 0 && iv.End <= MinutesPerDay && iv.End > iv.Start
}

// Contains reports whether minute m of the day lies in iv.
func (iv Interval) Contains(m int) bool { return iv.Start <= m && m < iv.End }

// String formats iv as "09:00-18:00".
func (iv Interval) String() string {
	return formatClock(iv.Start) + "-" + formatClock(iv.End)
}

// Weekly is a weekly schedule indexed by time.Weekday. Intervals of one day
// may overlap or touch; they are merged when evaluated.
type Weekly [7][]Interval

// Add parses a range with ParseSpan and adds it to day. An overnight range
// is split: the part after midnight is added to the next weekday (so
// "22:00-06:00" on Friday opens Friday 22:00-24:00 and Saturday 00:00-06:00).
// The part after midnight then belongs to that next calendar day: a holiday
// or closure on that day closes it.
func (w *Weekly) Add(day time.Weekday, s string) error {
	if day < time.Sunday || day > time.Saturday {
		return fmt.Errorf("add %q to weekday %d: %w", s, int(day), ErrInvalidInterval)
	}
	today, next, err := ParseSpan(s)
	if err != nil {
		return err
	}
	w[day] = append(w[day], today)
	if next.Valid() {
		nd := (day + 1) % 7
		w[nd] = append(w[nd], next)
	}
	return nil
}

// ParseInterval parses a same-day range "HH:MM-HH:MM" ("09:00-18:00",
// "22:00-24:00"); "~" and "〜" are accepted instead of "-". A range ending
// the next day is an error wrapping ErrOvernight.
func ParseInterval(s string) (Interval, error) {
	start, end, err := parseRange(s)
	if err != nil {
		return Interval{}, err
	}
	iv := Interval{Start: start, End: end}
	switch {
	case end < start:
		return Interval{}, fmt.Errorf("parse range %q: %w", s, errors.Join(ErrInvalidInterval, ErrOvernight))
	case !iv.Valid():
		return Interval{}, fmt.Errorf("parse range %q: empty: %w", s, ErrInvalidInterval)
	}
	return iv, nil
}

// ParseSpan parses a range like ParseInterval but also accepts overnight
// ranges: "22:00-06:00" returns today 22:00-24:00 and next 00:00-06:00.
// next is the zero Interval (not Valid) when the range ends the same day;
// "22:00-00:00" means 22:00-24:00.
func ParseSpan(s string) (today, next Interval, err error) {
	start, end, err := parseRange(s)
	if err != nil {
		return Interval{}, Interval{}, err
	}
	if end > start {
		return Interval{Start: start, End: end}, Interval{}, nil
	}
	if start == end || start == MinutesPerDay {
		return Interval{}, Interval{}, fmt.Errorf("parse range %q: empty: %w", s, ErrInvalidInterval)
	}
	today = Interval{Start: start, End: MinutesPerDay}
	if end > 0 {
		next = Interval{Start: 0, End: end}
	}
	return today, next, nil
}

// SplitRange normalises a range as typed with a Japanese input method
// (０９：００～１８：００, 09:00ー18:00: every dash people type as a
// hyphen) and splits it at its dash; ok is false without one.
func SplitRange(s string) (from, to string, ok bool) {
	norm := strings.NewReplacer("〜", "-", "~", "-").Replace(strings.TrimSpace(strings.Map(phone.FoldRune, width.Fold.String(s))))
	return strings.Cut(norm, "-")
}

func parseRange(s string) (start, end int, err error) {
	a, b, ok := SplitRange(s)
	if !ok {
		return 0, 0, fmt.Errorf("parse range %q: want HH:MM-HH:MM: %w", s, ErrInvalidInterval)
	}
	if start, err = ParseClock(a); err != nil {
		return 0, 0, fmt.Errorf("parse range %q: %w", s, err)
	}
	if end, err = ParseClock(b); err != nil {
		return 0, 0, fmt.Errorf("parse range %q: %w", s, err)
	}
	return start, end, nil
}

// ParseClock parses "H:MM" or "HH:MM" (00:00 to 24:00) into minutes since midnight.
func ParseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 || !allDigits(hs) || !allDigits(ms) {
		return 0, fmt.Errorf("clock %q: want HH:MM: %w", s, ErrInvalidInterval)
	}
	h, _ := strconv.Atoi(hs) // digits only, at most 2: cannot fail
	m, _ := strconv.Atoi(ms)
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("clock %q: out of range: %w", s, ErrInvalidInterval)
	}
	return h*60 + m, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func formatClock(m int) string {
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}
