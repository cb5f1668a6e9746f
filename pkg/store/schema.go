package store

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this binary reads and writes.
const SchemaVersion = 1

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

var allBuckets = [][]byte{bucketMeta, bucketCalls, bucketCallsByTime, bucketCallsByClnt, bucketCounts, bucketLive}

// prepare validates the schema version before touching anything, then
// creates missing buckets and records the version of a new file. Returning
// an error rolls everything back, so a newer file is never modified.
func prepare(tx *bolt.Tx) error {
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(keySchema); v != nil {
			if _, err := schemaOf(v); err != nil {
				return err
			}
			// Version n == SchemaVersion; migrations from older versions go here.
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("store: create bucket %s: %w", name, err)
		}
	}
	if err := indexPendingCallbacks(tx); err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	if meta.Get(keySchema) == nil {
		if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return fmt.Errorf("store: write schema version: %w", err)
		}
	}
	return nil
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
