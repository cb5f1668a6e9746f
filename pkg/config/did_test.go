package config

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeDID(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{"03-1234-5678", "+81312345678", nil},
		{"0312345678", "+81312345678", nil},
		{"(03) 1234-5678", "+81312345678", nil},
		{" 03 1234 5678 ", "+81312345678", nil},
		{"0120-123-456", "+81120123456", nil},
		{"090-1234-5678", "+819012345678", nil},
		{"050-3123-4567", "+815031234567", nil},
		{"+81 3-1234-5678", "+81312345678", nil},
		{"+81312345678", "+81312345678", nil},
		{"+81 (0)3 1234 5678", "+81312345678", nil},
		{"+1 212 555 0100", "+12125550100", nil},
		{"81312345678", "", errTrunkForm},
		{"812345678901", "", errTrunkForm},
		{"03-12", "", errNationalLen},
		{"031234567890", "", errNationalLen},
		{"+81 3 1234", "", errJapanLen},
		{"+1 212", "", errE164Len},
		{"+0123456789", "", errE164Len},
		{"010-1-212-555-0100", "", errIntlPrefix},
		{"00-81-3-1234-5678", "", errIntlPrefix},
		{"03.1234.5678", "", errBadSeparators},
		{"０３１２３４５６７８", "", errBadSeparators},
		{"312345678", "", errNoPrefix},
		{"", "", errEmptyNumber},
		{"+", "", errEmptyNumber},
		{"--", "", errEmptyNumber},
	}
	for _, tt := range tests {
		got, err := normalizeDID(tt.in)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("normalizeDID(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDIDKey(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"0312345678", "+81312345678", true},
		{"+81312345678", "+81312345678", true},
		{"81312345678", "+81312345678", true},
		{"819012345678", "+819012345678", true},
		{"8131234567", "", false},
		{"anonymous", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := didKey(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("didKey(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzNormalizeDID(f *testing.F) {
	for _, s := range []string{"03-1234-5678", "+81 (0)3 1234 5678", "81312345678", "0120-123-456", "+1 212 555 0100", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := normalizeDID(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(n, "+") || !allDigits(n[1:]) || len(n) > 16 {
			t.Fatalf("normalizeDID(%q) = %q: not E.164", s, n)
		}
		if again, err := normalizeDID(n); err != nil || again != n {
			t.Fatalf("normalizeDID(%q) = %q, %v: not idempotent", n, again, err)
		}
	})
}
