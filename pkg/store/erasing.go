package store

import (
	"errors"
	"fmt"
	"sync"

	"github.com/toritsugi/toritsugi/pkg/phone"
	bolt "go.etcd.io/bbolt"
)

// ErrErasing: the caller's data is being erased (BeginErasure): nothing
// of theirs is stored or relayed meanwhile.
var ErrErasing = errors.New("store: the caller's data is being erased")

// erasures are the numbers being erased now, by E.164.
type erasures struct {
	mu      sync.Mutex
	numbers map[string]int
}

// BeginErasure marks e164 as being erased until end is called: from now
// on no message of that caller, in any spelling of the number, is saved
// or corrected (ErrErasing), nor admitted to the relay
// (IntakeRelayable). An erasure reads what the caller left, then erases
// it: a message saved, or queued, in between would outlive it.
func (s *Store) BeginErasure(e164 string) (end func()) {
	s.erasing.mu.Lock()
	defer s.erasing.mu.Unlock()
	if s.erasing.numbers == nil {
		s.erasing.numbers = map[string]int{}
	}
	s.erasing.numbers[e164]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.erasing.mu.Lock()
			defer s.erasing.mu.Unlock()
			if s.erasing.numbers[e164]--; s.erasing.numbers[e164] <= 0 {
				delete(s.erasing.numbers, e164)
			}
		})
	}
}

// beingErased reports whether number, as stored, is one being erased.
func (s *Store) beingErased(number string) bool {
	c := phone.ParseCallerID(number)
	if c.Kind != phone.Number {
		return false
	}
	s.erasing.mu.Lock()
	defer s.erasing.mu.Unlock()
	return s.erasing.numbers[c.E164] > 0
}

// IntakeRelayable says, in tx (a transaction of the store's file: the
// relay outbox's, as it queues a message), whether intake id may be
// relayed: it exists (not erased, not purged), and its caller is not
// being erased. Checked in the queue's own transaction, a message saved
// before an erasure and queued after it is not sent.
func (s *Store) IntakeRelayable(tx *bolt.Tx, id string) error {
	in, err := s.IntakeIn(tx, id)
	if err != nil {
		return err
	}
	if s.beingErased(in.CallerNumber) {
		return fmt.Errorf("intake %s: %w", id, ErrErasing)
	}
	return nil
}

// CallRelayable says, in tx (the relay outbox's, as it queues a call's
// notice: a missed call, a voicemail), whether the notice of call id may
// be relayed: not when the call's caller was erased, or is being erased
// now (the record was stored, then the erasure ran, then the notice
// built from the record in memory came to be queued). A call with no
// record is left to the caller of Enqueue.
func (s *Store) CallRelayable(tx *bolt.Tx, id string) error {
	v := tx.Bucket(bucketCalls).Get([]byte(id))
	if v == nil {
		return nil
	}
	rec, err := decodeCall(v)
	if err != nil {
		return err
	}
	if CallerErased(rec) || s.beingErased(rec.CallerID) {
		return fmt.Errorf("call %s: %w", id, ErrErasing)
	}
	return nil
}
