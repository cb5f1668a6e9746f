package config

import (
	"slices"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/reception"
	"github.com/toritsugi/toritsugi/pkg/reception/jpholiday"
)

// withClient is a valid configuration whose one client has the given extra
// YAML (indented under the client).
func withClient(extra string) []byte {
	return []byte("ari: {user: u, password: p}\ndata_dir: /d\nclients:\n  - id: acme\n    name: ACME\n" +
		"    dids: [\"03-1234-5678\"]\n    greeting: sound:acme\n" + extra +
		"operators:\n  - {id: op1, name: 佐藤, endpoint: PJSIP/op1, clients: [\"*\"]}\n")
}

func TestHoursSection(t *testing.T) {
	cfg, err := Parse("h.yaml", withClient(`    hours:
      timezone: Europe/London
      public_holidays: none
      weekly:
        mon: ["09:00-12:00", "13:00~18:00"]
        fri: ["22:00-06:00"]
        sun: ["9:30-10:00"]
      closures:
        - {from: 2026-12-29, to: 2027-01-03, reason: 年末年始}
        - {from: 2027-08-13}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Clients[0].Hours
	if h.AlwaysOpen || h.PublicHolidays || h.Location.String() != "Europe/London" {
		t.Errorf("hours = %+v", h)
	}
	want := reception.Weekly{
		time.Monday: {{Start: 540, End: 720}, {Start: 780, End: 1080}},
		time.Friday: {{Start: 1320, End: 1440}},
		time.Sunday: {{Start: 570, End: 600}},
	}
	// Friday's night range after midnight: Friday's, on Saturday.
	wantOvernight := reception.Weekly{time.Saturday: {{Start: 0, End: 360}}}
	for d := range want {
		if !slices.Equal(h.Weekly[d], want[d]) || !slices.Equal(h.Overnight[d], wantOvernight[d]) {
			t.Errorf("%v = %v and overnight %v, want %v and %v", time.Weekday(d), h.Weekly[d], h.Overnight[d], want[d], wantOvernight[d])
		}
	}
	wantClosures := []reception.Closure{
		{From: jpholiday.Date{Year: 2026, Month: 12, Day: 29}, To: jpholiday.Date{Year: 2027, Month: 1, Day: 3}, Reason: "年末年始"},
		{From: jpholiday.Date{Year: 2027, Month: 8, Day: 13}, To: jpholiday.Date{Year: 2027, Month: 8, Day: 13}},
	}
	if !slices.Equal(h.Closures, wantClosures) {
		t.Errorf("closures = %v, want %v", h.Closures, wantClosures)
	}
	if err := h.Validate(); err != nil {
		t.Error(err)
	}
}

func TestHoursDefaults(t *testing.T) {
	tests := []struct {
		name, extra    string
		alwaysOpen     bool
		publicHolidays bool
	}{
		{"no hours section", "", true, false},
		{"hours default jp", "    hours: {weekly: {mon: [\"09:00-18:00\"]}}\n", false, true},
		{"hours jp", "    hours: {public_holidays: jp, weekly: {mon: [\"09:00-18:00\"]}}\n", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("h.yaml", withClient(tt.extra), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			h := cfg.Clients[0].Hours
			if h.AlwaysOpen != tt.alwaysOpen || h.PublicHolidays != tt.publicHolidays || h.Location.String() != DefaultTimezone {
				t.Errorf("hours = %+v", h)
			}
		})
	}
}

func TestRangeProblem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"9-18", `"9-18": "9" is not a time of day (HH:MM, 00:00 to 24:00)`},
		{"09:00", `"09:00" is not a time range: write HH:MM-HH:MM, e.g. 09:00-18:00`},
		{"09:00-25:00", `"09:00-25:00": "25:00" is not a time of day (HH:MM, 00:00 to 24:00)`},
		{"09:00-09:00", `"09:00-09:00" is empty: it starts and ends at the same time`},
		{"24:00-24:00", `"24:00-24:00" starts at 24:00, the end of the day: a range past midnight starts before it (22:00-06:00), one after it at 00:00`},
		{"24:00-06:00", `"24:00-06:00" starts at 24:00, the end of the day: a range past midnight starts before it (22:00-06:00), one after it at 00:00`},
		// Read as the parser reads it: full-width forms, every dash.
		{"09:00ー25:00", `"09:00ー25:00": "25:00" is not a time of day (HH:MM, 00:00 to 24:00)`},
		{"０９：００ー２５：００", `"０９：００ー２５：００": "25:00" is not a time of day (HH:MM, 00:00 to 24:00)`},
	}
	for _, tt := range tests {
		if _, _, err := reception.ParseSpan(tt.in); err == nil {
			t.Errorf("ParseSpan(%q) accepted it", tt.in)
		}
		if got := rangeProblem(tt.in); got != tt.want {
			t.Errorf("rangeProblem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLongAnnualClosureInsideTheYear: an annual closure inside one year is
// taken however long (a summer season), only one running over the year's
// end is bounded (08-16 to 08-13, お盆 written backwards, would close all
// but two days of every year).
func TestLongAnnualClosureInsideTheYear(t *testing.T) {
	cfg, err := Parse("h.yaml", withClient(`    hours:
      weekly: {mon: ["09:00-18:00"]}
      closures:
        - {from: 06-01, to: 09-30, reason: 夏季休業}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := reception.Closure{Annual: true, From: jpholiday.Date{Month: 6, Day: 1}, To: jpholiday.Date{Month: 9, Day: 30}, Reason: "夏季休業"}
	if got := cfg.Clients[0].Hours.Closures; len(got) != 1 || got[0] != want {
		t.Fatalf("closures %v, want %v", got, want)
	}
	if _, err := Parse("h.yaml", withClient(`    hours:
      weekly: {mon: ["09:00-18:00"]}
      closures: [{from: 08-16, to: 08-13}]
`), noEnv); err == nil {
		t.Fatal("08-16 to 08-13 taken")
	}
}

// TestClosureDatesAsTyped: closure dates typed with a Japanese input
// method (full-width digits and hyphens) or with slashes, the month and
// day of one digit, are read as the hours' ranges are.
func TestClosureDatesAsTyped(t *testing.T) {
	cfg, err := Parse("h.yaml", withClient(`    hours:
      weekly: {mon: ["09:00-18:00"]}
      closures:
        - {from: ２０２６－１２－２９, to: 2027/1/3}
        - {from: ８／１３, to: 08ー16}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := []reception.Closure{
		{From: jpholiday.Date{Year: 2026, Month: 12, Day: 29}, To: jpholiday.Date{Year: 2027, Month: 1, Day: 3}},
		{Annual: true, From: jpholiday.Date{Month: 8, Day: 13}, To: jpholiday.Date{Month: 8, Day: 16}},
	}
	if got := cfg.Clients[0].Hours.Closures; !slices.Equal(got, want) {
		t.Fatalf("closures %v, want %v", got, want)
	}
}
