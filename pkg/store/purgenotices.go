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
	n := byChange.Sequence() + 1
	if now := time.Now().UnixMicro(); now > 0 && uint64(now) > n {
		n = uint64(now)
	}
	if err := byChange.SetSequence(n); err != nil {
		return 0, err
	}
	return n, nil
}

// writePurgeNotice notes in the change feed that record r was purged at.
func writePurgeNotice(tx *bolt.Tx, r CallRecord, at time.Time) error {
	n, err := nextChangeNumber(tx)
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
