package intake

import (
	"errors"
	"slices"
	"testing"
)

func TestPresets(t *testing.T) {
	tests := []struct {
		scope string
		ids   []string
	}{
		{ScopeSimple, []string{"company", "name", "callback", "purpose"}},
		{ScopeStandard, []string{"company", "name", "addressee", "purpose", "detail", "callback_needed", "callback", "callback_at", "urgency"}},
		{ScopeGuided, []string{"company", "name", "addressee", "purpose", "detail", "callback_needed", "callback", "callback_at", "urgency", "guidance"}},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			s, err := Preset(tt.scope)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(); err != nil {
				t.Errorf("preset does not pass Check:\n%v", err)
			}
			if s.Scope != tt.scope || s.ID != tt.scope {
				t.Errorf("scope %q id %q, want %q", s.Scope, s.ID, tt.scope)
			}
			var ids []string
			for _, f := range s.Fields {
				ids = append(ids, f.ID)
			}
			if !slices.Equal(ids, tt.ids) {
				t.Errorf("fields %v, want %v", ids, tt.ids)
			}
			// A preset is a fresh copy: changing one does not change the next.
			s.Fields[0].Label = "changed"
			again, _ := Preset(tt.scope)
			if again.Fields[0].Label == "changed" {
				t.Error("Preset returned shared fields")
			}
		})
	}
	for _, scope := range []string{ScopeCustom, "", "premium"} {
		if _, err := Preset(scope); !errors.Is(err, ErrUnknownScope) {
			t.Errorf("Preset(%q) error = %v, want ErrUnknownScope", scope, err)
		}
	}
}

func TestUrgent(t *testing.T) {
	for _, c := range []struct {
		values map[string]string
		want   bool
	}{
		{map[string]string{"urgency": "urgent"}, true},
		{map[string]string{"urgency": "normal"}, false},
		{map[string]string{"urgent": "yes"}, true},
		{map[string]string{"urgent": "no"}, false},
		{map[string]string{"urgent": "はい"}, false},  // stored yes/no only
		{map[string]string{"urgency": "至急"}, false}, // stored by value, not label
		{nil, false},
	} {
		if got := Urgent(c.values); got != c.want {
			t.Errorf("Urgent(%v) = %v, want %v", c.values, got, c.want)
		}
	}
}

// TestUrgentFieldOfAnyType: a form may call an answer urgent whatever its
// type (a choice high/low): only a yes makes the message urgent, and relay
// rules on other values read the answer.
func TestUrgentFieldOfAnyType(t *testing.T) {
	s := Script{ID: "x", Name: "x", Scope: "custom", Greeting: "はい、{client}でございます", Fields: []Field{
		{ID: "urgent", Label: "お急ぎ度", Type: TypeChoice, Choices: []Choice{{Value: "high", Label: "高"}, {Value: "low", Label: "低"}}},
	}}
	if err := s.Check(); err != nil {
		t.Fatalf("a choice called urgent: %v", err)
	}
	if Urgent(map[string]string{"urgent": "high"}) {
		t.Error("a choice high made the message urgent")
	}
}
