package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketRetention holds the recording retention's progress: "c:" + a
// sweep's key (a client id, or "" for the calls of clients no longer
// configured) → the cutoff of its last complete sweep (RFC 3339, to the
// nanosecond). Without it the first sweep after every start read every
// call record older than the retention (a year of calls). Created by the
// first write.
var bucketRetention = []byte("retention_swept")

// RetentionSwept returns the cutoffs SetRetentionSwept stored last (empty
// when none).
func (s *Store) RetentionSwept() (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRetention)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			key, ok := strings.CutPrefix(string(k), "c:")
			if !ok {
				return fmt.Errorf("%w: retention key %q", ErrCorrupt, k)
			}
			at, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return fmt.Errorf("%w: retention cutoff of %q: %w", ErrCorrupt, key, err)
			}
			out[key] = at
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: retention cutoffs: %w", err)
	}
	return out, nil
}

// SetRetentionSwept replaces the stored cutoffs with swept.
func (s *Store) SetRetentionSwept(swept map[string]time.Time) error {
	err := s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRetention) != nil {
			if err := tx.DeleteBucket(bucketRetention); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucket(bucketRetention)
		if err != nil {
			return err
		}
		for key, at := range swept {
			if err := b.Put([]byte("c:"+key), []byte(at.UTC().Format(time.RFC3339Nano))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set retention cutoffs: %w", err)
	}
	return nil
}

// bucketRetentionDays holds each client's recording_retention_days as the
// recording retention last saw it: client id → days (decimal), followed
// by " removed" for a client no longer configured, and since when (RFC
// 3339, to the nanosecond; none in what an earlier version wrote). A
// client removed keeps its own (when shorter than the removed clients'
// default) for the recordings it leaves. Created by the first write.
var bucketRetentionDays = []byte("retention_days")

// ClientRetention is a client's recording retention as last seen.
type ClientRetention struct {
	Days    int
	Removed bool // no longer configured
	// RemovedAt is when the retention found it removed (zero: not
	// removed, or not known).
	RemovedAt time.Time
}

// RetentionDays returns what SetRetentionDays stored last (empty when
// none).
func (s *Store) RetentionDays() (map[string]ClientRetention, error) {
	out := map[string]ClientRetention{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRetentionDays)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			days, since, removed := strings.Cut(string(v), " removed")
			n, err := strconv.Atoi(days)
			if err != nil || n < 0 {
				return fmt.Errorf("%w: retention days of %q: %q", ErrCorrupt, k, v)
			}
			c := ClientRetention{Days: n, Removed: removed}
			if since != "" {
				at, ok := strings.CutPrefix(since, " ")
				if c.RemovedAt, err = time.Parse(time.RFC3339Nano, at); !ok || err != nil {
					return fmt.Errorf("%w: retention days of %q: %q", ErrCorrupt, k, v)
				}
			}
			out[string(k)] = c
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: retention days: %w", err)
	}
	return out, nil
}

// SetRetentionDays replaces the clients' retention kept.
func (s *Store) SetRetentionDays(clients map[string]ClientRetention) error {
	err := s.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRetentionDays) != nil {
			if err := tx.DeleteBucket(bucketRetentionDays); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucket(bucketRetentionDays)
		if err != nil {
			return err
		}
		for id, c := range clients {
			v := strconv.Itoa(c.Days)
			if c.Removed {
				v += " removed"
				if !c.RemovedAt.IsZero() {
					v += " " + c.RemovedAt.UTC().Format(time.RFC3339Nano)
				}
			}
			if err := b.Put([]byte(id), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set retention days: %w", err)
	}
	return nil
}
