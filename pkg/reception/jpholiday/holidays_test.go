package jpholiday

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/internal/golden"
)

// TestReferenceList asserts exact equality with the Cabinet Office style list
// of (date, name) for 2024–2027.
func TestReferenceList(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "jp-public-holidays-2024-2027.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) < 2 || !slices.Equal(records[0], []string{"date", "name"}) {
		t.Fatalf("unexpected header %v", records[0])
	}
	var want []string
	for _, r := range records[1:] {
		want = append(want, r[0]+","+r[1])
	}
	var got []string
	for y := 2024; y <= 2027; y++ {
		for _, h := range HolidaysIn(y) {
			got = append(got, h.Date.String()+","+h.Name)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("holidays 2024–2027 differ from the reference\n got: %v\nwant: %v", got, want)
	}
}

// TestSpecialYears checks 2019 (accession), 2020 and 2021 (Olympics) in full.
func TestSpecialYears(t *testing.T) {
	tests := map[int]string{
		2019: "01-01 元日|01-14 成人の日|02-11 建国記念の日|03-21 春分の日|04-29 昭和の日|04-30 休日|" +
			"05-01 天皇の即位の日|05-02 休日|05-03 憲法記念日|05-04 みどりの日|05-05 こどもの日|05-06 休日|" +
			"07-15 海の日|08-11 山の日|08-12 休日|09-16 敬老の日|09-23 秋分の日|10-14 体育の日|" +
			"10-22 即位礼正殿の儀|11-03 文化の日|11-04 休日|11-23 勤労感謝の日",
		2020: "01-01 元日|01-13 成人の日|02-11 建国記念の日|02-23 天皇誕生日|02-24 休日|03-20 春分の日|" +
			"04-29 昭和の日|05-03 憲法記念日|05-04 みどりの日|05-05 こどもの日|05-06 休日|07-23 海の日|" +
			"07-24 スポーツの日|08-10 山の日|09-21 敬老の日|09-22 秋分の日|11-03 文化の日|11-23 勤労感謝の日",
		2021: "01-01 元日|01-11 成人の日|02-11 建国記念の日|02-23 天皇誕生日|03-20 春分の日|04-29 昭和の日|" +
			"05-03 憲法記念日|05-04 みどりの日|05-05 こどもの日|07-22 海の日|07-23 スポーツの日|08-08 山の日|" +
			"08-09 休日|09-20 敬老の日|09-23 秋分の日|11-03 文化の日|11-23 勤労感謝の日",
	}
	for year, list := range tests {
		t.Run(fmt.Sprint(year), func(t *testing.T) {
			var got []string
			for _, h := range HolidaysIn(year) {
				got = append(got, fmt.Sprintf("%02d-%02d %s", int(h.Date.Month), h.Date.Day, h.Name))
			}
			if want := strings.Split(list, "|"); !slices.Equal(got, want) {
				t.Errorf("HolidaysIn(%d)\n got: %v\nwant: %v", year, got, want)
			}
		})
	}
}

func TestHolidayLookup(t *testing.T) {
	tests := []struct {
		d        Date
		wantName string
		wantOK   bool
	}{
		{Date{2024, time.January, 1}, NameNewYear, true},
		{Date{2024, time.January, 2}, "", false},
		{Date{2024, time.May, 6}, NameSubstituteDay, true},        // こどもの日 on Sunday
		{Date{2026, time.September, 22}, NameSubstituteDay, true}, // 国民の休日
		{Date{2019, time.December, 23}, "", false},                // no 天皇誕生日 in 2019
		{Date{2018, time.December, 23}, NameEmperorsBirthday, true},
		{Date{1988, time.April, 29}, NameEmperorsBirthday, true},
		{Date{2006, time.April, 29}, NameGreenery, true},
		{Date{2006, time.May, 4}, NameSubstituteDay, true}, // pre-2007 国民の休日
		{Date{2003, time.May, 4}, "", false},               // a Sunday: no 国民の休日 before 2007
		{Date{2008, time.May, 6}, NameSubstituteDay, true}, // 5/4 Sunday → next non-祝日 day
		{Date{2015, time.August, 11}, "", false},           // before 山の日
		{Date{1979, time.January, 1}, "", false},           // out of range
		{Date{2151, time.January, 1}, "", false},
	}
	for _, tc := range tests {
		name, ok := Holiday(tc.d)
		if name != tc.wantName || ok != tc.wantOK {
			t.Errorf("Holiday(%v) = %q, %v; want %q, %v", tc.d, name, ok, tc.wantName, tc.wantOK)
		}
	}
	if HolidaysIn(1979) != nil || HolidaysIn(2151) != nil {
		t.Errorf("HolidaysIn out of range must be nil")
	}
}

func TestEquinoxes(t *testing.T) {
	// Days announced in the official gazette (官報).
	tests := []struct{ year, spring, autumn int }{
		{1980, 20, 23}, {1984, 20, 23}, {1992, 20, 23}, {2000, 20, 23}, {2012, 20, 22},
		{2016, 20, 22}, {2019, 21, 23}, {2023, 21, 23}, {2024, 20, 22}, {2025, 20, 23},
		{2026, 20, 23}, {2027, 21, 23},
	}
	for _, tc := range tests {
		if s, a := vernalEquinoxDay(tc.year), autumnalEquinoxDay(tc.year); s != tc.spring || a != tc.autumn {
			t.Errorf("%d equinoxes = 3/%d, 9/%d; want 3/%d, 9/%d", tc.year, s, a, tc.spring, tc.autumn)
		}
	}
}

// TestGolden pins every computed year. The dates of 1980–2050 were checked
// once against an independent list (holiday_jp); run with -update after a
// deliberate rule change.
func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	for y := MinYear; y <= MaxYear; y++ {
		for _, h := range HolidaysIn(y) {
			fmt.Fprintf(&buf, "%s,%s,%s\n", h.Date, h.Name, h.Kind)
		}
	}
	golden.Check(t, filepath.Join("testdata", "holidays.golden"), buf.Bytes())
}
