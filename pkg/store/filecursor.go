package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// bucketFileCursors holds how far a file outside the store has been read:
// path → FileCursor JSON (the fallback log Asterisk writes). Created by
// the first write.
var bucketFileCursors = []byte("file_cursors")

// FileCursor is how far a file was read: the bytes of complete lines read,
// of the file with inode Inode (0: not known). A file replaced (another
// inode) or shorter than Offset is read again from its start.
type FileCursor struct {
	Offset int64  `json:"offset"`
	Inode  uint64 `json:"inode,omitempty"`
	// Head tells the file's first line (a digest): a file cut and
	// written again under the same inode starts otherwise.
	Head string `json:"head,omitempty"`
	// Rotated and RotatedMod are the inode and modification time (Unix
	// nanoseconds) of the file rotated from it (path.1) at the last read:
	// another one there, or that one written since, means a rotation.
	Rotated    uint64 `json:"rotated,omitempty"`
	RotatedMod int64  `json:"rotated_mod,omitempty"`
	// Skipping: Offset is inside a line too long to be read, passed over
	// to its end.
	Skipping bool `json:"skipping,omitempty"`
}

// FileCursor returns how far the file at path was read (zero if never).
func (s *Store) FileCursor(path string) (FileCursor, error) {
	var c FileCursor
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFileCursors)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(path)); v != nil {
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("%w: file cursor %q: %w", ErrCorrupt, path, err)
			}
		}
		return nil
	})
	if err != nil {
		return FileCursor{}, fmt.Errorf("store: file cursor: %w", err)
	}
	return c, nil
}

// SetFileCursor stores how far the file at path was read.
func (s *Store) SetFileCursor(path string, c FileCursor) error {
	if path == "" || len(path) > bolt.MaxKeySize {
		return fmt.Errorf("%w: file cursor needs a path", ErrInvalidRecord)
	}
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("store: encode file cursor: %w", err)
	}
	return s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketFileCursors)
		if err != nil {
			return err
		}
		return b.Put([]byte(path), v)
	})
}

// KnowsCall reports whether the store has a record or a live state under
// call id id.
func (s *Store) KnowsCall(id string) (bool, error) {
	if s.livePending(id) {
		return true, nil
	}
	known := false
	err := s.db.View(func(tx *bolt.Tx) error {
		known = tx.Bucket(bucketCalls).Get([]byte(id)) != nil || tx.Bucket(bucketLive).Get([]byte(id)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: knows call: %w", err)
	}
	return known, nil
}
