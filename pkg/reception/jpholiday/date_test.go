package jpholiday

import (
	"errors"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: "2024-02-29", want: Date{2024, time.February, 29}},
		{in: "1980-01-01", want: Date{1980, time.January, 1}},
		{in: "2023-02-29", wantErr: true},
		{in: "2024-13-01", wantErr: true},
		{in: "2024/01/01", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDate(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidDate) {
					t.Fatalf("ParseDate(%q) error = %v, want ErrInvalidDate", tc.in, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseDate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestDateArithmetic(t *testing.T) {
	d := Date{2024, time.December, 31}
	if got, want := d.AddDays(1), (Date{2025, time.January, 1}); got != want {
		t.Errorf("AddDays(1) = %v, want %v", got, want)
	}
	if got, want := d.AddDays(-366), (Date{2023, time.December, 31}); got != want {
		t.Errorf("AddDays(-366) = %v, want %v", got, want)
	}
	if got := d.Weekday(); got != time.Tuesday {
		t.Errorf("Weekday = %v, want Tuesday", got)
	}
	if !d.After(Date{2024, time.December, 30}) || !d.Before(Date{2025, time.January, 1}) || d.Compare(d) != 0 {
		t.Errorf("Compare ordering broken around %v", d)
	}
	if (Date{2023, time.February, 29}).IsValid() || (Date{}).IsValid() || !d.IsValid() {
		t.Errorf("IsValid broken")
	}
	tokyo := time.FixedZone("JST", 9*3600)
	at := time.Date(2024, time.December, 31, 23, 30, 0, 0, time.UTC) // 2025-01-01 08:30 JST
	if got, want := DateOf(at.In(tokyo)), (Date{2025, time.January, 1}); got != want {
		t.Errorf("DateOf in Tokyo = %v, want %v", got, want)
	}
	if got := d.In(tokyo); !got.Equal(time.Date(2024, 12, 31, 0, 0, 0, 0, tokyo)) {
		t.Errorf("In = %v", got)
	}
}
