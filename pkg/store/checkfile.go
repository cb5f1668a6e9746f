package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// FileSummary is what CheckFile found in a database file.
type FileSummary struct {
	Schema  int
	Calls   int
	Intakes int
}

// CheckFile opens the database file at path read-only (a backup copy, say:
// nothing in it is changed), runs the consistency check Open runs, checks
// the schema version, reads every call record and message, and counts
// them. A damaged file is an error wrapping ErrCorrupt; one this binary is
// too old for wraps ErrSchemaTooNew.
func CheckFile(path string) (FileSummary, error) {
	var sum FileSummary
	if err := checkShort(path); err != nil {
		return sum, fmt.Errorf("store: check %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err != nil {
		return sum, fmt.Errorf("store: check %s: %w", path, err)
	} else if fi.Size() == 0 {
		// bbolt would try to write a new database into it.
		return sum, fmt.Errorf("store: check %s: %w: the file is empty", path, ErrCorrupt)
	}
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: DefaultTimeout})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return sum, fmt.Errorf("store: check %s: %w: a running toritsugi holds it; check a copy (a backup) instead", path, ErrLocked)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch):
		return sum, fmt.Errorf("store: check %s: %w: %w", path, ErrCorrupt, err)
	case err != nil:
		return sum, fmt.Errorf("store: check %s: %w", path, err)
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
		n, err := strconv.Atoi(string(meta.Get(keySchema)))
		switch {
		case err != nil || n < 1:
			return fmt.Errorf("%w: schema version %q", ErrCorrupt, meta.Get(keySchema))
		case n > SchemaVersion:
			return fmt.Errorf("%w: file has version %d, this binary knows %d", ErrSchemaTooNew, n, SchemaVersion)
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
		if b := tx.Bucket(bucketIntakes); b != nil {
			return b.ForEach(func(_, v []byte) error {
				_, err := decodeIntake(v)
				sum.Intakes++
				return err
			})
		}
		return nil
	})
	if err != nil {
		return sum, fmt.Errorf("store: check %s: %w", path, err)
	}
	return sum, nil
}
