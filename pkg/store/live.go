package store

import (
	"fmt"
	"sync"

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

// liveWriter is the write-behind of live-call states.
type liveWriter struct {
	mu      sync.Mutex
	pending map[string]string // call id → newest unsaved state
	kick    chan struct{}     // capacity 1: something is pending
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
	w := s.live
	w.mu.Lock()
	if w.pending == nil {
		w.pending = map[string]string{}
	}
	w.pending[id] = state
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// LiveCalls returns the live states written (call id → state): calls in
// progress, or calls that ended while no controller stored their record.
func (s *Store) LiveCalls() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLive).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: live calls: %w", err)
	}
	return out, nil
}

// writeLive runs until Close, writing pending states.
func (s *Store) writeLive() {
	w := s.live
	defer close(w.done)
	for {
		select {
		case <-w.kick:
			s.flushLive()
		case <-w.stop:
			s.flushLive()
			return
		}
	}
}

// flushLive writes the pending states in one (batched) transaction. A
// state whose call has a record by then is not written: the record was
// stored after the state was saved. States that failed to be written are
// pending again unless a newer one came meanwhile, and go with the next.
func (s *Store) flushLive() {
	w := s.live
	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	err := s.write(func(tx *bolt.Tx) error {
		live, calls := tx.Bucket(bucketLive), tx.Bucket(bucketCalls)
		for id, st := range batch {
			if calls.Get([]byte(id)) != nil {
				continue
			}
			if err := live.Put([]byte(id), []byte(st)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	s.log.Error("saving the state of live calls failed; kept for the next write", "calls", len(batch), "err", err)
	w.mu.Lock()
	if w.pending == nil {
		w.pending = map[string]string{}
	}
	for id, st := range batch {
		if _, newer := w.pending[id]; !newer {
			w.pending[id] = st
		}
	}
	w.mu.Unlock()
}

// closeLive writes what is pending and stops the writer; safe to call
// more than once.
func (s *Store) closeLive() {
	s.live.once.Do(func() { close(s.live.stop) })
	<-s.live.done
}

// dropLive deletes call id's live state inside a record's transaction.
func dropLive(tx *bolt.Tx, id string) error {
	return tx.Bucket(bucketLive).Delete([]byte(id))
}
