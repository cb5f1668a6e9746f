package relay

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Unreadable is an entry OpenOutbox set aside in the bucket
// relay_unreadable because its value did not decode, as an admin sees it.
type Unreadable struct {
	// ID is the entry's key as it was: "<message id>/<destination>".
	ID string `json:"id"`
	// MessageID and Destination are read from ID (empty when it has no
	// "/"): the value, which does not decode, says nothing.
	MessageID   string `json:"message_id,omitempty"`
	Destination string `json:"destination,omitempty"`
	// Bucket is where it was: relay_outbox (pending, delivered or
	// discarded) or relay_dead.
	Bucket string `json:"bucket,omitempty"`
	// SetAsideAt is when OpenOutbox set it aside (zero when its record
	// does not decode either).
	SetAsideAt time.Time `json:"set_aside_at,omitzero"`
	// Error is why its value did not decode.
	Error string `json:"error"`
	// Value is the stored value as it was (in JSON, base64): the record
	// of its setting aside itself when that does not decode.
	Value []byte `json:"value"`
}

// readUnreadable is the entry set aside under key k with record v.
func readUnreadable(k, v []byte) Unreadable {
	u := Unreadable{ID: string(k)}
	if slash := strings.LastIndexByte(u.ID, '/'); slash >= 0 {
		u.MessageID, u.Destination = u.ID[:slash], u.ID[slash+1:]
	}
	var rec unreadable
	if err := json.Unmarshal(v, &rec); err != nil {
		u.Error = "the record of its setting aside does not decode either: " + err.Error()
		u.Value = append([]byte(nil), v...)
		return u
	}
	u.Bucket, u.SetAsideAt, u.Error, u.Value = rec.Bucket, rec.SetAside, rec.Error, rec.Value
	return u
}

// sweepFound is told, between Sweep's read of what is stranded and its
// deletions, how many entries it found (a test writes a message there).
var sweepFound = func(found int) {}

// Sweep deletes the entries stranded says are stranded, in any state
// (pending, delivered, dead or discarded), and the entries set aside
// unreadable that strandedAside says are (nil: none), and returns how
// many went. The retention uses it for the copies whose message is no
// longer in the store: deleted by an earlier run or an erasure that
// failed before it got to them. The predicates are given a transaction
// of the outbox's file, so that they can read the store's buckets there:
// each entry found stranded in a read transaction is asked about again,
// and deleted, in a write transaction of its own batch (purgeBatch
// entries), so that the answer and the deletion see the same store. A
// message committed between the two (a message taken, then queued) keeps
// its entries. An entry of the outbox or of the dead letters that does
// not decode is left (OpenOutbox sets it aside).
func (o *Outbox) Sweep(stranded func(tx *bolt.Tx, e Entry) bool, strandedAside func(tx *bolt.Tx, u Unreadable) bool) (int, error) {
	type found struct {
		bucket []byte
		key    []byte
	}
	// still reports whether the value v of key k in bucket name is
	// stranded, in tx.
	still := func(tx *bolt.Tx, name, k, v []byte) bool {
		if string(name) == string(bucketUnreadable) {
			return strandedAside != nil && strandedAside(tx, readUnreadable(k, v))
		}
		e, err := decodeEntry(v)
		return err == nil && stranded(tx, e)
	}
	var all []found
	err := o.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketOutbox, bucketDead, bucketUnreadable} {
			err := tx.Bucket(name).ForEach(func(k, v []byte) error {
				if still(tx, name, k, v) {
					all = append(all, found{name, append([]byte(nil), k...)})
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("relay: sweep stranded entries: %w", err)
	}
	sweepFound(len(all))
	n := 0
	for len(all) > 0 {
		batch := all[:min(purgeBatch, len(all))]
		all = all[len(batch):]
		err := o.db.Update(func(tx *bolt.Tx) error {
			due := tx.Bucket(bucketDue)
			for _, f := range batch {
				b := tx.Bucket(f.bucket)
				v := b.Get(f.key)
				if v == nil || !still(tx, f.bucket, f.key, v) {
					continue // gone, or its message written, since it was read
				}
				if err := b.Delete(f.key); err != nil {
					return err
				}
				// Indexed while pending in the outbox only: a dead letter or
				// a record set aside may share its key with a pending
				// entry queued again since.
				if string(f.bucket) == string(bucketOutbox) {
					if err := due.Delete(f.key); err != nil {
						return err
					}
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("relay: sweep stranded entries: %w", err)
		}
	}
	return n, nil
}

// UnreadablePage returns the entries set aside unreadable (OpenOutbox)
// in the order they were set aside (ties, and records that do not
// decode, which have no time, by key), the n first after the position
// after, whose EnqueuedAt stands for when an entry was set aside, and
// whether more follow. They are few: an admin reads them (their client
// cannot be read, so the service's alone), and dismisses each with
// DiscardUnreadable.
func (o *Outbox) UnreadablePage(after Position, n int) ([]Unreadable, bool, error) {
	if n <= 0 {
		return nil, false, fmt.Errorf("relay: page of %d unreadable entries: %w", n, ErrInvalid)
	}
	var all []Unreadable
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUnreadable).ForEach(func(k, v []byte) error {
			u := readUnreadable(k, v)
			if (Position{EnqueuedAt: u.SetAsideAt, ID: u.ID}).Compare(after) > 0 {
				all = append(all, u)
			}
			return nil
		})
	})
	if err != nil {
		return nil, false, fmt.Errorf("relay: unreadable entries: %w", err)
	}
	slices.SortFunc(all, func(a, b Unreadable) int {
		return Position{EnqueuedAt: a.SetAsideAt, ID: a.ID}.Compare(Position{EnqueuedAt: b.SetAsideAt, ID: b.ID})
	})
	if len(all) > n {
		return all[:n], true, nil
	}
	return all, false, nil
}

// DiscardUnreadable deletes entry id set aside unreadable, for good: an
// admin has looked at it (UnreadablePage), and told its client if its
// message was not sent. It no longer counts in Stats (an alert on
// relay.unreadable clears). ErrNotFound if no entry with id is set
// aside; an entry with the same id in the outbox or the dead letters (a
// message queued again since) is not touched.
func (o *Outbox) DiscardUnreadable(id string) error {
	err := o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUnreadable)
		if b.Get([]byte(id)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("relay: discard unreadable %s: %w", id, err)
	}
	o.log.Info("relay entry set aside unreadable discarded", "entry", id)
	return nil
}
