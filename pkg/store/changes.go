package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// The change feed of call records (schema 2): every write of a record (a
// call stored, a record replaced, a call classified, a recording's
// deletion noted) gives it the next number of the feed, and takes its
// earlier number away, so that a reader who remembers the last number it
// read finds every record stored or changed since, each once, in the
// order written (ListCalls orders by start time: a call in progress when
// a range was read is stored later under an earlier start, and an
// incremental reader by start time misses it).
var (
	bucketCallsByChange = []byte("calls_by_change") // 8-byte big-endian number → call id
	bucketCallChange    = []byte("call_change")     // call id → its number
)

func changeKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// sequenceChange gives call id the feed's next number (index calls it
// for every record written).
func sequenceChange(tx *bolt.Tx, id string) error {
	byChange, ofCall := tx.Bucket(bucketCallsByChange), tx.Bucket(bucketCallChange)
	if old := ofCall.Get([]byte(id)); old != nil {
		if err := byChange.Delete(old); err != nil {
			return err
		}
	}
	// Not merely the next number: at least the time in microseconds. A
	// file restored from a backup, or run by an earlier toritsugi and
	// migrated again, starts from lower numbers than readers were given;
	// numbers from the clock are above every one handed out before (each
	// was at most the clock then), so a reader misses nothing, and reads
	// again, to replace by id, what it had (nextChangeNumber).
	n, err := nextChangeNumber(tx)
	if err != nil {
		return err
	}
	k := changeKey(n)
	if err := byChange.Put(k, []byte(id)); err != nil {
		return err
	}
	return ofCall.Put([]byte(id), k)
}

// dropChange takes call id's number in the feed away, if it has one (a
// record deleted; sequenceChange replaces it in place).
func dropChange(tx *bolt.Tx, id string) error {
	ofCall := tx.Bucket(bucketCallChange)
	old := ofCall.Get([]byte(id))
	if old == nil {
		return nil
	}
	if err := tx.Bucket(bucketCallsByChange).Delete(old); err != nil {
		return err
	}
	return ofCall.Delete([]byte(id))
}

// sequenceAllCalls numbers every stored record in start order (the
// migration from schema 1, which had no feed).
func sequenceAllCalls(tx *bolt.Tx) error {
	c := tx.Bucket(bucketCallsByTime).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) <= tsLen {
			return fmt.Errorf("%w: short index key %x", ErrCorrupt, k)
		}
		if err := sequenceChange(tx, string(k[tsLen:])); err != nil {
			return err
		}
	}
	return nil
}

// maxChangeScan bounds how many feed entries (records and purge notices)
// one CallChanges reads when a client filter skips most of them: a page
// may then hold fewer entries than its limit, and says there is more.
var maxChangeScan = 10000

// PurgedCall is a purge notice in the change feed: call record ID was
// deleted by the retention (call_record_retention_days); Seq is its number
// in the feed.
type PurgedCall struct {
	ID  string `json:"id"`
	Seq uint64 `json:"seq,string"`
}

// ChangesPage is a page of the change feed.
type ChangesPage struct {
	// Calls are the records stored or changed, Purged the records
	// purged, each id in one of them at most: apply the records, then
	// delete the purged.
	Calls  []CallRecord
	Purged []PurgedCall
	// Next is the cursor to ask after next time; More: more follow now.
	Next ChangeCursor
	More bool
}

// ErrChangesGone: the change feed no longer holds every purge notice
// after the reader's number (expired, PurgeNoticeKeep); it must read the
// feed in full again (from 0) and replace its copy.
var ErrChangesGone = errors.New("store: the change feed no longer holds every purge notice after that number")

// ChangeCursor is a reader's place in the change feed: the number of the
// last entry it read (0: none, a full read). A number below the horizon
// (feedHorizon: notices after it may have expired) is refused
// (ErrChangesGone), but for a full read going on: every page of one but
// its last gives a cursor with MaxHorizon, the highest horizon under which
// the read goes on.
//
// A full read's MaxHorizon is S-1, S the clock in microseconds when its
// first page was read (fullReadBound). A notice that expires during the
// read and was written before it began cannot matter: its record was gone
// before the read and never given, and the read replaces the reader's
// whole copy at its end. One written after it began has a number of at
// least S (nextChangeNumber: at least the clock), and may name a record
// the read gave: if it expired (the read lasted PurgeNoticeKeep), the
// horizon is above MaxHorizon and the read is refused. So is one across
// a step of the clock (the safe side). S is the request's own clock: it
// tells a client nothing of others' writes. The one gap: a client's
// notices are numbered one after another from the clock at the first
// (noticeRun), so a purge of a client's records begun before S and going
// on after it gives numbers below S, which matters to a read lasting
// PurgeNoticeKeep less than that purge.
//
// Cursors handed out before (until this version) carried as MaxHorizon the
// horizon the read began under, accepted while the horizon was still
// that; a horizon never goes down, so the same rule (at most MaxHorizon)
// reads them as before.
type ChangeCursor struct {
	After      uint64
	MaxHorizon uint64 // 0: not a full read's
}

// String is the cursor as the API gives it: the number, or, in a full
// read, the number and the highest horizon it goes on under ("N-M").
// ParseChangeCursor reads it. Readers pass it back as given.
func (c ChangeCursor) String() string {
	s := strconv.FormatUint(c.After, 10)
	if c.MaxHorizon != 0 {
		s += "-" + strconv.FormatUint(c.MaxHorizon, 10)
	}
	return s
}

// ParseChangeCursor reads a cursor written by String (an error wrapping
// ErrInvalidRecord otherwise).
func ParseChangeCursor(s string) (ChangeCursor, error) {
	bad := fmt.Errorf("%w: change feed cursor %q", ErrInvalidRecord, s)
	num, hor, full := strings.Cut(s, "-")
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return ChangeCursor{}, bad
	}
	c := ChangeCursor{After: n}
	if full {
		if c.MaxHorizon, err = strconv.ParseUint(hor, 10, 64); err != nil || c.MaxHorizon == 0 {
			return ChangeCursor{}, bad
		}
	}
	return c, nil
}

// CallChanges lists the entries of the change feed after cursor cur (0:
// from the first) of clientID ("": every client's), in the order they
// were written, at most limit (1 or more) of them: the call records stored
// or changed, and the notices of those purged (PurgedCall). It returns the
// cursor to ask after next time (after itself when nothing was read; for
// one client, its last entry's, so that the cursor says nothing of other
// clients' writes unless a page scanned maxChangeScan of theirs) and
// whether more follow now. A record changed again moves to the end of the
// feed: read again, it replaces the copy read before (by id). A notice of
// a record stored again since (a fallback line read again) is left out:
// the record, later in the feed, replaces it. A cursor whose notices may
// have expired is refused with ErrChangesGone (ChangeCursor); a full
// read's pages give a cursor that goes on whatever notices written before
// it expire (ChangeCursor), and a read that reaches the end of the feed
// gives a cursor at the horizon at least, so that a full read's last is
// not refused.
func (s *Store) CallChanges(cur ChangeCursor, clientID string, limit int) (ChangesPage, error) {
	page := ChangesPage{Calls: []CallRecord{}, Purged: []PurgedCall{}, Next: cur}
	if limit < 1 {
		return page, fmt.Errorf("%w: call changes: limit %d", ErrInvalidRecord, limit)
	}
	if cur.After == math.MaxUint64 {
		return page, nil // nothing comes after it
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		h := feedHorizon(tx, clientID)
		full := cur.MaxHorizon // 0: not a full read
		switch {
		case full != 0:
			if h > full {
				return ErrChangesGone
			}
		case cur.After == 0:
			full = fullReadBound()
		case cur.After < h:
			return ErrChangesGone
		}
		byChange, purged, calls := tx.Bucket(bucketCallsByChange), tx.Bucket(bucketCallsPurged), tx.Bucket(bucketCalls)
		rc, pc := byChange.Cursor(), purged.Cursor()
		start := changeKey(cur.After + 1)
		rk, rv := rc.Seek(start)
		pk, pv := pc.Seek(start)
		// Both merged in number order; scanned counts the entries of
		// both, given or skipped.
		scanned, last, next := 0, cur.After, cur.After // last: the number of the last entry read
		for rk != nil || pk != nil {
			if scanned == maxChangeScan {
				// Only here does the cursor pass other clients'
				// entries: it must move on.
				page.More, next = true, last
				break
			}
			scanned++
			if pk == nil || (rk != nil && bytes.Compare(rk, pk) < 0) {
				k, id := rk, rv
				rk, rv = rc.Next()
				if len(k) != 8 {
					return fmt.Errorf("%w: change key %x", ErrCorrupt, k)
				}
				b := calls.Get(id)
				if b == nil {
					return fmt.Errorf("%w: the change feed names missing call %q", ErrCorrupt, id)
				}
				last = binary.BigEndian.Uint64(k)
				r, err := decodeCall(b)
				if err != nil {
					return err
				}
				if clientID != "" && r.ClientID != clientID {
					continue
				}
				if len(page.Calls)+len(page.Purged) == limit {
					// More of the client's own entries, not just
					// more entries: another client's write must
					// not say so.
					page.More = true
					break
				}
				page.Calls = append(page.Calls, r)
				// A client's cursor is its own last entry's: one
				// that moved with every client's writes would tell
				// when theirs are written (a client's own API
				// token).
				next = last
				continue
			}
			k, v := pk, pv
			pk, pv = pc.Next()
			n, p, err := decodePurgeNotice(k, v)
			if err != nil {
				return err
			}
			last = n
			if clientID != "" && p.ClientID != clientID {
				continue
			}
			if calls.Get([]byte(p.ID)) != nil {
				continue // stored again since
			}
			if len(page.Calls)+len(page.Purged) == limit {
				page.More = true
				break
			}
			page.Purged = append(page.Purged, PurgedCall{ID: p.ID, Seq: n})
			next = last
		}
		switch {
		case !page.More:
			// The end: nothing below the horizon is left to read
			// (the horizon a client's is its own notice's number).
			page.Next = ChangeCursor{After: max(next, h)}
		case full != 0:
			// A full read going on, below the horizon or not: a
			// notice expiring later need not refuse it.
			page.Next = ChangeCursor{After: next, MaxHorizon: full}
		default:
			page.Next = ChangeCursor{After: next}
		}
		return nil
	})
	if err != nil {
		return ChangesPage{Calls: []CallRecord{}, Purged: []PurgedCall{}, Next: cur}, fmt.Errorf("store: call changes: %w", err)
	}
	return page, nil
}
