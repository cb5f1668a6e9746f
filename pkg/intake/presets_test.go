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
		{ScopeStandard, []string{"company", "name", "addressee", "callback", "purpose", "detail", "callback_needed", "callback_at", "urgency"}},
		{ScopeGuided, []string{"company", "name", "addressee", "callback", "purpose", "detail", "callback_needed", "callback_at", "urgency", "guidance"}},
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
