package config

import (
	"testing"
	"time"
)

func TestParseInterval(t *testing.T) {
	tests := []struct {
		in      string
		want    Interval
		wantErr bool
	}{
		{"09:00-18:00", Interval{540, 1080}, false},
		{"9:30-12:00", Interval{570, 720}, false},
		{" 00:00 - 24:00 ", Interval{0, 1440}, false},
		{"18:00-09:00", Interval{}, true},
		{"09:00-09:00", Interval{}, true},
		{"24:00-24:00", Interval{}, true},
		{"09:00", Interval{}, true},
		{"09:00-25:00", Interval{}, true},
		{"09:0-10:00", Interval{}, true},
		{"ab:cd-10:00", Interval{}, true},
		{"", Interval{}, true},
	}
	for _, tt := range tests {
		got, err := parseInterval(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseInterval(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if s := (Interval{570, 1440}).String(); s != "09:30-24:00" {
		t.Errorf("String = %q", s)
	}
}

func TestParseDate(t *testing.T) {
	if d, err := parseDate("2026-12-29"); err != nil || d != (Date{2026, time.December, 29}) {
		t.Errorf("parseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"2026-02-30", "2026/12/29", "2026-12-29T00:00:00Z", ""} {
		if _, err := parseDate(bad); err == nil {
			t.Errorf("parseDate(%q) accepted", bad)
		}
	}
}

func TestDateCompareAndClosure(t *testing.T) {
	c := Closure{From: Date{2026, 12, 29}, To: Date{2027, 1, 3}}
	tests := []struct {
		d    Date
		want bool
	}{
		{Date{2026, 12, 28}, false},
		{Date{2026, 12, 29}, true},
		{Date{2026, 12, 31}, true},
		{Date{2027, 1, 3}, true},
		{Date{2027, 1, 4}, false},
		{Date{2027, 12, 30}, false},
	}
	for _, tt := range tests {
		if got := c.Contains(tt.d); got != tt.want {
			t.Errorf("Contains(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestOpenWeekly(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	h := Hours{Scheduled: true, Location: tokyo}
	h.Weekly[time.Monday] = []Interval{{540, 720}, {780, 1080}}
	tests := []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 11, 30, 9, 0, 0, 0, tokyo), true},    // Monday 09:00
		{time.Date(2026, 11, 30, 12, 30, 0, 0, tokyo), false}, // lunch
		{time.Date(2026, 11, 30, 17, 59, 0, 0, tokyo), true},
		{time.Date(2026, 11, 30, 18, 0, 0, 0, tokyo), false},
		{time.Date(2026, 11, 30, 0, 30, 0, 0, time.UTC), true}, // 09:30 in Tokyo
		{time.Date(2026, 12, 1, 10, 0, 0, 0, tokyo), false},    // Tuesday: closed
	}
	for _, tt := range tests {
		if got := h.OpenWeekly(tt.at); got != tt.want {
			t.Errorf("OpenWeekly(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}
