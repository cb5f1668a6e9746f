package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// PurgeCalls deletes the call records of calls that started before
// cutoff, with their entries in the indexes, the change feed and the
// classifications (call_record_retention_days), each leaving a purge
// notice in the change feed (purgenotices.go). The monthly counts stay:
// the billing of a month does not change when its records go. A record
// that still names a recording is kept while keep says so (nil: always),
// until the recording retention has deleted the recording and noted it:
// its recording is found through it. The records are deleted in
// transactions of at most purgeBatch, client by client (calls_by_client),
// each client's oldest first, so that a client's notices are numbered one
// after another (noticeRun); it returns how many went. first (nil: nothing) is called with each record due, in the
// transaction that deletes it and before it goes, for what was made from
// it elsewhere in the file (the relay outbox's copies of its notices):
// its error rolls the batch back, the records kept with what first
// deleted, to be found again by the next run. It then deletes the purge
// notices older than PurgeNoticeKeep.
func (s *Store) PurgeCalls(cutoff time.Time, keep func(CallRecord) bool, first func(*bolt.Tx, CallRecord) error) (int, error) {
	if cutoff.Before(minStart) {
		return 0, nil
	}
	if cutoff.After(maxStart) {
		cutoff = maxStart
	}
	end := tsKey(cutoff)
	// Kept first: a call of before it read again later (a line of the
	// fallback file) must not be stored, counted and relayed anew.
	if err := s.update(func(tx *bolt.Tx) error {
		if err := notePurgedBefore(tx, cutoff); err != nil {
			return err
		}
		return noteNoticedBefore(tx)
	}); err != nil {
		return 0, fmt.Errorf("store: purge call records: %w", err)
	}
	total := 0
	var from []byte // where the next batch starts: past the records kept
	var run noticeRun
	for {
		n, next, err := s.purgeCallsBatch(from, end, keep, first, &run)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: purge call records: %w", err)
		}
		if next == nil {
			break
		}
		from = next
	}
	if err := s.update(func(tx *bolt.Tx) error { return dropOrphanClasses(tx, cutoff) }); err != nil {
		return total, fmt.Errorf("store: purge call records: %w", err)
	}
	if _, err := s.expirePurgeNotices(s.now().Add(-PurgeNoticeKeep)); err != nil {
		return total, fmt.Errorf("store: purge call records: %w", err)
	}
	return total, nil
}

// dropOrphanClasses deletes the classifications given before cutoff to
// calls that have no record: a call classified after the purge deleted
// its record (from a page read before), or whose record was never stored.
// A classification waits for its record only while the call goes on.
func dropOrphanClasses(tx *bolt.Tx, cutoff time.Time) error {
	classes, calls := tx.Bucket(bucketCallClasses), tx.Bucket(bucketCalls)
	if classes == nil {
		return nil
	}
	var orphans [][]byte
	err := classes.ForEach(func(id, v []byte) error {
		if calls.Get(id) != nil {
			return nil
		}
		var cc callClass
		if err := json.Unmarshal(v, &cc); err != nil {
			return fmt.Errorf("%w: decode class of call %q: %w", ErrCorrupt, id, err)
		}
		if cc.At.Before(cutoff) {
			orphans = append(orphans, bytes.Clone(id))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range orphans { // once ForEach is done with the bucket
		if err := classes.Delete(id); err != nil {
			return err
		}
	}
	return nil
}

// purgeCallsBatch deletes the records due among at most purgeBatch read
// from the calls_by_client key from on (nil: the first), each client's up
// to end (a start time key, excluded): a writer waits for one batch at a
// time, however many old records are kept for their recordings. first
// (nil: nothing) is called with each before it goes; run numbers their
// notices. next is the key to go on from, nil when none is left.
func (s *Store) purgeCallsBatch(from, end []byte, keep func(CallRecord) bool, first func(*bolt.Tx, CallRecord) error, run *noticeRun) (n int, next []byte, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		n, next = 0, nil
		calls, byClient := tx.Bucket(bucketCalls), tx.Bucket(bucketCallsByClnt)
		c := byClient.Cursor()
		k, _ := c.First()
		if from != nil {
			k, _ = c.Seek(from)
		}
		var due []CallRecord
		for read := 0; k != nil; {
			i := bytes.IndexByte(k, 0) // clientID 0x00 ts id
			if i < 0 || len(k) <= i+1+tsLen {
				return fmt.Errorf("%w: bad client index key %x", ErrCorrupt, k)
			}
			if read == purgeBatch {
				next = bytes.Clone(k)
				break
			}
			read++
			if bytes.Compare(k[i+1:i+1+tsLen], end) >= 0 {
				// The client's records from here on are kept: on
				// to the next client's (no client id holds NUL).
				k, _ = c.Seek(append(bytes.Clone(k[:i]), 1))
				continue
			}
			id := k[i+1+tsLen:]
			k, _ = c.Next()
			b := calls.Get(id)
			if b == nil {
				return fmt.Errorf("%w: index names missing call %q", ErrCorrupt, id)
			}
			r, err := decodeCall(b)
			if err != nil {
				return err
			}
			if r.Recording != "" && (keep == nil || keep(r)) {
				continue // the recording retention goes first
			}
			due = append(due, r)
		}
		// Deleted once the cursor is done with the bucket.
		classes := tx.Bucket(bucketCallClasses)
		for _, r := range due {
			if first != nil {
				if err := first(tx, r); err != nil {
					return fmt.Errorf("call %q: %w", r.ID, err)
				}
			}
			if err := deleteCall(tx, r, classes, s.now(), run); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, next, err
}

// deleteCall deletes record r and its index, feed and class entries, and
// leaves a purge notice of it, at, numbered by run, in the change feed;
// the counts are left as they are.
func deleteCall(tx *bolt.Tx, r CallRecord, classes *bolt.Bucket, at time.Time, run *noticeRun) error {
	id := []byte(r.ID)
	if err := tx.Bucket(bucketCalls).Delete(id); err != nil {
		return err
	}
	if err := dropIndexKeys(tx, r); err != nil {
		return err
	}
	if err := dropChange(tx, r.ID); err != nil {
		return err
	}
	if err := writePurgeNotice(tx, r, at, run); err != nil {
		return err
	}
	if classes != nil {
		return classes.Delete(id)
	}
	return nil
}

// keyCallsPurgedBefore (in meta) is the latest cutoff of PurgeCalls: the
// records of calls started before it were deleted.
var keyCallsPurgedBefore = []byte("calls_purged_before")

// notePurgedBefore keeps cutoff as the purge's cutoff, unless a later one
// is kept already.
func notePurgedBefore(tx *bolt.Tx, cutoff time.Time) error {
	if purgedBefore(tx).After(cutoff) {
		return nil
	}
	b, err := cutoff.UTC().MarshalText()
	if err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyCallsPurgedBefore, b)
}

// purgedBefore is the purge's cutoff (zero: no purge yet).
func purgedBefore(tx *bolt.Tx) time.Time {
	var t time.Time
	if b := tx.Bucket(bucketMeta).Get(keyCallsPurgedBefore); b != nil {
		if err := t.UnmarshalText(b); err != nil {
			return time.Time{}
		}
	}
	return t
}
