package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestClassifiedCallsAreNotBilled: a class given to a call, before or
// after its record is stored, makes it not billable in the record and in
// the month's counters (which stay equal to a recount); taking the class
// back restores what the client's rules made of it; a record stored again
// keeps its class; the class survives a reopen.
func TestClassifiedCallsAreNotBilled(t *testing.T) {
	path := t.TempDir() + "/t.db"
	s := storetest.OpenPath(t, path)
	at := base.Add(time.Hour)
	a := store.ResultAnswered
	check := func(step, id string, class string, billable bool) {
		t.Helper()
		r, err := s.Call(id)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if r.Class != class || r.Billable != billable {
			t.Fatalf("%s: call %s class %q billable %v, want %q %v", step, id, r.Class, r.Billable, class, billable)
		}
		got, err := s.MonthlyCounts("acme", base)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameCounts(got, recount(t, s, "acme", base)); err != nil {
			t.Fatalf("%s: counters differ from a recount: %v", step, err)
		}
	}

	mustPut(t, s, rec("after", "acme", base, a, true))
	check("stored", "after", "", true)
	if err := s.ClassifyCall("after", store.ClassSales, "op1", at); err != nil {
		t.Fatal(err)
	}
	check("classified after its record", "after", store.ClassSales, false)
	if err := s.ClassifyCall("after", store.ClassWrongNumber, "op1", at); err != nil {
		t.Fatal(err)
	}
	check("class changed", "after", store.ClassWrongNumber, false)
	if err := s.ClassifyCall("after", "", "op1", at); err != nil {
		t.Fatal(err)
	}
	check("class taken back", "after", "", true)

	if err := s.ClassifyCall("before", store.ClassSilent, "op1", at); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, rec("before", "acme", base.Add(time.Minute), a, true))
	check("record stored after its class", "before", store.ClassSilent, false)
	mustPut(t, s, rec("before", "acme", base.Add(time.Minute), a, true))
	check("record stored again", "before", store.ClassSilent, false)
	// Read back and stored again as it is (the recording sweep does):
	// its Billable is the class's, not the rules'.
	read, err := s.Call("before")
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, read)
	if err := s.ClassifyCall("before", "", "op1", at); err != nil {
		t.Fatal(err)
	}
	check("read back, stored, class taken back", "before", "", true)
	if err := s.ClassifyCall("before", store.ClassSilent, "op1", at); err != nil {
		t.Fatal(err)
	}
	check("classified again", "before", store.ClassSilent, false)

	if err := s.ClassifyCall("absent", store.ClassSales, "op1", at); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.PutCallIfAbsent(rec("absent", "acme", base.Add(2*time.Minute), a, true)); !ok || err != nil {
		t.Fatalf("PutCallIfAbsent: %v %v", ok, err)
	}
	check("pieced-together record", "absent", store.ClassSales, false)

	// After hours, not billable by the client's rules: taking a class
	// back leaves it not billable.
	mustPut(t, s, rec("night", "acme", base.Add(3*time.Minute), store.ResultAfterHours, false))
	if err := s.ClassifyCall("night", store.ClassSales, "op1", at); err != nil {
		t.Fatal(err)
	}
	if err := s.ClassifyCall("night", "", "op1", at); err != nil {
		t.Fatal(err)
	}
	check("rules' billing restored", "night", "", false)

	if err := s.ClassifyCall("x", "vip", "op1", at); !errors.Is(err, store.ErrInvalidRecord) {
		t.Fatalf("unknown class: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = storetest.OpenPath(t, path)
	check("reopened", "before", store.ClassSilent, false)
}
