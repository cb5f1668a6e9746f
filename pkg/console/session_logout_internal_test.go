package console

import (
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toritsugi/toritsugi/pkg/store"
)

// TestLogoutWinsOverRequestsInFlight: requests of a session keep coming
// while it logs out (its console's event stream, another tab, or a copied
// cookie replayed in a loop). Logout deleted it from the cache, then from
// the store; a request between the two loaded it again from the store, and
// a use written a minute later put it back there: a session logged out
// stayed valid, across restarts too (a review: 43 of 50). Logged out, it
// stays out, in this process and after a restart.
func TestLogoutWinsOverRequestsInFlight(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "toritsugi.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	s := newSessions(st, log)
	now := time.Now()
	const rounds = 50
	var ids []string
	for range rounds {
		id, _, err := s.create("op1", "cred", now)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				s.alive(id, now)
				s.get(id, now.Add(time.Duration(i)*touchEvery)) // a use worth writing
			}
		})
		s.remove(id)
		stop.Store(true)
		wg.Wait()
	}
	restarted := newSessions(st, log)
	for i, id := range ids {
		if _, ok := s.get(id, now.Add(time.Second)); ok {
			t.Fatalf("session %d valid after its logout", i)
		}
		if _, ok := restarted.get(id, now.Add(time.Second)); ok {
			t.Fatalf("session %d valid after its logout and a restart", i)
		}
	}
}
