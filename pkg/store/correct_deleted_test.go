package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestCorrectionOfADeletedMessageRefused: the console read the message
// just before it was deleted (the caller's erasure, or its retention); the
// correction finds none and is refused (ErrNotFound), not stored as a new
// version 1 under the caller's number, relayed again.
func TestCorrectionOfADeletedMessageRefused(t *testing.T) {
	s := storetest.Open(t)
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	in := store.Intake{ID: "a", ClientID: "acme", OperatorID: "op1001", CallerNumber: "09011112222",
		Values: map[string]string{"name": "山田花子"}, CreatedAt: at, UpdatedAt: at}
	prev, _, err := s.SaveIntake(in, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ForgetCaller("+819011112222", nil); err != nil {
		t.Fatal(err)
	}
	next := prev
	next.Values = map[string]string{"name": "山田花子", "detail": "訂正"}
	next.UpdatedAt = at.Add(time.Minute)
	next.RequestID = "r2"
	got, saved, err := s.SaveCorrection(next, 1)
	if !errors.Is(err, store.ErrNotFound) {
		ins, _ := s.IntakesForCaller("09011112222", 0)
		t.Fatalf("a correction of the erased message: %v (saved %v, version %d); %d message(s) under the erased number again", err, saved, got.Version, len(ins))
	}
}
