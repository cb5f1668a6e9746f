package intake

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzParseScript checks that any input yields a checked script or
// positioned errors, never a panic.
func FuzzParseScript(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("id: a\nname: b\ngreeting: c\nfields: [{id: x, label: X, type: yesno}, {id: y, label: Y, show_if: {field: x, equals: yes}}]\nread_back: '[{y}]{x}'\n"))
	f.Add([]byte("id: a\nname: b\ngreeting: c\nfields: [{id: x, label: X, type: yesno, show_if: {caller: [known, new]}}, {id: y, label: Y, show_if: {field: x, equals: yes}}, {id: z, label: Z, required: true, show_if: {caller: withheld}}]\n"))
	f.Add([]byte("id: a\nname: b\ngreeting: c\nfields: [{id: x, label: X, show_if: {caller: [], field: x, equals: [x]}}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("fields: [&f {id: a, label: A}, *f, *f]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseScript("fuzz.yaml", data)
		if err != nil {
			if !errors.Is(err, ErrInvalidScript) {
				t.Fatalf("error does not wrap ErrInvalidScript: %v", err)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not Errors", err)
			}
			for _, e := range es {
				if e.Line <= 0 || e.File != "fuzz.yaml" {
					t.Fatalf("error without position: %#v", e)
				}
			}
			return
		}
		if err := s.Check(); err != nil {
			t.Fatalf("parsed script fails Check: %v", err)
		}
		in := Values{}
		for _, fl := range s.Fields {
			in[fl.ID] = fl.Label
			if len(fl.Choices) > 0 {
				in[fl.ID] = fl.Choices[0].Value
			}
		}
		r := s.Validate(in)
		checkVisibleOnly(t, s, in, r)
		for _, class := range CallerClasses {
			sc := s.ForCaller(class)
			checkVisibleOnly(t, sc, in, sc.Validate(in))
		}
	})
}

// FuzzValidateForCaller checks Validate of the script that branches by
// caller, for any class: it speaks only of the fields that class is
// shown, asks for the withheld caller's number only of them, and is
// idempotent on its own output.
func FuzzValidateForCaller(f *testing.F) {
	s := loadCallers(f)
	for _, class := range append(slices.Clone(CallerClasses), "", "VIP") {
		f.Add(class, "山田商事", "山田", "03-1234-5678", "はい", "見積もり")
	}
	f.Add("withheld", "", " ", "０９０－１２３４－５６７８", "no", "")
	f.Add("repeat", "\xff", "山田", "03-12", "たぶん", "\u200b")
	f.Fuzz(func(t *testing.T, class, company, name, tel, same, purpose string) {
		sc := s.ForCaller(class)
		in := Values{"company": company, "name": name, "callback": tel, "same_matter": same, "previous_note": same, "purpose": purpose}
		r := sc.Validate(in)
		checkVisibleOnly(t, sc, in, r)
		if _, asked := r.Errors["callback"]; asked && class != CallerWithheld {
			t.Fatalf("class %q asked for the callback number: %v", class, r.Errors)
		}
		if _, kept := r.Values["callback"]; kept && class != CallerWithheld {
			t.Fatalf("class %q kept the callback number: %v", class, r.Values)
		}
		if !r.OK() {
			return
		}
		again := sc.Validate(r.Values)
		if !again.OK() || !maps.Equal(again.Values, r.Values) || again.ReadBack != r.ReadBack {
			t.Fatalf("Validate is not idempotent:\nfirst  %+v\nsecond %+v", r, again)
		}
	})
}

// FuzzValidate checks that Validate never panics, speaks only of visible
// fields, and is idempotent on its own output.
func FuzzValidate(f *testing.F) {
	branching := loadBranching(f)
	standard, err := Preset(ScopeStandard)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(false, "estimate", "new", "山田", "03-1234-5678", "はい", "2026-01-05 14:00", "company", "アクメ")
	f.Add(false, "sales", "existing", "", "+81312345678", "no", "2026-01-05T05:00:00Z", "sales_note", "営業")
	f.Add(true, "support", "", " 山田 ", "０９０－１２３４－５６７８", "yes", "明日", "callback_needed", "要")
	f.Add(true, "", "", "\xff", "03-12", "たぶん", "2026/1/5 9:05", "urgency", "urgent")
	f.Fuzz(func(t *testing.T, useStandard bool, purpose, callerType, name, tel, yes, when, key, val string) {
		s, in := branching, Values{
			"purpose": purpose, "caller_type": callerType, "name": name, "callback": tel,
			"urgent": yes, "callback_at": when, key: val,
		}
		if useStandard {
			s, in = standard, Values{
				"purpose": purpose, "name": name, "callback": tel, "callback_needed": yes,
				"callback_at": when, "urgency": callerType, key: val,
			}
		}
		r := s.Validate(in)
		checkVisibleOnly(t, s, in, r)
		if !r.OK() {
			return
		}
		again := s.Validate(r.Values)
		if !again.OK() || !maps.Equal(again.Values, r.Values) || again.ReadBack != r.ReadBack {
			t.Fatalf("Validate is not idempotent:\nfirst  %+v\nsecond %+v", r, again)
		}
	})
}

// checkVisibleOnly asserts that a result speaks only of visible fields and
// holds valid UTF-8.
func checkVisibleOnly(t *testing.T, s Script, in Values, r Result) {
	t.Helper()
	visible := map[string]bool{}
	for _, f := range s.Visible(in) {
		visible[f.ID] = true
	}
	for id, v := range r.Values {
		if !visible[id] {
			t.Fatalf("Values has hidden or unknown field %q", id)
		}
		if v == "" || !utf8.ValidString(v) {
			t.Fatalf("Values[%q] = %q: empty or invalid UTF-8", id, v)
		}
	}
	for id, msg := range r.Errors {
		if !visible[id] || msg == "" {
			t.Fatalf("Errors has hidden field %q or empty message %q", id, msg)
		}
	}
	if !utf8.ValidString(r.ReadBack) {
		t.Fatalf("ReadBack is not valid UTF-8: %q", r.ReadBack)
	}
}
