package reception

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestParseInterval(t *testing.T) {
	tests := []struct {
		in        string
		want      Interval
		overnight bool
		wantErr   bool
	}{
		{in: "09:00-18:00", want: Interval{540, 1080}},
		{in: "9:00-18:00", want: Interval{540, 1080}},
		{in: " 09:30 - 17:45 ", want: Interval{570, 1065}},
		{in: "09:00〜18:00", want: Interval{540, 1080}},
		{in: "09:00~18:00", want: Interval{540, 1080}},
		{in: "09:00～18:00", want: Interval{540, 1080}}, // the tilde of a Japanese input method
		{in: "０９：００－１８：００", want: Interval{540, 1080}},
		{in: "０９:００-１８:００", want: Interval{540, 1080}},
		{in: "09:00ー18:00", want: Interval{540, 1080}},
		{in: "０９：００ー１８：００", want: Interval{540, 1080}},
		{in: "09:00−18:00", want: Interval{540, 1080}},
		{in: "09:00–18:00", want: Interval{540, 1080}},
		{in: "22:00-24:00", want: Interval{1320, 1440}},
		{in: "00:00-24:00", want: Interval{0, 1440}},
		{in: "22:00-06:00", overnight: true, wantErr: true},
		{in: "18:00-09:00", overnight: true, wantErr: true},
		{in: "09:00-09:00", wantErr: true},
		{in: "24:00-24:00", wantErr: true},
		{in: "25:00-26:00", wantErr: true},
		{in: "24:01-24:02", wantErr: true},
		{in: "09:60-10:00", wantErr: true},
		{in: "+9:00-10:00", wantErr: true},
		{in: "9-18", wantErr: true},
		{in: "09:00", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseInterval(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidInterval) {
					t.Fatalf("ParseInterval(%q) err = %v, want ErrInvalidInterval", tc.in, err)
				}
				if errors.Is(err, ErrOvernight) != tc.overnight {
					t.Fatalf("ParseInterval(%q) err = %v, overnight want %v", tc.in, err, tc.overnight)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseInterval(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in          string
		today, next Interval
		wantErr     bool
	}{
		{in: "09:00-18:00", today: Interval{540, 1080}},
		{in: "22:00-06:00", today: Interval{1320, 1440}, next: Interval{0, 360}},
		{in: "22:00-00:00", today: Interval{1320, 1440}},
		{in: "00:00-00:00", wantErr: true},
		{in: "24:00-06:00", wantErr: true},
		{in: "x", wantErr: true},
	}
	for _, tc := range tests {
		today, next, err := ParseSpan(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrInvalidInterval) {
				t.Errorf("ParseSpan(%q) err = %v, want ErrInvalidInterval", tc.in, err)
			}
			continue
		}
		if err != nil || today != tc.today || next != tc.next {
			t.Errorf("ParseSpan(%q) = %v, %v, %v; want %v, %v", tc.in, today, next, err, tc.today, tc.next)
		}
	}
}

func TestWeeklyAdd(t *testing.T) {
	var w Weekly
	for _, step := range []struct {
		day time.Weekday
		s   string
	}{{time.Friday, "09:00-18:00"}, {time.Friday, "22:00-06:00"}, {time.Saturday, "23:00-01:30"}} {
		if err := w.Add(step.day, step.s); err != nil {
			t.Fatalf("Add(%v, %q): %v", step.day, step.s, err)
		}
	}
	want := Weekly{
		time.Sunday:   {{0, 90}},
		time.Friday:   {{540, 1080}, {1320, 1440}},
		time.Saturday: {{0, 360}, {1380, 1440}},
	}
	for d := range w {
		if !slices.Equal(w[d], want[d]) {
			t.Errorf("%v = %v, want %v", time.Weekday(d), w[d], want[d])
		}
	}
	if err := w.Add(time.Monday, "18:00-18:00"); !errors.Is(err, ErrInvalidInterval) {
		t.Errorf("Add empty range err = %v", err)
	}
	if err := w.Add(time.Weekday(9), "09:00-10:00"); !errors.Is(err, ErrInvalidInterval) {
		t.Errorf("Add bad weekday err = %v", err)
	}
}

func TestMerge(t *testing.T) {
	got := merge([]Interval{{600, 700}, {0, 60}, {650, 800}, {800, 900}, {50, 40}, {1000, 1500}})
	want := []Interval{{0, 60}, {600, 900}}
	if !slices.Equal(got, want) {
		t.Errorf("merge = %v, want %v", got, want)
	}
}

func FuzzParseInterval(f *testing.F) {
	for _, s := range []string{"09:00-18:00", "22:00-24:00", "22:00-06:00", "9:5-1", "24:00-00:00", "〜", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iv, err := ParseInterval(s)
		if err == nil {
			if !iv.Valid() {
				t.Fatalf("ParseInterval(%q) = %v: not valid", s, iv)
			}
			again, err := ParseInterval(iv.String())
			if err != nil || again != iv {
				t.Fatalf("round trip %q → %v → %v, %v", s, iv, again, err)
			}
		} else if !errors.Is(err, ErrInvalidInterval) {
			t.Fatalf("ParseInterval(%q) err = %v: not ErrInvalidInterval", s, err)
		}
		today, next, err := ParseSpan(s)
		if err != nil {
			return
		}
		if !today.Valid() || (next != Interval{} && (!next.Valid() || next.Start != 0 || today.End != MinutesPerDay)) {
			t.Fatalf("ParseSpan(%q) = %v, %v", s, today, next)
		}
	})
}
