package call

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"

	"github.com/toritsugi/toritsugi/pkg/config"
	"github.com/toritsugi/toritsugi/pkg/pbx"
	"github.com/toritsugi/toritsugi/pkg/store/storetest"
)

// firedClock's first timer has fired already; the others never fire.
type firedClock struct {
	mu     sync.Mutex
	timers int
}

func (c *firedClock) Now() time.Time { return time.Now() }

func (c *firedClock) NewTimer(time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers++
	t := &chanTimer{c: make(chan time.Time, 1)}
	if c.timers == 1 {
		t.c <- time.Now()
	}
	return t
}

type chanTimer struct{ c chan time.Time }

func (t *chanTimer) C() <-chan time.Time { return t.c }

func (t *chanTimer) Stop() bool {
	select {
	case <-t.c:
		return true
	default:
		return false
	}
}

// TestEventWaitingGoesBeforeItsTimer: a key the caller pressed is in the
// call's inbox when the wait for it ends (a busy machine, a key at the
// wait's edge). The actor picked at random between the two: half the
// time the wait ended first (the offer made again, or declined, the key
// then ignored). What waits in the inbox goes first: here the first digit
// of a number being keyed, which re-arms the wait for the next.
func TestEventWaitingGoesBeforeItsTimer(t *testing.T) {
	for round := range 30 {
		ctx, cancel := context.WithCancel(context.Background())
		m := NewManager(ctx, Deps{Clock: &firedClock{}, Dispatcher: pbx.NewDispatcher(pbx.Hooks{}, storetest.Logger(t)),
			Config: func() *config.Config { return unseenConfig(t) }, Logger: storetest.Logger(t)})
		a := m.newActor("c1", nil)
		a.cb.entering, a.awaitingDigit = true, true
		fired := false
		a.after(time.Second, func() { fired = true }) // the clock's first timer: fired
		a.inbox.Push(&ari.ChannelDtmfReceived{Channel: ari.ChannelData{ID: "c1"}, Digit: "5"})
		done := make(chan struct{})
		go func() { defer close(done); a.run(ctx) }()
		time.Sleep(20 * time.Millisecond)
		cancel()
		<-done
		m.Wait()
		if fired || a.cb.digits != "5" {
			t.Fatalf("round %d: the wait's end ran (%v) before the key waiting in the inbox; digits %q", round, fired, a.cb.digits)
		}
	}
}
