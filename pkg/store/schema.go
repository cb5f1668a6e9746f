package store

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this binary reads and writes. 2: the
// change feed of call records (changes.go). A file of an earlier version
// is migrated at Open, after a copy of it is kept (backupBeforeMigration).
const SchemaVersion = 2

// Buckets. Keys are documented where they are built (keys.go).
var (
	bucketMeta        = []byte("meta")
	bucketCalls       = []byte("calls")
	bucketCallsByTime = []byte("calls_by_time")
	bucketCallsByClnt = []byte("calls_by_client")
	bucketCounts      = []byte("counts")
	bucketLive        = []byte("live_calls") // call id → state saved by the call package (live.go)

	keySchema   = []byte("schema")
	keyLiveSeen = []byte("live_seen") // until when a controller watched the live calls (live.go)
)

var allBuckets = [][]byte{bucketMeta, bucketCalls, bucketCallsByTime, bucketCallsByClnt, bucketCounts, bucketLive,
	bucketCallsByChange, bucketCallChange, bucketCallsPurged}

// prepare validates the schema version before touching anything, then
// creates missing buckets and records the version of a new file. Returning
// an error rolls everything back, so a newer file is never modified.
func prepare(tx *bolt.Tx) error {
	from, err := schemaIn(tx)
	if err != nil {
		return err
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("store: create bucket %s: %w", name, err)
		}
	}
	if from == 1 { // no change feed, no index of pending callback requests
		if err := sequenceAllCalls(tx); err != nil {
			return fmt.Errorf("store: migrate from schema 1: %w", err)
		}
		if err := indexPendingCallbacks(tx); err != nil {
			return fmt.Errorf("store: migrate from schema 1: %w", err)
		}
	}
	if from != SchemaVersion {
		if err := tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return fmt.Errorf("store: write schema version: %w", err)
		}
	}
	return nil
}

// schemaIn is the schema version of the file of tx: 0 for a new file,
// ErrCorrupt or ErrSchemaTooNew as schemaOf says.
func schemaIn(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keySchema)
	if v == nil {
		return 0, nil
	}
	return schemaOf(v)
}

// schemaOf reads a stored schema version v: ErrCorrupt if it is not one,
// ErrSchemaTooNew if this binary does not know it.
func schemaOf(v []byte) (int, error) {
	n, err := strconv.Atoi(string(v))
	switch {
	case err != nil || n < 1:
		return 0, fmt.Errorf("%w: schema version %q", ErrCorrupt, v)
	case n > SchemaVersion:
		return 0, fmt.Errorf("%w: file has version %d, this binary knows %d", ErrSchemaTooNew, n, SchemaVersion)
	}
	return n, nil
}
