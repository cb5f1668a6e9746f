package store

import (
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// FileCheck is a check of values CheckFile runs in its read transaction,
// for a package that keeps its own buckets in the store's file (the relay
// outbox, relay.CheckEntries: bbolt's check reads pages, not values).
type FileCheck func(tx *bolt.Tx) error

// FileSummary is what CheckFile found in a database file.
type FileSummary struct {
	Schema  int
	Calls   int
	Intakes int
}

// CheckFile opens the database file at path read-only (a backup copy, say:
// nothing in it is changed), runs the consistency check Open runs, checks
// the schema version, reads every call record and message, and counts
// them, then runs more (an error of theirs is one of the file's, wrapped
// in ErrCorrupt). A damaged file is an error wrapping ErrCorrupt; one this
// binary is too old for wraps ErrSchemaTooNew.
func CheckFile(path string, more ...FileCheck) (FileSummary, error) {
	var sum FileSummary
	if fi, err := os.Stat(path); err != nil {
		return sum, fmt.Errorf("store: check %s: %w", path, err)
	} else if fi.Size() == 0 {
		// bbolt would try to write a new database into it.
		return sum, fmt.Errorf("store: check %s: %w: the file is empty", path, ErrCorrupt)
	}
	db, err := openBolt("check", path, &bolt.Options{ReadOnly: true, Timeout: DefaultTimeout})
	if errors.Is(err, ErrLocked) {
		return sum, fmt.Errorf("%w (a running toritsugi holds it: check a copy, a backup, instead)", err)
	}
	if err != nil {
		return sum, err
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil || meta.Get(keySchema) == nil {
			return fmt.Errorf("%w: no schema version: not a toritsugi database", ErrCorrupt)
		}
		n, err := schemaOf(meta.Get(keySchema))
		if err != nil {
			return err
		}
		sum.Schema = n
		if b := tx.Bucket(bucketCalls); b != nil {
			if err := b.ForEach(func(_, v []byte) error {
				_, err := decodeCall(v)
				sum.Calls++
				return err
			}); err != nil {
				return err
			}
		}
		if n >= 2 {
			if err := checkChangeFeed(tx); err != nil {
				return err
			}
			if err := checkPurgeNotices(tx); err != nil {
				return err
			}
		}
		if b := tx.Bucket(bucketIntakes); b != nil {
			if err := b.ForEach(func(_, v []byte) error {
				_, err := decodeIntake(v)
				sum.Intakes++
				return err
			}); err != nil {
				return err
			}
		}
		for _, c := range more {
			if err := c(tx); err != nil {
				if errors.Is(err, ErrCorrupt) {
					return err
				}
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
		}
		return nil
	})
	if err != nil {
		return sum, fmt.Errorf("store: check %s: %w", path, err)
	}
	return sum, nil
}

// checkChangeFeed checks that the change feed numbers every call record
// once, both ways: an entry naming a missing call would fail every reader
// of the feed from there on.
func checkChangeFeed(tx *bolt.Tx) error {
	calls, byChange, ofCall := tx.Bucket(bucketCalls), tx.Bucket(bucketCallsByChange), tx.Bucket(bucketCallChange)
	if calls == nil || byChange == nil || ofCall == nil {
		return fmt.Errorf("%w: schema 2 without its change feed", ErrCorrupt)
	}
	entries := 0
	if err := byChange.ForEach(func(k, id []byte) error {
		entries++
		if calls.Get(id) == nil || string(ofCall.Get(id)) != string(k) {
			return fmt.Errorf("%w: the change feed's entry %x names call %q, which is not numbered so", ErrCorrupt, k, id)
		}
		return nil
	}); err != nil {
		return err
	}
	return calls.ForEach(func(id, _ []byte) error {
		if k := ofCall.Get(id); k == nil || string(byChange.Get(k)) != string(id) {
			return fmt.Errorf("%w: call %q is not in the change feed", ErrCorrupt, id)
		}
		return nil
	})
}
