// Package store keeps toritsugi's durable records in one bbolt file: call
// records, their time and client indexes, exact per-client monthly
// counters updated in the same transaction as the records they count, and
// the state of calls in progress until their records are stored (live.go).
//
// Values are JSON. Every byte slice read from bbolt is decoded or copied
// before its transaction ends, and no read transaction outlives a call.
package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Errors returned (wrapped) by the store; test them with errors.Is.
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("store: not found")
	// ErrSchemaTooNew: the file was written by a newer toritsugi.
	ErrSchemaTooNew = errors.New("store: schema version is newer than this binary")
	// ErrCorrupt: the file is not a valid store or failed its consistency check.
	ErrCorrupt = errors.New("store: corrupt database")
	// ErrLocked: another process (or Store) holds the file; Open timed out.
	ErrLocked = errors.New("store: database is locked by another process")
	// ErrInvalidRecord: a record was refused before it was written.
	ErrInvalidRecord = errors.New("store: invalid record")
	// ErrAlreadyDone: the callback request was marked done already.
	ErrAlreadyDone = errors.New("store: already done")
	// ErrTaken: another operator is calling the callback request's
	// caller back (ClaimCallback).
	ErrTaken = errors.New("store: taken by another operator")
	// ErrStaleVersion: a correction was made from a version that is not
	// the current one any more.
	ErrStaleVersion = errors.New("store: corrected meanwhile")
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// Options configure Open.
type Options struct {
	// Timeout bounds the wait for the file lock; zero means DefaultTimeout.
	Timeout time.Duration
	// Logger receives start-up and integrity messages; nil discards them.
	Logger *slog.Logger
	// CommitEachCall makes PutCall commit (and fsync) alone instead of
	// joining concurrent writers in one batched commit. It is the behaviour
	// before batching, kept for benchmarks that compare the two.
	CommitEachCall bool
}

// Store is the service's database. It is safe for concurrent use; bbolt
// serialises writers.
type Store struct {
	db         *bolt.DB
	path       string
	log        *slog.Logger
	commitEach bool
	live       *liveWriter
	health     writeHealth
	now        func() time.Time
	erasing    erasures
}

// batchDelay is how long PutCall waits for concurrent writers to share
// its commit (bbolt's default). A lone record is durable up to 10 ms later
// than it could be, which no caller notices, while under load a commit
// (and its fsync) carries several records: against 2 ms, the call-flow
// benchmark used less CPU per flow in 7 of 8 side-by-side runs.
const batchDelay = 10 * time.Millisecond

// Open opens or creates the store at path. It waits at most opts.Timeout for
// the file lock (ErrLocked), runs a full consistency check (ErrCorrupt),
// creates missing buckets and writes or validates the schema version
// (ErrSchemaTooNew).
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// An empty file is not a new store: bbolt would make it one, and a
	// restore that failed half way (a full disk) would start an empty
	// database that looks like any other.
	st, statErr := os.Stat(path)
	switch {
	case statErr == nil && st.Size() == 0:
		return nil, fmt.Errorf("store: open %s: %w: the file is empty (a copy or restore that failed?); move it away to start a new, empty store", path, ErrCorrupt)
	case statErr == nil && st.Mode().Perm()&0o077 != 0:
		log.Warn("the store file can be read by other users: it holds callers' names and numbers (chmod 600)", "path", path, "mode", st.Mode().Perm().String())
	}
	db, err := openBolt("open", path, &bolt.Options{Timeout: opts.Timeout})
	if err != nil {
		return nil, err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		log.Info("a new, empty store was created (if you meant to open existing data, check data_dir)", "path", path)
	}
	db.MaxBatchDelay = batchDelay
	s := &Store{db: db, path: path, log: log.With("path", path), commitEach: opts.CommitEachCall, live: newLiveWriter(), now: time.Now}
	if err := s.setup(); err != nil {
		if cerr := db.Close(); cerr != nil {
			s.log.Warn("close after failed open", "err", cerr)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	go s.writeLive()
	s.log.Info("store opened", "schema", SchemaVersion)
	return s, nil
}

// setup checks integrity, keeps a copy of a file of an earlier schema,
// then prepares buckets and the schema version (migrating).
func (s *Store) setup() error {
	if err := s.db.View(check); err != nil {
		s.log.Error("integrity check failed", "err", err)
		return err
	}
	var from int
	if err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		from, err = schemaIn(tx)
		return err
	}); err != nil {
		return err
	}
	if from != 0 && from < SchemaVersion {
		if err := s.backupBeforeMigration(from); err != nil {
			return err
		}
	}
	if err := s.update(prepare); err != nil {
		if from != 0 && from < SchemaVersion {
			return fmt.Errorf("store: migrating from schema %d failed, nothing changed (the migration grows the file by about a third: free disk space): %w", from, err)
		}
		return err
	}
	if from != 0 && from < SchemaVersion {
		s.log.Info("store migrated", "from_schema", from, "to_schema", SchemaVersion)
	}
	var gap bool
	if err := s.update(func(tx *bolt.Tx) (err error) { gap, err = noteUnnoticedPurge(tx); return err }); err != nil {
		return err
	}
	if gap {
		s.log.Warn("call records were purged without notices in the change feed (an older toritsugi ran on this file): " +
			"every change feed reader is answered 410 once, and reads the feed in full again")
	}
	return nil
}

// BackupBeforeMigration is the name of the copy of a store file of schema
// version from kept before it is migrated at at: an earlier toritsugi
// refuses the migrated file (ErrSchemaTooNew), and runs on this copy
// (losing what was stored since). Each migration keeps its own (a
// rollback, then an upgrade again, migrates another file).
func BackupBeforeMigration(path string, from int, at time.Time) string {
	return fmt.Sprintf("%s.schema%d.%s.bak", path, from, at.UTC().Format("20060102T150405Z"))
}

// backupBeforeMigration writes a compacted copy of the store, as a backup
// is made (CompactTo), to BackupBeforeMigration: what is stored, without
// the states of the calls in progress. The file is the way back to the
// earlier binary, and a page-for-page copy kept them: run on, it took
// each for a call that ended unseen while it was stopped and recorded
// it as such (a caller answered since, or still waiting, relayed as a
// missed call days late; an answered call billed with the days in
// between as its talk time).
func (s *Store) backupBeforeMigration(from int) error {
	dst := BackupBeforeMigration(s.path, from, s.now())
	tmp := dst + ".tmp"
	// Made empty first: CompactTo would copy into a crashed run's
	// leftover.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return fmt.Errorf("store: copy before the migration from schema %d: %w", from, err)
	}
	var live int
	_, live, err = s.CompactTo(tmp)
	if err == nil {
		err = syncFile(tmp) // CompactTo does not sync: this copy is kept
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err == nil {
		err = syncDir(filepath.Dir(dst)) // the copy's name too survives a crash
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store: copy before the migration from schema %d (nothing migrated; free disk space, or move the file away): %w", from, err)
	}
	s.log.Info("the store's file as it was before the migration is kept (an earlier toritsugi runs on it), without the calls in progress",
		"copy", dst, "from_schema", from, "live_calls_left_out", live)
	return nil
}

// check runs bbolt's consistency check inside tx and returns every problem
// it reports, joined and wrapped in ErrCorrupt, or nil.
func check(tx *bolt.Tx) error {
	var errs []error
	for err := range tx.Check() {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrCorrupt, errors.Join(errs...))
	}
	return nil
}

// Close writes the live-call states still pending, then closes the file.
// It waits for running transactions and is safe to call more than once.
func (s *Store) Close() error {
	lost := s.closeLive()
	if err := s.db.Close(); err != nil {
		return errors.Join(lost, fmt.Errorf("store: close: %w", err))
	}
	return lost
}

// Path returns the file the store was opened on, also after Close.
func (s *Store) Path() string { return s.path }

// Ping runs a read transaction and checks the schema is in place, and
// reports ErrWriteFailed (with the commit's error) while writes are
// failing: the last commit failed, or one did less than a minute ago. It
// backs the /healthz endpoint. Commits through Bolt (the relay outbox)
// are not counted.
func (s *Store) Ping() error {
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return fmt.Errorf("%w: meta bucket missing", ErrCorrupt)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if err := s.health.failing(s.now()); err != nil {
		return fmt.Errorf("store: ping: %w: %w", ErrWriteFailed, err)
	}
	return nil
}

// Backup writes a consistent copy of the whole database to w while the
// store stays in use (one read transaction for the length of the copy). The
// copy is itself a store file that Open accepts.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}

// compactTx bounds one write transaction of CompactTo's copy.
const compactTx = 16 << 20

// CompactTo writes a compacted copy of the database to the file at path
// (new, or empty), a store file Open accepts, while the store stays in
// use (one read transaction for the length of the copy), and returns its
// size and how many calls in progress it left out. Unlike Backup's copy
// of every page, it holds only what is stored: bbolt frees the pages of
// what was deleted (a message past its retention, a caller's data erased
// on request) without wiping them, and a page-for-page copy carried the
// deleted data in every later backup. The calls in progress are left out,
// never written (restored, their states would be recorded as missed
// calls and relayed; deleted from the copy, their pages kept them).
func (s *Store) CompactTo(path string) (size int64, liveLeftOut int, err error) {
	// No sync: a temporary copy, written whole before anyone reads it.
	dst, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: DefaultTimeout, NoSync: true, NoGrowSync: true})
	if err != nil {
		return 0, 0, fmt.Errorf("store: compacted copy %s: %w", path, err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if live := tx.Bucket(bucketLive); live != nil {
			liveLeftOut = live.Stats().KeyN
		}
		c := &copier{db: dst}
		err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return c.bucket([][]byte{name}, b, func(path [][]byte, k []byte) bool {
				return len(path) == 1 && (bytes.Equal(path[0], bucketLive) || bytes.Equal(path[0], bucketMeta) && bytes.Equal(k, keyLiveSeen))
			})
		})
		return c.finish(err)
	})
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: compacted copy %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("store: compacted copy %s: %w", path, err)
	}
	return st.Size(), liveLeftOut, nil
}

// copier writes buckets into db in write transactions of about compactTx
// bytes each, as bbolt's Compact does, but can leave keys out.
type copier struct {
	db   *bolt.DB
	tx   *bolt.Tx
	size int64
}

// target is the bucket at path in the current transaction, made if need
// be (begun if none is).
func (c *copier) target(path [][]byte) (*bolt.Bucket, error) {
	if c.tx == nil {
		tx, err := c.db.Begin(true)
		if err != nil {
			return nil, err
		}
		c.tx, c.size = tx, 0
	}
	b, err := c.tx.CreateBucketIfNotExists(path[0])
	for _, name := range path[1:] {
		if err != nil {
			break
		}
		b, err = b.CreateBucketIfNotExists(name)
	}
	if err != nil {
		return nil, err
	}
	b.FillPercent = 1 // keys come in order: full pages
	return b, nil
}

// bucket copies src, at path, and the buckets in it, but the keys skip
// names (nested buckets are kept, emptied of those keys).
func (c *copier) bucket(path [][]byte, src *bolt.Bucket, skip func(path [][]byte, k []byte) bool) error {
	dst, err := c.target(path)
	if err != nil {
		return err
	}
	if err := dst.SetSequence(src.Sequence()); err != nil {
		return err
	}
	cur := src.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if v == nil {
			if err := c.bucket(append(slices.Clip(path), k), src.Bucket(k), skip); err != nil {
				return err
			}
			continue
		}
		if skip(path, k) {
			continue
		}
		if c.size > compactTx {
			if err := c.tx.Commit(); err != nil {
				c.tx = nil
				return err
			}
			c.tx = nil
		}
		if dst, err = c.target(path); err != nil {
			return err
		}
		if err := dst.Put(k, v); err != nil {
			return err
		}
		c.size += int64(len(k) + len(v))
	}
	return nil
}

// finish commits the last transaction, or rolls it back after err.
func (c *copier) finish(err error) error {
	if c.tx == nil {
		return err
	}
	tx := c.tx
	c.tx = nil
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// openBolt opens the bbolt file at path, for op (what the error says was
// being done), after the truncation check. Its errors say what went
// wrong: ErrLocked when another process holds the file past
// opts.Timeout, ErrCorrupt when bbolt cannot read it.
func openBolt(op, path string, opts *bolt.Options) (*bolt.DB, error) {
	if err := checkShort(path); err != nil {
		return nil, fmt.Errorf("store: %s %s: %w", op, path, err)
	}
	db, err := bolt.Open(path, 0o600, opts)
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("store: %s %s after %v: %w: %w", op, path, opts.Timeout, ErrLocked, err)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum),
		errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, fmt.Errorf("store: %s %s: %w: %w", op, path, ErrCorrupt, err)
	case err != nil:
		return nil, fmt.Errorf("store: %s %s: %w", op, path, err)
	}
	return db, nil
}

// Size is how many bytes a backup of the store would take now.
func (s *Store) Size() (int64, error) {
	var n int64
	if err := s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	return n, nil
}

// syncFile makes the file at path durable.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the entries of directory dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
