package reception

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Tokyo on machines without a tz database
)

func mustTokyo(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at is a wall-clock instant in Japan.
func at(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, tokyo)
}

func mustInterval(t testing.TB, s string) Interval {
	t.Helper()
	iv, err := ParseInterval(s)
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

// officeHours: Mon–Fri 09:00–18:00, closed on public holidays and 年末年始.
func officeHours(t testing.TB, loc *time.Location) Hours {
	day := []Interval{mustInterval(t, "09:00-18:00")}
	return Hours{
		Location:       loc,
		Weekly:         Weekly{time.Monday: day, time.Tuesday: day, time.Wednesday: day, time.Thursday: day, time.Friday: day},
		PublicHolidays: true,
		Closures: []Closure{{
			From: Date{Year: 2025, Month: time.December, Day: 29}, To: Date{Year: 2026, Month: time.January, Day: 4}, Reason: "年末年始",
		}},
	}
}

func TestHoursAt(t *testing.T) {
	tests := []struct {
		name   string
		t      time.Time
		open   bool
		reason string
		next   time.Time
	}{
		{"just before opening", at(2025, 12, 1, 8, 59, 59), false, ReasonOutsideHours, at(2025, 12, 1, 9, 0, 0)},
		{"opening minute", at(2025, 12, 1, 9, 0, 0), true, ReasonWeekly, at(2025, 12, 1, 18, 0, 0)},
		{"last second", at(2025, 12, 1, 17, 59, 59), true, ReasonWeekly, at(2025, 12, 1, 18, 0, 0)},
		{"closing minute", at(2025, 12, 1, 18, 0, 0), false, ReasonOutsideHours, at(2025, 12, 2, 9, 0, 0)},
		{"midnight", at(2025, 12, 2, 0, 0, 0), false, ReasonOutsideHours, at(2025, 12, 2, 9, 0, 0)},
		{"friday evening", at(2025, 12, 5, 18, 0, 0), false, ReasonOutsideHours, at(2025, 12, 8, 9, 0, 0)},
		{"saturday", at(2025, 12, 6, 12, 0, 0), false, ReasonOutsideHours, at(2025, 12, 8, 9, 0, 0)},
		{"last day before new year", at(2025, 12, 26, 17, 0, 0), true, ReasonWeekly, at(2025, 12, 26, 18, 0, 0)},
		{"closure first day", at(2025, 12, 29, 10, 0, 0), false, "closure:年末年始", at(2026, 1, 5, 9, 0, 0)},
		{"closure wins over 元日", at(2026, 1, 1, 10, 0, 0), false, "closure:年末年始", at(2026, 1, 5, 9, 0, 0)},
		{"closure last day", at(2026, 1, 4, 23, 59, 59), false, "closure:年末年始", at(2026, 1, 5, 9, 0, 0)},
		{"first day after closure", at(2026, 1, 5, 9, 0, 0), true, ReasonWeekly, at(2026, 1, 5, 18, 0, 0)},
		{"holiday on a wednesday", at(2026, 2, 11, 10, 0, 0), false, "public-holiday:建国記念の日", at(2026, 2, 12, 9, 0, 0)},
		{"evening before a holiday", at(2026, 2, 10, 18, 0, 0), false, ReasonOutsideHours, at(2026, 2, 12, 9, 0, 0)},
		{"substitute holiday", at(2025, 11, 24, 10, 0, 0), false, "public-holiday:休日", at(2025, 11, 25, 9, 0, 0)},
		{"friday before a monday holiday", at(2026, 1, 9, 17, 0, 0), true, ReasonWeekly, at(2026, 1, 9, 18, 0, 0)},
		{"weekend before a monday holiday", at(2026, 1, 10, 10, 0, 0), false, ReasonOutsideHours, at(2026, 1, 13, 9, 0, 0)},
		{"instant given in UTC", time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), true, ReasonWeekly, at(2025, 12, 1, 18, 0, 0)},
	}
	for _, locName := range []string{"nil", "Asia/Tokyo"} {
		var loc *time.Location
		if locName != "nil" {
			loc = mustTokyo(t)
		}
		h := officeHours(t, loc)
		for _, tc := range tests {
			t.Run(locName+"/"+tc.name, func(t *testing.T) {
				got := h.At(tc.t)
				if got.Open != tc.open || got.Reason != tc.reason || !got.NextChange.Equal(tc.next) {
					t.Errorf("At(%v) = %+v; want open=%v reason=%q next=%v", tc.t, got, tc.open, tc.reason, tc.next)
				}
			})
		}
	}
}

func TestHoursVariants(t *testing.T) {
	var overnight Weekly
	for _, d := range []time.Weekday{time.Thursday, time.Friday} {
		if err := overnight.Add(d, "22:00-06:00"); err != nil {
			t.Fatal(err)
		}
	}
	newYear := []Closure{{From: Date{Year: 2025, Month: time.December, Day: 31}, To: Date{Year: 2026, Month: time.January, Day: 1}}}
	annualNewYear := []Closure{{From: Date{Month: time.December, Day: 29}, To: Date{Month: time.January, Day: 3}, Reason: "年末年始", Annual: true}}
	annualObon := []Closure{{From: Date{Month: time.August, Day: 13}, To: Date{Month: time.August, Day: 16}, Reason: "夏季休業", Annual: true}}
	leapDay := []Closure{{From: Date{Month: time.February, Day: 29}, To: Date{Month: time.February, Day: 29}, Annual: true}}
	tests := []struct {
		name   string
		h      Hours
		t      time.Time
		open   bool
		reason string
		next   time.Time
	}{
		{"no hours at all", Hours{}, at(2025, 12, 1, 10, 0, 0), false, ReasonOutsideHours, time.Time{}},
		{"always open", Hours{AlwaysOpen: true}, at(2025, 12, 1, 3, 0, 0), true, ReasonAlwaysOpen, time.Time{}},
		{"always open, holiday ignored without PublicHolidays", Hours{AlwaysOpen: true}, at(2026, 1, 1, 3, 0, 0), true, ReasonAlwaysOpen, time.Time{}},
		{"always open but closed on holidays", Hours{AlwaysOpen: true, PublicHolidays: true}, at(2026, 1, 1, 3, 0, 0), false, "public-holiday:元日", at(2026, 1, 2, 0, 0, 0)},
		{"always open until a closure", Hours{AlwaysOpen: true, Closures: newYear}, at(2025, 12, 30, 12, 0, 0), true, ReasonAlwaysOpen, at(2025, 12, 31, 0, 0, 0)},
		{"closure without reason", Hours{AlwaysOpen: true, Closures: newYear}, at(2025, 12, 31, 12, 0, 0), false, ReasonClosure, at(2026, 1, 2, 0, 0, 0)},
		{"holiday open when not observed", Hours{Weekly: Weekly{time.Wednesday: {{540, 1080}}}}, at(2026, 2, 11, 10, 0, 0), true, ReasonWeekly, at(2026, 2, 11, 18, 0, 0)},
		{"overnight before midnight", Hours{Weekly: overnight}, at(2025, 12, 4, 23, 59, 0), true, ReasonWeekly, at(2025, 12, 5, 6, 0, 0)},
		{"overnight after midnight", Hours{Weekly: overnight}, at(2025, 12, 5, 5, 59, 59), true, ReasonWeekly, at(2025, 12, 5, 6, 0, 0)},
		{"overnight closes", Hours{Weekly: overnight}, at(2025, 12, 5, 6, 0, 0), false, ReasonOutsideHours, at(2025, 12, 5, 22, 0, 0)},
		{"overnight into a closed new year", Hours{Weekly: overnight, Closures: newYear}, at(2026, 1, 1, 5, 0, 0), false, ReasonClosure, at(2026, 1, 2, 0, 0, 0)}, // Thursday 1/1 is closed, but the after-midnight part of Thursday night belongs to Friday and opens
		{"overnight cut at closure start", Hours{Weekly: Weekly{time.Tuesday: {{1320, 1440}}, time.Wednesday: {{0, 360}}}, Closures: newYear}, at(2025, 12, 30, 23, 0, 0), true, ReasonWeekly, at(2025, 12, 31, 0, 0, 0)},
		{"invalid intervals ignored", Hours{Weekly: Weekly{time.Monday: {{600, 500}, {-5, 30}}}}, at(2025, 12, 1, 9, 0, 0), false, ReasonOutsideHours, time.Time{}},
		// A night range belongs to the day it starts (文化の日: Tuesday
		// 2026-11-03).
		{"a night shift runs into a holiday", nightShifts(), at(2026, 11, 3, 1, 0, 0), true, ReasonWeekly, at(2026, 11, 3, 2, 0, 0)},
		{"no night shift on a holiday night", nightShifts(), at(2026, 11, 3, 22, 30, 0), false, "public-holiday:文化の日", at(2026, 11, 4, 22, 0, 0)},
		{"nor after its midnight", nightShifts(), at(2026, 11, 4, 1, 0, 0), false, ReasonOutsideHours, at(2026, 11, 4, 22, 0, 0)},
		{"a night shift runs into a closure", nightShifts(), at(2026, 1, 10, 1, 30, 0), true, ReasonWeekly, at(2026, 1, 10, 2, 0, 0)},
		{"no night shift on a closed day", nightShifts(), at(2026, 1, 11, 1, 30, 0), false, ReasonOutsideHours, at(2026, 1, 11, 22, 0, 0)},
		// 年末年始 every year, 12/29 to 1/3: any year, across its end.
		{"annual closure, a later year", Hours{AlwaysOpen: true, Closures: annualNewYear}, at(2031, 12, 30, 12, 0, 0), false, "closure:年末年始", at(2032, 1, 4, 0, 0, 0)},
		{"annual closure, its last day", Hours{AlwaysOpen: true, Closures: annualNewYear}, at(2029, 1, 3, 23, 59, 0), false, "closure:年末年始", at(2029, 1, 4, 0, 0, 0)},
		{"annual closure, the day before", Hours{AlwaysOpen: true, Closures: annualNewYear}, at(2029, 12, 28, 12, 0, 0), true, ReasonAlwaysOpen, at(2029, 12, 29, 0, 0, 0)},
		{"annual closure within a year", Hours{AlwaysOpen: true, Closures: annualObon}, at(2030, 8, 14, 12, 0, 0), false, "closure:夏季休業", at(2030, 8, 17, 0, 0, 0)},
		{"annual closure on 2/29, a leap year", Hours{AlwaysOpen: true, Closures: leapDay}, at(2028, 2, 29, 12, 0, 0), false, ReasonClosure, at(2028, 3, 1, 0, 0, 0)},
		{"annual closure on 2/29, another year", Hours{AlwaysOpen: true, Closures: leapDay}, at(2027, 3, 1, 12, 0, 0), true, ReasonAlwaysOpen, time.Time{}}, // beyond the 14 days NextChange looks
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.h.At(tc.t)
			if got.Open != tc.open || got.Reason != tc.reason || !got.NextChange.Equal(tc.next) {
				t.Errorf("At(%v) = %+v; want open=%v reason=%q next=%v", tc.t, got, tc.open, tc.reason, tc.next)
			}
		})
	}
}

// TestNextChangeIsATransition checks, minute by minute over a month, that
// NextChange is the first instant where the state flips.
func TestNextChangeIsATransition(t *testing.T) {
	h := officeHours(t, nil)
	h.Weekly[time.Saturday] = []Interval{{600, 720}}
	t.Run("office", func(t *testing.T) { nextChangeIsATransition(t, h, at(2025, 12, 20, 0, 0, 0)) })
	// Night shifts across the new year's holidays and a closure.
	t.Run("night shifts", func(t *testing.T) { nextChangeIsATransition(t, nightShifts(), at(2025, 12, 20, 0, 0, 0)) })
}

// nightShifts: 22:00-02:00 every night, closed on public holidays and on
// 2026-01-10.
func nightShifts() Hours {
	h := Hours{PublicHolidays: true, Closures: []Closure{{From: Date{Year: 2026, Month: 1, Day: 10}, To: Date{Year: 2026, Month: 1, Day: 10}}}}
	for d := range h.Weekly {
		h.Weekly[d] = []Interval{{1320, MinutesPerDay}}
		h.Overnight[d] = []Interval{{0, 120}}
	}
	return h
}

func nextChangeIsATransition(t *testing.T, h Hours, start time.Time) {
	prev := h.At(start)
	for m := 1; m < 31*24*60; m += 7 {
		now := start.Add(time.Duration(m) * time.Minute)
		s := h.At(now)
		if !prev.NextChange.IsZero() && now.Before(prev.NextChange) && s.Open != prev.Open {
			t.Fatalf("state flipped at %v before NextChange %v", now, prev.NextChange)
		}
		if !s.NextChange.IsZero() {
			if !s.NextChange.After(now) || h.At(s.NextChange).Open == s.Open {
				t.Fatalf("At(%v).NextChange = %v is not a transition", now, s.NextChange)
			}
			if s.NextChange.Sub(now) > 14*24*time.Hour {
				t.Fatalf("NextChange beyond 14 days: %v", s.NextChange)
			}
		}
		prev = s
	}
}

func TestHoursValidate(t *testing.T) {
	good := officeHours(t, nil)
	if err := good.Validate(); err != nil {
		t.Fatalf("valid hours: %v", err)
	}
	bad := good
	bad.Weekly[time.Sunday] = []Interval{{600, 600}}
	if err := bad.Validate(); !errors.Is(err, ErrInvalidHours) || !errors.Is(err, ErrInvalidInterval) {
		t.Errorf("empty interval: err = %v", err)
	}
	bad = good
	bad.Closures = []Closure{{From: Date{Year: 2026, Month: time.January, Day: 2}, To: Date{Year: 2026, Month: time.January, Day: 1}}}
	if err := bad.Validate(); !errors.Is(err, ErrInvalidHours) {
		t.Errorf("reversed closure: err = %v", err)
	}
	bad.Closures = []Closure{{From: Date{}, To: Date{Year: 2026, Month: time.January, Day: 1}}}
	if err := bad.Validate(); !errors.Is(err, ErrInvalidHours) {
		t.Errorf("zero closure date: err = %v", err)
	}
	// Annual closures: a day some year has, the end before the start
	// running into the next year.
	ok := good
	ok.Closures = []Closure{{From: Date{Month: time.December, Day: 29}, To: Date{Month: time.January, Day: 3}, Annual: true},
		{From: Date{Month: time.February, Day: 29}, To: Date{Month: time.February, Day: 29}, Annual: true}}
	if err := ok.Validate(); err != nil {
		t.Errorf("annual closures: %v", err)
	}
	for _, c := range []Closure{{From: Date{Month: 13, Day: 1}, To: Date{Month: 13, Day: 1}, Annual: true},
		{From: Date{Month: time.February, Day: 30}, To: Date{Month: time.March, Day: 1}, Annual: true}} {
		bad.Closures = []Closure{c}
		if err := bad.Validate(); !errors.Is(err, ErrInvalidHours) {
			t.Errorf("annual closure %v: err = %v", c, err)
		}
	}
}

// TestNeverShutAsTheWalk: hours open at every instant answer what the walk
// over the horizon gives, in any zone, daylight saving included.
func TestNeverShutAsTheWalk(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err) // time/tzdata is embedded: never missing
	}
	for _, loc := range []*time.Location{nil, tokyo, time.UTC, ny} {
		h := Hours{Location: loc, AlwaysOpen: true, Weekly: [7][]Interval{{{Start: 60, End: 120}}}}
		if !h.neverShut() {
			t.Fatal("not never shut")
		}
		for _, at := range []time.Time{at(2026, 11, 30, 9, 0, 0), at(2027, 3, 14, 1, 59, 0), at(2027, 11, 7, 0, 30, 0), at(2026, 12, 31, 23, 59, 59)} {
			tt := at.In(h.location())
			want := h.stateAt(tt)
			want.NextChange = h.nextChange(tt, want.Open)
			if got := h.At(at); got != want {
				t.Errorf("%v at %v: %+v, the walk gives %+v", loc, at, got, want)
			}
		}
	}
	for _, h := range []Hours{{AlwaysOpen: true, PublicHolidays: true}, {AlwaysOpen: true, Closures: []Closure{{}}}, {}} {
		if h.neverShut() {
			t.Errorf("%+v: never shut", h)
		}
	}
}
