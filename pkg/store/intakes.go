package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Intake buckets. They are created by the first write (older files and
// stores opened read-only simply have none yet, which reads as empty):
//
//	intakes            id                              → current Intake JSON
//	intake_versions    id 0x00 version(4, big endian)  → superseded Intake JSON
//	intakes_by_caller  number 0x00 ts(8) id            → empty
//
// ts is the CreatedAt of the first version, so a caller's intakes list in
// the order they were taken, whatever corrections came later.
var (
	bucketIntakes        = []byte("intakes")
	bucketIntakeVersions = []byte("intake_versions")
	bucketIntakesCaller  = []byte("intakes_by_caller")
)

// Intake is one message taken by an operator (用件メモ), as relayed to the
// client. Corrections replace it and keep the earlier versions.
type Intake struct {
	// ID is unique; the console generates it.
	ID string `json:"id"`
	// Version counts from 1; PutIntake assigns it.
	Version    int    `json:"version"`
	CallID     string `json:"call_id,omitempty"`
	ClientID   string `json:"client_id"`
	OperatorID string `json:"operator_id"`
	// EditedBy is who saved this version: the operator, or a supervisor
	// who corrected it.
	EditedBy string `json:"edited_by,omitempty"`
	// CallerNumber is the caller's number as received (E.164 or national).
	CallerNumber string `json:"caller_number,omitempty"`
	// Values are the normalised form values, by field id.
	Values map[string]string `json:"values"`
	// ReadBack is the line the operator read back to the caller.
	ReadBack string `json:"read_back,omitempty"`
	// CallerClass is the class of the call's caller (the screen pop's,
	// console.ScreenPop.CallerClass), which the form's fields with
	// show_if caller were shown by; its corrections and the relayed
	// message keep it. "" in a message saved before it was kept.
	CallerClass string `json:"caller_class,omitempty"`
	// KnownName is the name the client's caller rule gives the caller's
	// number (a known contact or a VIP: the screen pop's
	// console.ScreenPop.KnownName), kept with the message: a script may
	// not ask such a caller their name (show_if caller), and the client
	// reads it in the relayed message. "" for another caller.
	KnownName string `json:"known_name,omitempty"`
	// CreatedAt is when the first version was saved; PutIntake keeps it.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when this version was saved.
	UpdatedAt time.Time `json:"updated_at"`
	// RequestID names the save request that made this version (the
	// console's, kept with its draft): the same request sent again, after
	// a reply lost on the way, is the same version, not another.
	RequestID string `json:"request_id,omitempty"`
}

// validate refuses intakes that cannot be stored or indexed.
func (in Intake) validate() error {
	switch {
	case in.ID == "" || strings.IndexByte(in.ID, 0) >= 0:
		return fmt.Errorf("%w: intake id %q", ErrInvalidRecord, in.ID)
	case in.ClientID == "":
		return fmt.Errorf("%w: intake %q has no client", ErrInvalidRecord, in.ID)
	case strings.IndexByte(in.CallerNumber, 0) >= 0:
		return fmt.Errorf("%w: intake %q caller number contains NUL", ErrInvalidRecord, in.ID)
	case in.UpdatedAt.IsZero() || !inKeyRange(in.UpdatedAt):
		return fmt.Errorf("%w: intake %q time %v", ErrInvalidRecord, in.ID, in.UpdatedAt)
	}
	return nil
}

// PutIntake stores in durably before it returns. A new id becomes version
// 1 with CreatedAt = UpdatedAt (when CreatedAt is zero). An existing id is
// a correction: the stored version moves to the version history, in gets
// the next version number and keeps the original CreatedAt, CallID,
// ClientID and CallerNumber. The stored result is returned.
func (s *Store) PutIntake(in Intake) (Intake, error) {
	out, _, err := s.SaveIntake(in, false)
	return out, err
}

// SaveIntake is PutIntake, except that it stores nothing and returns the
// stored intake, with saved false, when in repeats a save already made:
// its RequestID is that of the current version, or (create) its id exists
// already. Checked and written in one transaction, so that two copies of
// one request racing each other store one version.
func (s *Store) SaveIntake(in Intake, create bool) (stored Intake, saved bool, err error) {
	return s.saveIntake(in, create, 0)
}

// SaveCorrection is SaveIntake for a correction made from version base of
// the intake: if the intake has been corrected since (its current version
// is not base), nothing is stored and the error wraps ErrStaleVersion. A
// repeat of the correction itself (same RequestID) is recognised first.
func (s *Store) SaveCorrection(in Intake, base int) (stored Intake, saved bool, err error) {
	return s.saveIntake(in, false, base)
}

func (s *Store) saveIntake(in Intake, create bool, base int) (stored Intake, saved bool, err error) {
	if err := in.validate(); err != nil {
		return Intake{}, false, err
	}
	saved = true
	err = s.update(func(tx *bolt.Tx) error {
		if s.beingErased(in.CallerNumber) {
			return ErrErasing
		}
		cur, vers, byCaller, err := intakeBuckets(tx)
		if err != nil {
			return err
		}
		in.Version = 1
		if in.CreatedAt.IsZero() || !inKeyRange(in.CreatedAt) {
			in.CreatedAt = in.UpdatedAt
		}
		if old := cur.Get([]byte(in.ID)); old != nil {
			prev, err := decodeIntake(old)
			if err != nil {
				return err
			}
			if create || (in.RequestID != "" && prev.RequestID == in.RequestID) {
				in, saved = prev, false
				return nil
			}
			if s.beingErased(prev.CallerNumber) {
				return ErrErasing
			}
			if base > 0 && prev.Version != base {
				in = prev
				return fmt.Errorf("corrected from version %d, now at %d: %w", base, prev.Version, ErrStaleVersion)
			}
			if err := vers.Put(versionKey(prev.ID, prev.Version), old); err != nil {
				return err
			}
			in.Version = prev.Version + 1
			in.CreatedAt, in.CallID = prev.CreatedAt, prev.CallID
			in.ClientID, in.CallerNumber = prev.ClientID, prev.CallerNumber
		} else if base > 0 {
			// A correction of a message deleted meanwhile (its retention
			// passed, or the caller had their data erased) must not bring
			// it back as a new message, relayed again.
			return fmt.Errorf("correcting intake %q: %w", in.ID, ErrNotFound)
		} else if in.CallerNumber != "" {
			if err := byCaller.Put(callerKey(in.CallerNumber, in.CreatedAt, in.ID), nil); err != nil {
				return err
			}
		}
		val, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		return cur.Put([]byte(in.ID), val)
	})
	if err != nil {
		return Intake{}, false, fmt.Errorf("store: put intake %q: %w", in.ID, err)
	}
	return in, saved, nil
}

// Intake returns the current version of an intake, or an error wrapping
// ErrNotFound.
func (s *Store) Intake(id string) (Intake, error) {
	var in Intake
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		in, err = s.IntakeIn(tx, id)
		return err
	})
	return in, err
}

// IntakeIn reads the current version of intake id in tx, a transaction
// of the store's file (the relay outbox's, as the retention sweeps the
// copies whose message is gone): an error wrapping ErrNotFound when it
// does not exist. Unlike IntakeRelayable it says nothing of an erasure:
// a caller being erased still has their messages.
func (s *Store) IntakeIn(tx *bolt.Tx, id string) (Intake, error) {
	b := tx.Bucket(bucketIntakes)
	if b == nil {
		return Intake{}, fmt.Errorf("store: intake %q: %w", id, ErrNotFound)
	}
	v := b.Get([]byte(id))
	if v == nil {
		return Intake{}, fmt.Errorf("store: intake %q: %w", id, ErrNotFound)
	}
	in, err := decodeIntake(v)
	if err != nil {
		return Intake{}, fmt.Errorf("store: intake %q: %w", id, err)
	}
	return in, nil
}

// IntakeVersions returns every version of an intake, oldest first, the
// current one last; an unknown id gives an error wrapping ErrNotFound.
func (s *Store) IntakeVersions(id string) ([]Intake, error) {
	cur, err := s.Intake(id)
	if err != nil {
		return nil, err
	}
	out := []Intake{}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIntakeVersions)
		if b == nil {
			return nil
		}
		prefix := append([]byte(id), 0)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			in, err := decodeIntake(v)
			if err != nil {
				return err
			}
			out = append(out, in)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: intake versions %q: %w", id, err)
	}
	// A correction racing this read may have stored a newer current version
	// than cur; the list stays ordered either way.
	if len(out) == 0 || out[len(out)-1].Version < cur.Version {
		out = append(out, cur)
	}
	return out, nil
}

// callerScanLimit bounds how many of a number's intakes
// IntakesForCallerWhere reads (a test lowers it).
var callerScanLimit = 500

// IntakesForCaller returns the current versions of the intakes taken from
// number, newest first, at most limit of them (limit <= 0: all).
func (s *Store) IntakesForCaller(number string, limit int) ([]Intake, error) {
	return s.IntakesForCallerWhere(number, limit, nil)
}

// IntakesForCallerWhere is IntakesForCaller of the intakes keep accepts
// (nil: all): the limit counts those only, so that an operator serving one
// client sees that client's history with a number that calls many. With
// keep, at most 500 of the number's newest intakes are read:
// a screen pop must not decode a courier's thousands.
func (s *Store) IntakesForCallerWhere(number string, limit int, keep func(Intake) bool) ([]Intake, error) {
	out := []Intake{}
	if number == "" || strings.IndexByte(number, 0) >= 0 {
		return out, nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		idx, cur := tx.Bucket(bucketIntakesCaller), tx.Bucket(bucketIntakes)
		if idx == nil || cur == nil {
			return nil
		}
		prefix := append([]byte(number), 0)
		c := idx.Cursor()
		// Seek past the last key with this prefix, then walk backwards.
		k, _ := c.Seek(append([]byte(number), 1))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for scanned := 0; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if limit > 0 && len(out) >= limit || keep != nil && scanned >= callerScanLimit {
				break
			}
			scanned++
			id := k[len(prefix)+tsLen:]
			v := cur.Get(id)
			if v == nil {
				return fmt.Errorf("%w: caller index names missing intake %q", ErrCorrupt, id)
			}
			in, err := decodeIntake(v)
			if err != nil {
				return err
			}
			if keep == nil || keep(in) {
				out = append(out, in)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: intakes for caller: %w", err)
	}
	return out, nil
}

// IntakesForNumbers is IntakesForCallerWhere of the intakes taken from any
// of numbers, the spellings one caller's number arrives in (a trunk's
// +81312345678, a home gateway's 0312345678: each intake is indexed as it
// came), newest first, each once.
func (s *Store) IntakesForNumbers(numbers []string, limit int, keep func(Intake) bool) ([]Intake, error) {
	out := []Intake{}
	seen := map[string]bool{}
	for i, n := range numbers {
		if slices.Contains(numbers[:i], n) {
			continue
		}
		ins, err := s.IntakesForCallerWhere(n, limit, keep)
		if err != nil {
			return nil, err
		}
		for _, in := range ins {
			if !seen[in.ID] {
				seen[in.ID] = true
				out = append(out, in)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Intake) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// intakeBuckets returns (creating them if needed) the three intake buckets.
func intakeBuckets(tx *bolt.Tx) (cur, vers, byCaller *bolt.Bucket, err error) {
	if cur, err = tx.CreateBucketIfNotExists(bucketIntakes); err != nil {
		return nil, nil, nil, err
	}
	if vers, err = tx.CreateBucketIfNotExists(bucketIntakeVersions); err != nil {
		return nil, nil, nil, err
	}
	if byCaller, err = tx.CreateBucketIfNotExists(bucketIntakesCaller); err != nil {
		return nil, nil, nil, err
	}
	return cur, vers, byCaller, nil
}

// versionKey is the intake_versions key of one superseded version.
func versionKey(id string, version int) []byte {
	k := append([]byte(id), 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(k[len(id)+1:], uint32(version))
	return k
}

// callerKey is the intakes_by_caller key of an intake.
func callerKey(number string, created time.Time, id string) []byte {
	k := append([]byte(number), 0)
	return append(append(k, tsKey(created)...), id...)
}

// decodeIntake decodes a stored intake; the result owns its memory.
func decodeIntake(b []byte) (Intake, error) {
	var in Intake
	if err := json.Unmarshal(b, &in); err != nil {
		return Intake{}, fmt.Errorf("%w: decode intake: %w", ErrCorrupt, err)
	}
	return in, nil
}
