package store_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// TestConcurrentPutCall has writers race on shared and distinct ids, as call
// actors would when a record is written at answer and again at hangup.
// Both commit modes: batched (default) and one commit per call.
func TestConcurrentPutCall(t *testing.T) {
	for _, each := range []bool{false, true} {
		t.Run(fmt.Sprintf("commitEach=%v", each), func(t *testing.T) { concurrentPutCall(t, openMode(t, each)) })
	}
}

// openMode opens a store in t.TempDir() in the given commit mode, checked
// for consistency when the test ends.
func openMode(t testing.TB, commitEach bool) *store.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "toritsugi.db")
	s, err := store.Open(path, store.Options{Logger: storetest.Logger(t), CommitEachCall: commitEach})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		storetest.Check(t, path)
	})
	return s
}

func concurrentPutCall(t *testing.T, s *store.Store) {
	const writers, perWriter = 6, 8
	results := []store.Result{store.ResultAnswered, store.ResultBlocked, store.ResultVoicemail}
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Every id is written by two writers, so upserts contend.
				id := fmt.Sprintf("call-%d", (w*perWriter+i)%(writers*perWriter/2))
				r := rec(id, "acme", base.Add(time.Duration(i)*time.Second), results[(w+i)%len(results)], (w+i)%2 == 0)
				if err := s.PutCall(r); err != nil {
					errs <- err
				}
				if _, err := s.MonthlyCounts("acme", base); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	all, err := s.ListCalls(store.CallFilter{ClientID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*perWriter/2 {
		t.Fatalf("listed %d calls, want %d", len(all), writers*perWriter/2)
	}
	got, err := s.MonthlyCounts("acme", base)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameCounts(got, recount(t, s, "acme", base)); err != nil {
		t.Fatalf("counters disagree with records: %v", err)
	}
}
