package jpholiday

import (
	"slices"
	"sync"
	"time"
)

// The years for which holidays are computed. Outside this range HolidaysIn
// returns nil and Holiday reports no holiday.
const (
	MinYear = 1980
	MaxYear = 2150
)

// Kind tells why a day is a holiday.
type Kind uint8

// Kinds of holiday.
const (
	// KindNational is a 国民の祝日 (or a one-off day a special law treats as one).
	KindNational Kind = iota + 1
	// KindSubstitute is a 振替休日: the first day after a 祝日 falling on a
	// Sunday that is not itself a 祝日.
	KindSubstitute
	// KindCitizens is a 国民の休日: a day that is not a 祝日 between two 祝日.
	KindCitizens
)

// String returns a short English name of k.
func (k Kind) String() string {
	switch k {
	case KindNational:
		return "national"
	case KindSubstitute:
		return "substitute"
	case KindCitizens:
		return "citizens"
	default:
		return "unknown"
	}
}

// HolidayEntry is one holiday. Substitute and citizens' holidays are named
// "休日" (NameSubstituteDay), as in the Cabinet Office's list.
type HolidayEntry struct {
	Date Date
	Name string
	Kind Kind
}

// HolidaysIn returns the public holidays of year in date order: the 祝日, the
// 振替休日 and the 国民の休日. The result is a fresh slice the caller may keep.
func HolidaysIn(year int) []HolidayEntry {
	if year < MinYear || year > MaxYear {
		return nil
	}
	return slices.Clone(table()[year-MinYear])
}

// Holiday reports whether d is a public holiday in Japan and its name.
func Holiday(d Date) (name string, ok bool) {
	if d.Year < MinYear || d.Year > MaxYear {
		return "", false
	}
	for _, h := range table()[d.Year-MinYear] {
		if h.Date == d {
			return h.Name, true
		}
	}
	return "", false
}

// table computes every supported year once, on first use.
var table = sync.OnceValue(func() [][]HolidayEntry {
	t := make([][]HolidayEntry, MaxYear-MinYear+1)
	for y := MinYear; y <= MaxYear; y++ {
		t[y-MinYear] = computeYear(y)
	}
	return t
})

// computeYear applies the 振替休日 and 国民の休日 rules to the 祝日 of y.
func computeYear(y int) []HolidayEntry {
	named := namedHolidays(y)
	isNamed := make(map[Date]bool, len(named))
	for _, h := range named {
		isNamed[h.Date] = true
	}
	out := slices.Clone(named)
	isOff := make(map[Date]bool, len(named)+8)
	for d := range isNamed {
		isOff[d] = true
	}

	// 振替休日 (since 1973): until 2006 only the day after a Sunday 祝日;
	// from 2007 the nearest following day that is not a 祝日.
	for _, h := range named {
		if h.Date.Weekday() != time.Sunday {
			continue
		}
		d := h.Date.AddDays(1)
		for y >= 2007 && isNamed[d] {
			d = d.AddDays(1)
		}
		if isOff[d] {
			continue
		}
		isOff[d] = true
		out = append(out, HolidayEntry{Date: d, Name: NameSubstituteDay, Kind: KindSubstitute})
	}

	// 国民の休日 (since 1986): a non-祝日 day between two 祝日; until 2006 not
	// when that day is a Sunday or already a 振替休日.
	if y >= 1986 {
		for _, h := range named {
			d := h.Date.AddDays(1)
			if isOff[d] || !isNamed[d.AddDays(1)] || d.Year != y {
				continue
			}
			if y < 2007 && d.Weekday() == time.Sunday {
				continue
			}
			isOff[d] = true
			out = append(out, HolidayEntry{Date: d, Name: NameSubstituteDay, Kind: KindCitizens})
		}
	}

	slices.SortFunc(out, func(a, b HolidayEntry) int { return a.Date.Compare(b.Date) })
	return out
}
