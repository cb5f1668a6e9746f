package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Purge notices ("tombstones"): a call record PurgeCalls deletes leaves a
// notice in the change feed, numbered from the feed's own counter (after
// every number a reader could have read the record at), so that a reader
// keeping a copy deletes it too. They are kept in their own bucket, not in
// calls_by_change: an older binary (a rollback, no schema change) takes an
// entry there naming a missing record for damage, and never reads this
// one.
var bucketCallsPurged = []byte("calls_purged") // 8-byte big-endian number → purgeNotice

// PurgeNoticeKeep is how long a purge notice stays in the change feed. A
// reader whose number is older than a notice expired since is answered
// ErrChangesGone: it must read the feed in full again.
const PurgeNoticeKeep = 30 * 24 * time.Hour

// purgeNotice is a stored purge notice.
type purgeNotice struct {
	ID       string    `json:"id"`
	ClientID string    `json:"client_id"`
	PurgedAt time.Time `json:"purged_at"`
}

// nextChangeNumber takes the feed's next number (sequenceChange's rule:
// above every number given, and at least the time in microseconds).
func nextChangeNumber(tx *bolt.Tx) (uint64, error) {
	byChange := tx.Bucket(bucketCallsByChange)
	n := max(byChange.Sequence()+1, clockNumber())
	if err := byChange.SetSequence(n); err != nil {
		return 0, err
	}
	return n, nil
}

// clockNumber is the clock in microseconds (0 before 1970), the least
// number nextChangeNumber gives now.
func clockNumber() uint64 {
	return uint64(max(time.Now().UnixMicro(), 0))
}

// fullReadBound is the MaxHorizon of a full read beginning now: below the
// number of every notice written from now on (ChangeCursor).
func fullReadBound() uint64 {
	return max(clockNumber(), 2) - 1
}

// noticeRun numbers the purge notices of one PurgeCalls, which goes
// client by client: a client's notices one after another (the last number
// given + 1, across batches too), the first of them from the clock
// (nextChangeNumber). Numbered from the clock each, or in start order
// with every client's mixed, the gap between two numbers of a client's
// (its purged[].seq and next) showed how many of other clients' records
// were purged between them.
type noticeRun struct {
	client string
	on     bool // client's notices are being numbered
}

// number takes the number of the next notice, of clientID's record.
func (r *noticeRun) number(tx *bolt.Tx, clientID string) (uint64, error) {
	if !r.on || r.client != clientID {
		r.client, r.on = clientID, true
		return nextChangeNumber(tx)
	}
	byChange := tx.Bucket(bucketCallsByChange)
	n := byChange.Sequence() + 1
	return n, byChange.SetSequence(n)
}

// writePurgeNotice notes in the change feed that record r was purged at,
// numbered by run.
func writePurgeNotice(tx *bolt.Tx, r CallRecord, at time.Time, run *noticeRun) error {
	n, err := run.number(tx, r.ClientID)
	if err != nil {
		return err
	}
	v, err := json.Marshal(purgeNotice{ID: r.ID, ClientID: r.ClientID, PurgedAt: at.UTC()})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketCallsPurged).Put(changeKey(n), v)
}

func decodePurgeNotice(k, v []byte) (uint64, purgeNotice, error) {
	var p purgeNotice
	if len(k) != 8 {
		return 0, p, fmt.Errorf("%w: purge notice key %x", ErrCorrupt, k)
	}
	if err := json.Unmarshal(v, &p); err != nil {
		return 0, p, fmt.Errorf("%w: purge notice %x: %w", ErrCorrupt, k, err)
	}
	if p.ID == "" {
		return 0, p, fmt.Errorf("%w: purge notice %x names no call", ErrCorrupt, k)
	}
	return binary.BigEndian.Uint64(k), p, nil
}

// checkPurgeNotices checks that every purge notice reads, names a call,
// and has a number of the feed's counter that no record holds.
func checkPurgeNotices(tx *bolt.Tx) error {
	purged := tx.Bucket(bucketCallsPurged)
	if purged == nil {
		return nil // a file an older binary made: none written
	}
	byChange := tx.Bucket(bucketCallsByChange)
	return purged.ForEach(func(k, v []byte) error {
		n, _, err := decodePurgeNotice(k, v)
		if err != nil {
			return err
		}
		if n > byChange.Sequence() {
			return fmt.Errorf("%w: purge notice %d is past the change feed's last number %d", ErrCorrupt, n, byChange.Sequence())
		}
		if byChange.Get(k) != nil {
			return fmt.Errorf("%w: purge notice %d has the number of a record in the change feed", ErrCorrupt, n)
		}
		return nil
	})
}

// The horizon: expired notices are deleted, and the highest number of
// those is kept, overall and per client; a reader whose number is below
// it may have missed a notice (ErrChangesGone). Per client, so that a
// client's reader, whose number is its own last entry's (changes.go), is
// not turned away for other clients' notices, nor learns of them.
var (
	keyPurgeHorizon       = []byte("purge_notices_horizon") // 8 bytes: every client's
	keyPurgeHorizonClient = "purge_notices_horizon/"        // + client id: 8 bytes, that client's
)

func clientHorizonKey(clientID string) []byte { return []byte(keyPurgeHorizonClient + clientID) }

// metaNumber reads an 8-byte number kept in meta (0: none).
func metaNumber(tx *bolt.Tx, key []byte) uint64 {
	if v := tx.Bucket(bucketMeta).Get(key); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// raiseMetaNumber keeps n under key unless a higher number is kept.
func raiseMetaNumber(tx *bolt.Tx, key []byte, n uint64) error {
	if metaNumber(tx, key) >= n {
		return nil
	}
	return tx.Bucket(bucketMeta).Put(key, changeKey(n))
}

// feedHorizon is the number below which the feed of clientID ("": every
// client's) may lack notices.
func feedHorizon(tx *bolt.Tx, clientID string) uint64 {
	gap := metaNumber(tx, keyPurgeGap)
	if clientID == "" {
		return max(gap, metaNumber(tx, keyPurgeHorizon))
	}
	return max(gap, metaNumber(tx, clientHorizonKey(clientID)))
}

// ExpirePurgeNotices deletes the purge notices written before
// now less PurgeNoticeKeep, as PurgeCalls does after its purge: for a
// service whose call_record_retention_days was set back to 0 (no purge
// runs), whose notices would otherwise stay for ever.
func (s *Store) ExpirePurgeNotices(now time.Time) (int, error) {
	n, err := s.expirePurgeNotices(now.Add(-PurgeNoticeKeep))
	if err != nil {
		return n, fmt.Errorf("store: expire purge notices: %w", err)
	}
	return n, nil
}

// expirePurgeNotices deletes the purge notices written before before, in
// number order, stopping at the first one kept (so that every notice
// below the horizon is gone, and every one above it kept), in
// transactions of at most purgeBatch, raising the horizons.
func (s *Store) expirePurgeNotices(before time.Time) (int, error) {
	total := 0
	for {
		n, done := 0, false
		err := s.update(func(tx *bolt.Tx) error {
			n, done = 0, false
			c := tx.Bucket(bucketCallsPurged).Cursor()
			var keys [][]byte
			top := map[string]uint64{} // client → highest number expired
			var highest uint64
			k, v := c.First()
			for ; k != nil && len(keys) < purgeBatch; k, v = c.Next() {
				num, p, err := decodePurgeNotice(k, v)
				if err != nil {
					return err
				}
				if !p.PurgedAt.Before(before) {
					break
				}
				keys = append(keys, changeKey(num))
				top[p.ClientID], highest = num, num
			}
			done = k == nil || len(keys) < purgeBatch
			for _, k := range keys { // once the cursor is done with the bucket
				if err := tx.Bucket(bucketCallsPurged).Delete(k); err != nil {
					return err
				}
			}
			for client, num := range top {
				if err := raiseMetaNumber(tx, clientHorizonKey(client), num); err != nil {
					return err
				}
			}
			n = len(keys)
			return raiseMetaNumber(tx, keyPurgeHorizon, highest)
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("expire purge notices: %w", err)
		}
		if done {
			return total, nil
		}
	}
}

// After a rollback, an older binary purges records without notices, and
// moves calls_purged_before on. keyNoticedBefore is how far notices were
// written (the purge cutoff of the last PurgeCalls of a binary writing
// them); one behind calls_purged_before at Open says records may have
// gone unnoticed: keyPurgeGap, a fresh number of the feed, is then the
// horizon of every reader, each of which reads in full again once.
var (
	keyNoticedBefore = []byte("calls_noticed_before")
	keyPurgeGap      = []byte("purge_notices_gap") // 8 bytes
)

// noteNoticedBefore keeps the purge cutoff as how far notices are written.
func noteNoticedBefore(tx *bolt.Tx) error {
	b, err := purgedBefore(tx).UTC().MarshalText()
	if err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyNoticedBefore, b)
}

// noteUnnoticedPurge raises the horizon of every reader if a purge went
// further than the notices (an older binary's, after a rollback), and
// reports whether it did. A file no binary writing notices has opened
// yet (an upgrade) is not one: its readers were told to expire the
// records purged before by themselves.
func noteUnnoticedPurge(tx *bolt.Tx) (bool, error) {
	v := tx.Bucket(bucketMeta).Get(keyNoticedBefore)
	if v == nil {
		return false, noteNoticedBefore(tx)
	}
	var noticed time.Time
	if err := noticed.UnmarshalText(v); err == nil && !purgedBefore(tx).After(noticed) {
		return false, nil
	}
	n, err := nextChangeNumber(tx)
	if err != nil {
		return false, err
	}
	if err := raiseMetaNumber(tx, keyPurgeGap, n); err != nil {
		return false, err
	}
	return true, noteNoticedBefore(tx)
}
