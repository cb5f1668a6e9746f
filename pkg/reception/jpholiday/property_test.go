package jpholiday

import (
	"testing"
	"time"
)

// TestYearProperties checks invariants of every supported year.
func TestYearProperties(t *testing.T) {
	for y := MinYear; y <= MaxYear; y++ {
		checkYear(t, y)
	}
}

func checkYear(t *testing.T, y int) {
	t.Helper()
	hs := HolidaysIn(y)
	national := 0
	for i, h := range hs {
		if h.Date.Year != y || !h.Date.IsValid() {
			t.Errorf("%d: entry %v outside the year or invalid", y, h)
		}
		if i > 0 && !hs[i-1].Date.Before(h.Date) {
			t.Errorf("%d: %v listed after %v (unsorted or twice)", y, h, hs[i-1])
		}
		if name, ok := Holiday(h.Date); !ok || name != h.Name {
			t.Errorf("%d: Holiday(%v) = %q, %v; want %q", y, h.Date, name, ok, h.Name)
		}
		switch h.Kind {
		case KindNational:
			national++
		case KindSubstitute:
			if h.Date.Weekday() == time.Sunday {
				t.Errorf("%d: substitute holiday %v on a Sunday", y, h.Date)
			}
			// Walk back over consecutive holidays: the chain must start from a Sunday 祝日.
			d := h.Date.AddDays(-1)
			for {
				if _, ok := Holiday(d); !ok {
					t.Errorf("%d: substitute %v follows no Sunday holiday", y, h.Date)
					break
				}
				if d.Weekday() == time.Sunday {
					break
				}
				d = d.AddDays(-1)
			}
		case KindCitizens:
			if h.Date.Weekday() == time.Sunday {
				t.Errorf("%d: citizens' holiday %v on a Sunday", y, h.Date)
			}
		default:
			t.Errorf("%d: %v has no kind", y, h)
		}
		if h.Kind != KindNational && h.Name != NameSubstituteDay {
			t.Errorf("%d: %v: substitute and citizens' days must be named %q", y, h, NameSubstituteDay)
		}
	}
	minN, maxN := 12, 17
	if y >= 2016 {
		minN, maxN = 14, 18 // 16 ± 2 under the current law
	}
	if national < minN || national > maxN {
		t.Errorf("%d: %d national holidays, want %d..%d", y, national, minN, maxN)
	}
}

// FuzzHoliday checks that Holiday and HolidaysIn agree for any day.
func FuzzHoliday(f *testing.F) {
	f.Add(2024, 0)
	f.Add(2019, 120)
	f.Add(1979, 364)
	f.Add(2150, 365)
	f.Fuzz(func(t *testing.T, year, yday int) {
		if year < -100000 || year > 100000 {
			return // time.Date overflow is not interesting
		}
		d := NewDate(year, time.January, 1+yday%400)
		name, ok := Holiday(d)
		found := false
		for _, h := range HolidaysIn(d.Year) {
			if h.Date == d {
				found = true
				if !ok || h.Name != name {
					t.Fatalf("Holiday(%v) = %q, %v; HolidaysIn lists %q", d, name, ok, h.Name)
				}
			}
		}
		if ok && !found {
			t.Fatalf("Holiday(%v) = %q but HolidaysIn does not list it", d, name)
		}
		if ok && d.Weekday() == time.Sunday && name == NameSubstituteDay {
			t.Fatalf("%v: a 休日 on a Sunday", d)
		}
	})
}
