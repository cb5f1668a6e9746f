package jpholiday

// The equinox days are fixed each February by the Cabinet from the National
// Astronomical Observatory's ephemeris. For planning, the widely used
// approximation is
//
//	day = int(C + 0.242194*(Y-1980)) - int((Y-1980)/4)
//
// with C = 20.8431 (March) / 23.2488 (September) for 1980–2099 and
// C = 21.8510 / 24.2488 for 2100–2150. It is evaluated here in exact integer
// micro-days so that no floating-point rounding can move a boundary.
const (
	microDay      = 1_000_000
	tropicalDrift = 242_194 // 0.242194 day per year, in micro-days
)

func equinoxConstants(y int) (spring, autumn int) {
	if y >= 2100 {
		return 21_851_000, 24_248_800
	}
	return 20_843_100, 23_248_800
}

// vernalEquinoxDay returns the March day of 春分の日 for y in [MinYear, MaxYear].
func vernalEquinoxDay(y int) int {
	c, _ := equinoxConstants(y)
	return equinoxDay(c, y)
}

// autumnalEquinoxDay returns the September day of 秋分の日 for y in [MinYear, MaxYear].
func autumnalEquinoxDay(y int) int {
	_, c := equinoxConstants(y)
	return equinoxDay(c, y)
}

func equinoxDay(c, y int) int {
	n := y - 1980 // never negative: y >= MinYear == 1980
	return (c+tropicalDrift*n)/microDay - n/4
}
