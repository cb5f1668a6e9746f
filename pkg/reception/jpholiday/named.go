package jpholiday

import "time"

// Holiday names as written in the law (国民の祝日に関する法律) and the special
// laws for the one-off days.
const (
	NameNewYear          = "元日"
	NameComingOfAge      = "成人の日"
	NameFoundation       = "建国記念の日"
	NameEmperorsBirthday = "天皇誕生日"
	NameVernalEquinox    = "春分の日"
	NameShowa            = "昭和の日"
	NameGreenery         = "みどりの日"
	NameConstitution     = "憲法記念日"
	NameChildren         = "こどもの日"
	NameMarine           = "海の日"
	NameMountain         = "山の日"
	NameRespectForAged   = "敬老の日"
	NameAutumnalEquinox  = "秋分の日"
	NameHealthSports     = "体育の日"
	NameSports           = "スポーツの日"
	NameCulture          = "文化の日"
	NameLabourThanks     = "勤労感謝の日"

	NameShowaFuneral  = "昭和天皇の大喪の礼"
	NameEnthronement  = "即位礼正殿の儀"
	NameRoyalWedding  = "結婚の儀"
	NameAccessionDay  = "天皇の即位の日"
	NameSubstituteDay = "休日" // used for both 振替休日 and 国民の休日, as the Cabinet Office lists them
)

// namedHolidays returns the 国民の祝日 (and the one-off days that special laws
// treat as such) of year y, unsorted. Rules follow the law as amended over time:
//
//   - 成人の日 1/15 until 1999, 2nd Monday of January from 2000.
//   - 天皇誕生日 4/29 until 1988, 12/23 1989–2018, none in 2019, 2/23 from 2020.
//   - 4/29: みどりの日 1989–2006, 昭和の日 from 2007; みどりの日 moves to 5/4 in 2007.
//   - 海の日 7/20 1996–2002, 3rd Monday of July from 2003.
//   - 山の日 8/11 from 2016.
//   - 敬老の日 9/15 until 2002, 3rd Monday of September from 2003.
//   - 体育の日 10/10 until 1999, 2nd Monday of October 2000–2019; スポーツの日 from 2020.
//   - 2020 and 2021: 海の日, スポーツの日 and 山の日 moved for the Tokyo Olympics.
func namedHolidays(y int) []HolidayEntry {
	var out []HolidayEntry
	add := func(m time.Month, d int, name string) {
		out = append(out, HolidayEntry{Date: Date{Year: y, Month: m, Day: d}, Name: name, Kind: KindNational})
	}

	add(time.January, 1, NameNewYear)
	if y < 2000 {
		add(time.January, 15, NameComingOfAge)
	} else {
		add(time.January, nthMonday(y, time.January, 2), NameComingOfAge)
	}
	add(time.February, 11, NameFoundation)
	add(time.March, vernalEquinoxDay(y), NameVernalEquinox)

	switch {
	case y <= 1988:
		add(time.April, 29, NameEmperorsBirthday)
	case y <= 2006:
		add(time.April, 29, NameGreenery)
	default:
		add(time.April, 29, NameShowa)
		add(time.May, 4, NameGreenery)
	}
	switch {
	case y >= 1989 && y <= 2018:
		add(time.December, 23, NameEmperorsBirthday)
	case y >= 2020:
		add(time.February, 23, NameEmperorsBirthday)
	}

	add(time.May, 3, NameConstitution)
	add(time.May, 5, NameChildren)

	switch {
	case y == 2020:
		add(time.July, 23, NameMarine)
	case y == 2021:
		add(time.July, 22, NameMarine)
	case y >= 2003:
		add(time.July, nthMonday(y, time.July, 3), NameMarine)
	case y >= 1996:
		add(time.July, 20, NameMarine)
	}

	switch {
	case y == 2020:
		add(time.August, 10, NameMountain)
	case y == 2021:
		add(time.August, 8, NameMountain)
	case y >= 2016:
		add(time.August, 11, NameMountain)
	}

	if y < 2003 {
		add(time.September, 15, NameRespectForAged)
	} else {
		add(time.September, nthMonday(y, time.September, 3), NameRespectForAged)
	}
	add(time.September, autumnalEquinoxDay(y), NameAutumnalEquinox)

	switch {
	case y < 2000:
		add(time.October, 10, NameHealthSports)
	case y < 2020:
		add(time.October, nthMonday(y, time.October, 2), NameHealthSports)
	case y == 2020:
		add(time.July, 24, NameSports)
	case y == 2021:
		add(time.July, 23, NameSports)
	default:
		add(time.October, nthMonday(y, time.October, 2), NameSports)
	}

	add(time.November, 3, NameCulture)
	add(time.November, 23, NameLabourThanks)

	switch y {
	case 1989:
		add(time.February, 24, NameShowaFuneral)
	case 1990:
		add(time.November, 12, NameEnthronement)
	case 1993:
		add(time.June, 9, NameRoyalWedding)
	case 2019:
		add(time.May, 1, NameAccessionDay)
		add(time.October, 22, NameEnthronement)
	}
	return out
}

// nthMonday returns the day of month of the n-th Monday of month m in year y.
func nthMonday(y int, m time.Month, n int) int {
	first := Date{Year: y, Month: m, Day: 1}.Weekday()
	offset := (int(time.Monday) - int(first) + 7) % 7
	return 1 + offset + 7*(n-1)
}
