package store_test

import (
	"maps"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestRetentionDaysKeepWhenAClientWasRemoved: a removed client's days
// are kept with when it was found removed (its entries go once that is
// past them); one an earlier version wrote, without it, reads as removed
// at a time not known.
func TestRetentionDaysKeepWhenAClientWasRemoved(t *testing.T) {
	st := storetest.Open(t)
	removed := time.Date(2026, 6, 1, 9, 30, 0, 123, time.UTC)
	want := map[string]store.ClientRetention{"acme": {Days: 30}, "gone": {Days: 30, Removed: true, RemovedAt: removed}}
	if err := st.SetRetentionDays(want); err != nil {
		t.Fatal(err)
	}
	got, err := st.RetentionDays()
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("read back %v, want %v", got, want)
	}
	if err := st.Bolt().Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("retention_days")).Put([]byte("old"), []byte("7 removed"))
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.RetentionDays(); err != nil || got["old"] != (store.ClientRetention{Days: 7, Removed: true}) {
		t.Fatalf("an earlier version's entry read as %+v (%v), want 7 days, removed, no time", got["old"], err)
	}
}
