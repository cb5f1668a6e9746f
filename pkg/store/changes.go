package store

import (
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// The change feed of call records (schema 2): every write of a record (a
// call stored, a record replaced, a call classified, a recording's
// deletion noted) gives it the next number of the feed, and takes its
// earlier number away, so that a reader who remembers the last number it
// read finds every record stored or changed since, each once, in the
// order written (ListCalls orders by start time: a call in progress when
// a range was read is stored later under an earlier start, and an
// incremental reader by start time misses it).
var (
	bucketCallsByChange = []byte("calls_by_change") // 8-byte big-endian number → call id
	bucketCallChange    = []byte("call_change")     // call id → its number
)

func changeKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// sequenceChange gives call id the feed's next number (index calls it
// for every record written).
func sequenceChange(tx *bolt.Tx, id string) error {
	byChange, ofCall := tx.Bucket(bucketCallsByChange), tx.Bucket(bucketCallChange)
	if old := ofCall.Get([]byte(id)); old != nil {
		if err := byChange.Delete(old); err != nil {
			return err
		}
	}
	// Not merely the next number: at least the time in microseconds. A
	// file restored from a backup, or run by an earlier toritsugi and
	// migrated again, starts from lower numbers than readers were given;
	// numbers from the clock are above every one handed out before (each
	// was at most the clock then), so a reader misses nothing, and reads
	// again, to replace by id, what it had (nextChangeNumber).
	n, err := nextChangeNumber(tx)
	if err != nil {
		return err
	}
	k := changeKey(n)
	if err := byChange.Put(k, []byte(id)); err != nil {
		return err
	}
	return ofCall.Put([]byte(id), k)
}

// dropChange takes call id's number in the feed away, if it has one (a
// record deleted; sequenceChange replaces it in place).
func dropChange(tx *bolt.Tx, id string) error {
	ofCall := tx.Bucket(bucketCallChange)
	old := ofCall.Get([]byte(id))
	if old == nil {
		return nil
	}
	if err := tx.Bucket(bucketCallsByChange).Delete(old); err != nil {
		return err
	}
	return ofCall.Delete([]byte(id))
}

// sequenceAllCalls numbers every stored record in start order (the
// migration from schema 1, which had no feed).
func sequenceAllCalls(tx *bolt.Tx) error {
	c := tx.Bucket(bucketCallsByTime).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) <= tsLen {
			return fmt.Errorf("%w: short index key %x", ErrCorrupt, k)
		}
		if err := sequenceChange(tx, string(k[tsLen:])); err != nil {
			return err
		}
	}
	return nil
}

// maxChangeScan bounds how many feed entries one CallChanges reads when a
// client filter skips most of them: a page may then hold fewer records
// than its limit, and says there is more.
const maxChangeScan = 10000

// CallChanges lists the call records stored or changed after the feed's
// number after (0: from the first), of clientID ("": every client's), in
// the order they were written, at most limit (1 or more). It returns the
// number to ask after next time (after itself when nothing was read; for
// one client, its last record's, so that the cursor says nothing of other
// clients' writes unless a page scanned maxChangeScan of theirs) and
// whether more follow now. A record changed again moves to the end of the
// feed: read again, it replaces the copy read before (by id).
func (s *Store) CallChanges(after uint64, clientID string, limit int) ([]CallRecord, uint64, bool, error) {
	if limit < 1 {
		return nil, after, false, fmt.Errorf("%w: call changes: limit %d", ErrInvalidRecord, limit)
	}
	out := []CallRecord{}
	next, more := after, false
	if after == math.MaxUint64 {
		return out, next, false, nil // nothing comes after it
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		byChange, calls := tx.Bucket(bucketCallsByChange), tx.Bucket(bucketCalls)
		c := byChange.Cursor()
		scanned, last := 0, after // last: the number of the last entry read
		for k, id := c.Seek(changeKey(after + 1)); k != nil; k, id = c.Next() {
			if scanned == maxChangeScan {
				// Only here does the cursor pass other clients'
				// entries: it must move on.
				more, next = true, last
				return nil
			}
			scanned++
			if len(k) != 8 {
				return fmt.Errorf("%w: change key %x", ErrCorrupt, k)
			}
			b := calls.Get(id)
			if b == nil {
				return fmt.Errorf("%w: the change feed names missing call %q", ErrCorrupt, id)
			}
			last = binary.BigEndian.Uint64(k)
			r, err := decodeCall(b)
			if err != nil {
				return err
			}
			if clientID == "" || r.ClientID == clientID {
				if len(out) == limit {
					// More of the client's own records, not just more
					// entries: another client's write must not say so.
					more = true
					return nil
				}
				out = append(out, r)
				// A client's cursor is its own last record's: one that
				// moved with every client's writes would tell when
				// theirs are written (a client's own API token).
				next = last
			}
		}
		return nil
	})
	if err != nil {
		return nil, after, false, fmt.Errorf("store: call changes: %w", err)
	}
	return out, next, more, nil
}
