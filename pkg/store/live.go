package store

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Live calls: the saved state of each call in progress, kept until its
// record is stored (PutCall and PutCallIfAbsent delete it in the same
// transaction). A call whose caller hangs up while no controller runs
// leaves nothing in Asterisk, so this is what the next controller builds
// its record from: without it a missed call during a restart would be
// missing from the client's calls and counters.
//
// SaveLive is a write-behind: it never blocks the call. One goroutine
// writes what was saved meanwhile in one batched transaction (bbolt's
// Batch, shared with the call records' commits); a call saved twice
// before a write keeps its newest state only.
//
// With the states goes the time until which a controller watched them
// (SaveLiveSeen): a caller found gone by the next one hung up after it.

// liveRetry is how long after a failed write the pending states are
// written again.
const liveRetry = time.Second

// liveWriter is the write-behind of live-call states.
type liveWriter struct {
	mu      sync.Mutex
	pending map[string]string // call id → newest unsaved state
	// inflight is the batch being written: out of pending and not yet
	// committed (bbolt's batch delay and the sync), it still counts as
	// saved and unwritten; pending's newer states come first.
	inflight map[string]string
	// dropped are calls of inflight that DropLive forgot meanwhile: the
	// batch skips them, and they no longer count as saved.
	dropped map[string]bool
	seen    time.Time // unsaved SaveLiveSeen; zero: none
	closed  bool
	lost    error         // the states a write at close could not save (Close returns it)
	retry   bool          // a write failed and is to be tried again (one timer at a time)
	kick    chan struct{} // capacity 1: something is pending
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newLiveWriter() *liveWriter {
	return &liveWriter{kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// SaveLive keeps state as call id's live state, replacing the one saved
// before; it is written shortly after, unless the call has a record by
// then. It returns at once, also after Close (the state is then dropped).
func (s *Store) SaveLive(id, state string) {
	if id == "" || len(id) > bolt.MaxKeySize || len(state) > bolt.MaxValueSize {
		s.log.Error("live call state not kept: id or state out of bounds", "call", id, "size", len(state))
		return // it would fail every write it joined
	}
	s.live.add(func(w *liveWriter) {
		if w.pending == nil {
			w.pending = map[string]string{}
		}
		w.pending[id] = state
	})
}

// SaveLiveSeen records that a controller watched the live calls until at
// (a heartbeat); written like SaveLive's states.
func (s *Store) SaveLiveSeen(at time.Time) {
	s.live.add(func(w *liveWriter) { w.seen = at })
}

// add changes what is pending and wakes the writer; nothing after Close.
func (w *liveWriter) add(change func(*liveWriter)) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	change(w)
	w.mu.Unlock()
	w.wake()
}

func (w *liveWriter) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// livePending reports whether call id has a live state saved and not
// written yet (a write-behind waiting or being written, or retried after a
// failed write).
func (s *Store) livePending(id string) bool {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	_, ok := s.live.pending[id]
	if !ok && !s.live.dropped[id] {
		_, ok = s.live.inflight[id]
	}
	return ok
}

// unwritten calls f with each live state saved and not yet written, the
// newest of each call (w.mu held).
func (w *liveWriter) unwritten(f func(id, state string)) {
	for id, st := range w.inflight {
		if _, newer := w.pending[id]; !newer && !w.dropped[id] {
			f(id, st)
		}
	}
	for id, st := range w.pending {
		f(id, st)
	}
}

// livePendingFor lists the calls whose pending (unwritten) live state
// names a caller number, or a callback number keyed, that match accepts.
func (s *Store) livePendingFor(match func(number string) bool) []string {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	var ids []string
	s.live.unwritten(func(id, st string) {
		if q, err := url.ParseQuery(st); err == nil && (match(q.Get("n")) || q.Get("cn") != "" && match(q.Get("cn"))) {
			ids = append(ids, id)
		}
	})
	return ids
}

// LiveCalls returns the live states saved (call id → state): calls in
// progress, or calls that ended while no controller stored their record;
// and the last SaveLiveSeen written (zero if none). A state saved and not
// yet written counts, newer than the one written (as the write would
// leave it: not for a call stored meanwhile), so that a controller started
// again in the same process (a stop that kept the store open) reads what
// the last one saved at its stop.
func (s *Store) LiveCalls() (calls map[string]string, seen time.Time, err error) {
	calls = map[string]string{}
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyLiveSeen); v != nil {
			if err := seen.UnmarshalText(v); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrCorrupt, keyLiveSeen, err)
			}
		}
		if err := tx.Bucket(bucketLive).ForEach(func(k, v []byte) error {
			calls[string(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		stored := tx.Bucket(bucketCalls)
		s.live.mu.Lock()
		defer s.live.mu.Unlock()
		s.live.unwritten(func(id, st string) {
			if stored.Get([]byte(id)) == nil {
				calls[id] = st
			}
		})
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("store: live calls: %w", err)
	}
	return calls, seen, nil
}

// DropLive forgets call id's live state (one that cannot be recorded).
// The caller saves it no more: a SaveLive of it on its way may still be
// written; one being written as DropLive is called is skipped, or
// deleted after.
func (s *Store) DropLive(id string) error {
	s.live.mu.Lock()
	delete(s.live.pending, id)
	if _, writing := s.live.inflight[id]; writing {
		if s.live.dropped == nil {
			s.live.dropped = map[string]bool{}
		}
		s.live.dropped[id] = true
	}
	s.live.mu.Unlock()
	if err := s.write(func(tx *bolt.Tx) error { return dropLive(tx, id) }); err != nil {
		return fmt.Errorf("store: drop live call %q: %w", id, err)
	}
	return nil
}

// writeLive runs until Close, writing pending states.
func (s *Store) writeLive() {
	w := s.live
	defer close(w.done)
	for {
		select {
		case <-w.kick:
			w.mu.Lock()
			waiting := w.retry // after a failed write, the retry's timer wakes us
			w.mu.Unlock()
			if !waiting {
				s.flushLive()
			}
		case <-w.stop:
			s.flushLive()
			return
		}
	}
}

// flushLive writes the pending states in one (batched) transaction. A
// state whose call has a record by then is not written: the record was
// stored after the state was saved. States that failed to be written are
// pending again unless a newer one came meanwhile, and are tried again
// liveRetry later (not sooner, however many states are saved meanwhile).
func (s *Store) flushLive() {
	w := s.live
	w.mu.Lock()
	batch, seen := w.pending, w.seen
	w.pending, w.seen, w.inflight = nil, time.Time{}, batch
	w.mu.Unlock()
	if len(batch) == 0 && seen.IsZero() {
		return
	}
	err := s.write(func(tx *bolt.Tx) error {
		if !seen.IsZero() {
			v, err := seen.MarshalText()
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketMeta).Put(keyLiveSeen, v); err != nil {
				return err
			}
		}
		live, calls := tx.Bucket(bucketLive), tx.Bucket(bucketCalls)
		w.mu.Lock()
		dropped := maps.Clone(w.dropped)
		w.mu.Unlock()
		for id, st := range batch {
			if calls.Get([]byte(id)) != nil || dropped[id] {
				continue
			}
			if err := live.Put([]byte(id), []byte(st)); err != nil {
				return err
			}
		}
		return nil
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.dropped {
		delete(batch, id) // not merged back below: forgotten
	}
	w.inflight, w.dropped = nil, nil // written, or merged back into pending below
	if err == nil {
		return
	}
	if w.closed {
		s.log.Error("saving the state of live calls failed at close: lost", "calls", len(batch), "err", err)
		w.lost = errors.Join(w.lost, fmt.Errorf("store: the states of %d live calls not saved at close (the next start re-adopts those still up from Asterisk; one that ends meanwhile goes unrecorded): %w", len(batch), err))
		return
	}
	s.log.Error("saving the state of live calls failed; trying again", "calls", len(batch), "in", liveRetry, "err", err)
	if w.pending == nil {
		w.pending = map[string]string{}
	}
	for id, st := range batch {
		if _, newer := w.pending[id]; !newer {
			w.pending[id] = st
		}
	}
	if w.seen.IsZero() {
		w.seen = seen
	}
	if !w.retry {
		w.retry = true
		time.AfterFunc(liveRetry, func() {
			w.mu.Lock()
			w.retry = false
			w.mu.Unlock()
			w.wake()
		})
	}
}

// closeLive writes what is pending and stops the writer; safe to call
// more than once. States saved after it are dropped.
func (s *Store) closeLive() error {
	s.live.once.Do(func() {
		s.live.mu.Lock()
		s.live.closed = true
		s.live.mu.Unlock()
		close(s.live.stop)
	})
	<-s.live.done
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	return s.live.lost
}

// dropLive deletes call id's live state inside a record's transaction.
func dropLive(tx *bolt.Tx, id string) error {
	return tx.Bucket(bucketLive).Delete([]byte(id))
}
