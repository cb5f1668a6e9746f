package main

import (
	"bytes"
	"errors"
	"testing"
)

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"dial"}, {"operators", "--ops", "nopassword"}, {"operators", "--reject", "maybe"}, {"load", "--rate", "x/s"}} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), args, &out, &errOut); !errors.Is(err, errUsage) {
			t.Errorf("run(%v) = %v, want errUsage", args, err)
		}
	}
}

func TestRejectCode(t *testing.T) {
	tests := map[string]int{"busy": 486, "none": 0, "": 0, "603": 603}
	for in, want := range tests {
		if got, err := rejectCode(in); err != nil || got != want {
			t.Errorf("rejectCode(%q) = %d, %v", in, got, err)
		}
	}
}
