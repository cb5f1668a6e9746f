package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// intake builds a valid intake taken at at.
func intake(id, caller string, at time.Time, name string) store.Intake {
	return store.Intake{
		ID: id, CallID: "call-" + id, ClientID: "acme", OperatorID: "op1",
		CallerNumber: caller, Values: map[string]string{"name": name},
		ReadBack: name + "様", UpdatedAt: at,
	}
}

func TestIntakeDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	s := storetest.OpenPath(t, path)
	got, err := s.PutIntake(intake("i1", "0312345678", base, "<b>山田</b>"))
	if err != nil {
		t.Fatalf("PutIntake: %v", err)
	}
	if got.Version != 1 || !got.CreatedAt.Equal(base) {
		t.Fatalf("stored %+v, want version 1 created at base", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := storetest.OpenPath(t, path)
	back, err := s2.Intake("i1")
	if err != nil {
		t.Fatalf("Intake after reopen: %v", err)
	}
	if back.Values["name"] != "<b>山田</b>" || back.OperatorID != "op1" {
		t.Fatalf("after reopen %+v", back)
	}
}

func TestIntakeCorrectionsKeepHistory(t *testing.T) {
	s := storetest.Open(t)
	first := intake("i1", "0312345678", base, "山田")
	if _, err := s.PutIntake(first); err != nil {
		t.Fatal(err)
	}
	fix := intake("i1", "0399999999", base.Add(time.Minute), "山本")
	fix.ClientID = "other" // a correction cannot move an intake
	got, err := s.PutIntake(fix)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || !got.CreatedAt.Equal(base) || got.ClientID != "acme" || got.CallerNumber != "0312345678" {
		t.Fatalf("correction stored as %+v", got)
	}
	if _, err := s.PutIntake(intake("i1", "", base.Add(2*time.Minute), "山口")); err != nil {
		t.Fatal(err)
	}
	vers, err := s.IntakeVersions("i1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, v := range vers {
		if v.Version != i+1 {
			t.Errorf("version %d at index %d", v.Version, i)
		}
		names = append(names, v.Values["name"])
	}
	if want := []string{"山田", "山本", "山口"}; len(names) != 3 || names[0] != want[0] || names[1] != want[1] || names[2] != want[2] {
		t.Fatalf("versions %v, want %v", names, want)
	}
	byCaller, err := s.IntakesForCaller("0312345678", 0)
	if err != nil || len(byCaller) != 1 || byCaller[0].Version != 3 {
		t.Fatalf("IntakesForCaller = %+v, %v; want the current version once", byCaller, err)
	}
}

func TestIntakesForCaller(t *testing.T) {
	s := storetest.Open(t)
	for i, c := range []struct{ id, caller string }{
		{"a", "0312345678"}, {"b", "03123456789"}, {"c", "0312345678"}, {"d", "031234567"}, {"e", "0312345678"},
	} {
		if _, err := s.PutIntake(intake(c.id, c.caller, base.Add(time.Duration(i)*time.Minute), c.id)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		number string
		limit  int
		want   []string
	}{
		{"0312345678", 0, []string{"e", "c", "a"}},
		{"0312345678", 2, []string{"e", "c"}},
		{"03123456789", 0, []string{"b"}},
		{"031234567", 5, []string{"d"}},
		{"0000", 0, nil},
		{"", 0, nil},
		{"03\x00", 0, nil},
	}
	for _, tt := range tests {
		got, err := s.IntakesForCaller(tt.number, tt.limit)
		if err != nil {
			t.Fatalf("%q: %v", tt.number, err)
		}
		var ids []string
		for _, in := range got {
			ids = append(ids, in.ID)
		}
		if len(ids) != len(tt.want) {
			t.Errorf("%q limit %d: got %v, want %v", tt.number, tt.limit, ids, tt.want)
			continue
		}
		for i := range ids {
			if ids[i] != tt.want[i] {
				t.Errorf("%q limit %d: got %v, want %v", tt.number, tt.limit, ids, tt.want)
				break
			}
		}
	}
}

// TestIntakesForCallerWhere: a number that calls many clients (a courier,
// a shared office line) has more messages for others than the limit: an
// operator serving one client still sees that client's history with it.
func TestIntakesForCallerWhere(t *testing.T) {
	s := storetest.Open(t)
	for i := range 12 {
		in := intake(fmt.Sprintf("m%02d", i), "0312345678", base.Add(time.Duration(i)*time.Minute), "x")
		if i == 0 || i == 5 {
			in.ClientID = "beta"
		}
		if _, err := s.PutIntake(in); err != nil {
			t.Fatal(err)
		}
	}
	beta := func(in store.Intake) bool { return in.ClientID == "beta" }
	for _, tc := range []struct {
		limit int
		want  string
	}{{10, "m05,m00"}, {1, "m05"}, {0, "m05,m00"}} {
		got, err := s.IntakesForCallerWhere("0312345678", tc.limit, beta)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, in := range got {
			ids = append(ids, in.ID)
		}
		if strings.Join(ids, ",") != tc.want {
			t.Errorf("limit %d: beta's history %v, want %s", tc.limit, ids, tc.want)
		}
	}
	// The scan is bounded: with 8 rows read, m05 (the 7th newest) is
	// found and m00 (the 12th) is not.
	defer store.SetCallerScanLimit(8)()
	got, err := s.IntakesForCallerWhere("0312345678", 10, beta)
	if err != nil || len(got) != 1 || got[0].ID != "m05" {
		t.Fatalf("with 8 rows read: %+v, %v; want m05 only", got, err)
	}
}

func TestIntakeRefusedAndMissing(t *testing.T) {
	s := storetest.Open(t)
	if _, err := s.Intake("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Intake on empty store: %v, want ErrNotFound", err)
	}
	if _, err := s.IntakeVersions("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("IntakeVersions on empty store: %v, want ErrNotFound", err)
	}
	bad := []store.Intake{
		intake("", "03", base, "x"),
		intake("a\x00b", "03", base, "x"),
		{ID: "x", UpdatedAt: base},
		intake("y", "03", time.Time{}, "x"),
	}
	for _, in := range bad {
		if _, err := s.PutIntake(in); !errors.Is(err, store.ErrInvalidRecord) {
			t.Errorf("PutIntake(%+v) = %v, want ErrInvalidRecord", in, err)
		}
	}
}

// TestSaveIntakeRepeats: a save request sent again (its reply was lost)
// stores nothing more, also when the copies race; a new request is a new
// version.
func TestSaveIntakeRepeats(t *testing.T) {
	s := storetest.Open(t)
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	first := store.Intake{ID: "r1", RequestID: "r1", ClientID: "acme", CallerNumber: "0312345678", Values: map[string]string{"name": "山田"}, UpdatedAt: at}
	var wg sync.WaitGroup
	var savedCount atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, saved, err := s.SaveIntake(first, true); err != nil {
				t.Error(err)
			} else if saved {
				savedCount.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := savedCount.Load(); n != 1 {
		t.Fatalf("8 racing copies of one create stored %d times, want 1", n)
	}
	fix := first
	fix.RequestID, fix.Values, fix.UpdatedAt = "r2", map[string]string{"name": "山田太郎"}, at.Add(time.Minute)
	for i, want := range []bool{true, false} {
		got, saved, err := s.SaveIntake(fix, false)
		if err != nil || saved != want || got.Version != 2 {
			t.Fatalf("correction, copy %d: version %d saved %v (%v), want version 2 saved %v", i+1, got.Version, saved, err, want)
		}
	}
	late := first // the create's copy arriving after the correction
	if got, saved, err := s.SaveIntake(late, true); err != nil || saved || got.Version != 2 || got.Values["name"] != "山田太郎" {
		t.Fatalf("a late copy of the create: %+v saved %v (%v), want the current version untouched", got, saved, err)
	}
	if vers, err := s.IntakeVersions("r1"); err != nil || len(vers) != 2 {
		t.Fatalf("versions %d (%v), want 2", len(vers), err)
	}
}

// TestPurgeIntakes: intakes due are deleted with their earlier versions
// and their caller-index entries, over several transactions; others stay
// whole.
func TestPurgeIntakes(t *testing.T) {
	defer store.SetPurgeBatch(2)()
	s := storetest.Open(t)
	old, recent := base.Add(-400*24*time.Hour), base
	for i, id := range []string{"old-1", "old-2", "old-3", "old-4", "old-5"} {
		if _, err := s.PutIntake(intake(id, "0312345678", old.Add(time.Duration(i)*time.Minute), "古")); err != nil {
			t.Fatal(err)
		}
	}
	// Corrected twice, long ago: three versions go.
	for range 2 {
		if _, err := s.PutIntake(intake("old-1", "0312345678", old.Add(time.Hour), "訂正")); err != nil {
			t.Fatal(err)
		}
	}
	// Taken long ago, corrected recently: due by its last change, it stays.
	if _, err := s.PutIntake(intake("kept-corrected", "0312345678", old, "古")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIntake(intake("kept-corrected", "0312345678", recent, "新")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIntake(intake("kept-new", "0312345678", recent, "新")); err != nil {
		t.Fatal(err)
	}
	cutoff := base.Add(-90 * 24 * time.Hour)
	n, err := s.PurgeIntakes(func(in store.Intake) bool { return in.UpdatedAt.Before(cutoff) })
	if err != nil || n != 5 {
		t.Fatalf("purged %d (%v), want 5", n, err)
	}
	for _, id := range []string{"old-1", "old-2", "old-3", "old-4", "old-5"} {
		if _, err := s.Intake(id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after the purge: %v", id, err)
		}
	}
	// Its earlier versions went too: an intake stored again under the id
	// has none but its own.
	if _, err := s.PutIntake(intake("old-1", "0399999999", recent, "別")); err != nil {
		t.Fatal(err)
	}
	if vs, err := s.IntakeVersions("old-1"); err != nil || len(vs) != 1 || vs[0].Values["name"] != "別" {
		t.Errorf("old-1's versions after the purge and a new save: %+v (%v)", vs, err)
	}
	if vs, err := s.IntakeVersions("kept-corrected"); err != nil || len(vs) != 2 {
		t.Errorf("kept-corrected's versions: %d (%v), want 2", len(vs), err)
	}
	got, err := s.IntakesForCaller("0312345678", 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range got {
		ids = append(ids, in.ID)
	}
	if len(ids) != 2 || !slices.Contains(ids, "kept-corrected") || !slices.Contains(ids, "kept-new") {
		t.Errorf("the caller's intakes after the purge: %v", ids)
	}
	if n, err := s.PurgeIntakes(func(in store.Intake) bool { return in.UpdatedAt.Before(cutoff) }); err != nil || n != 0 {
		t.Errorf("a second purge: %d (%v)", n, err)
	}
}

// TestSaveCorrectionOfAStaleVersion: two corrections made from version 1
// at the same moment (an operator and a supervisor) store one: the other
// is refused with ErrStaleVersion, and nothing of it is stored. A repeat
// of the stored one (its request id) is still recognised as such.
func TestSaveCorrectionOfAStaleVersion(t *testing.T) {
	s := storetest.Open(t)
	if _, err := s.PutIntake(intake("i1", "0312345678", base, "山田")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"山田太郎", "山田次郎"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := intake("i1", "0312345678", base.Add(time.Minute), name)
			in.RequestID = fmt.Sprintf("%032d", i+1)
			_, _, errs[i] = s.SaveCorrection(in, 1)
		}()
	}
	wg.Wait()
	stale := 0
	for _, err := range errs {
		switch {
		case errors.Is(err, store.ErrStaleVersion):
			stale++
		case err != nil:
			t.Fatal(err)
		}
	}
	cur, err := s.Intake("i1")
	if err != nil || stale != 1 || cur.Version != 2 {
		t.Fatalf("stale %d, current v%d (%v); want one correction stored as v2, one refused", stale, cur.Version, err)
	}
	again := intake("i1", "0312345678", base.Add(time.Minute), cur.Values["name"])
	again.RequestID = cur.RequestID
	if got, saved, err := s.SaveCorrection(again, 1); err != nil || saved || got.Version != 2 {
		t.Fatalf("the stored correction sent again: v%d saved %v, %v; want v2 recognised", got.Version, saved, err)
	}
}
