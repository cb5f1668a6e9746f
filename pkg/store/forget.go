package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/toritsugi/toritsugi/pkg/phone"
)

// CallerData is what the store holds of one caller's number.
type CallerData struct {
	// Intakes are the messages taken from it, each with its last version
	// (the relay's copies are of every version).
	Intakes map[string]int `json:"intakes"`
	// Calls are the records of their calls, Recordings those calls'
	// recordings (Asterisk's).
	Calls      []string `json:"calls"`
	Recordings []string `json:"recordings"`
	Callbacks  []string `json:"callbacks"`
	// Live are their calls in progress (not recorded yet: erased, their
	// records would be written with the number when they end).
	Live []string `json:"live"`
	// RecordingsKept, of an erasure, are the recordings still named by
	// the erased records (not deleted in Asterisk).
	RecordingsKept []string `json:"recordings_kept"`
}

// erasedKind is the CallerKind of a call record whose caller had their
// data erased: no notice of it is relayed again.
const erasedKind = "erased"

// CallerErased reports whether r's caller had their data erased
// (ForgetCaller).
func CallerErased(r CallRecord) bool { return r.CallerKind == erasedKind }

// callersCall reports whether call r is the caller's of number e164: from
// that number, or one whose callback they asked for on it (a withheld
// caller, or one on an office line, who keyed their own number).
func callersCall(r CallRecord, e164 string) bool {
	return sameNumber(r.CallerID, e164) || r.CallbackNumber != "" && sameNumber(r.CallbackNumber, e164)
}

// sameNumber reports whether raw, a number as stored (as the trunk sent
// it: 0…, +81…, 81…, 0081…), is the number e164.
func sameNumber(raw, e164 string) bool {
	c := phone.ParseCallerID(raw)
	return c.Kind == phone.Number && c.E164 == e164
}

// CallerData reads, without changing anything, what the store holds of
// the number e164 (E.164), stored in whatever spelling: for erasing the
// copies elsewhere (the relay's, the recordings) before ForgetCaller
// erases these, so that an erasure cut short is finished by asking again.
func (s *Store) CallerData(e164 string) (CallerData, error) {
	out := CallerData{Intakes: map[string]int{}}
	if e164 == "" {
		return out, nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		idx, cur := tx.Bucket(bucketIntakesCaller), tx.Bucket(bucketIntakes)
		if idx != nil && cur != nil {
			same := map[string]bool{} // a number's spelling → is it e164
			err := idx.ForEach(func(k, _ []byte) error {
				i := bytes.IndexByte(k, 0)
				if i < 0 || len(k) < i+1+tsLen {
					return fmt.Errorf("%w: caller index key %q", ErrCorrupt, k)
				}
				number := string(k[:i])
				is, seen := same[number]
				if !seen {
					is = sameNumber(number, e164)
					same[number] = is
				}
				if !is {
					return nil
				}
				id := string(k[i+1+tsLen:])
				v := cur.Get([]byte(id))
				if v == nil {
					return fmt.Errorf("%w: caller index names missing intake %q", ErrCorrupt, id)
				}
				in, err := decodeIntake(v)
				if err != nil {
					return err
				}
				out.Intakes[id] = in.Version
				return nil
			})
			if err != nil {
				return err
			}
		}
		if b := tx.Bucket(bucketLive); b != nil {
			err := b.ForEach(func(k, v []byte) error {
				if q, err := url.ParseQuery(string(v)); err == nil && (sameNumber(q.Get("n"), e164) || q.Get("cn") != "" && sameNumber(q.Get("cn"), e164)) {
					out.Live = append(out.Live, string(k))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		for _, id := range s.livePendingFor(func(n string) bool { return sameNumber(n, e164) }) {
			if !slices.Contains(out.Live, id) {
				out.Live = append(out.Live, id)
			}
		}
		if b := tx.Bucket(bucketCallbacks); b != nil {
			err := b.ForEach(func(k, v []byte) error {
				var c Callback
				if err := json.Unmarshal(v, &c); err != nil {
					return fmt.Errorf("%w: callback: %w", ErrCorrupt, err)
				}
				if sameNumber(c.Number, e164) {
					out.Callbacks = append(out.Callbacks, string(k))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("store: caller data: %w", err)
	}
	err = s.EachCallPage(CallFilter{}, 500, func(page []CallRecord) error {
		for _, r := range page {
			if callersCall(r, e164) {
				out.Calls = append(out.Calls, r.ID)
				if r.Recording != "" {
					out.Recordings = append(out.Recordings, r.Recording)
				}
			}
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("store: caller data: call records: %w", err)
	}
	return out, nil
}

// ForgetCaller erases from the store a caller whose number is e164, on
// their request (個人情報の消去請求), stored in whatever spelling: every
// message taken from it, with all its versions, every callback request to
// it, pending or done, and in the records of their calls the number, the
// recording's name if it is among deleted (the recordings deleted in
// Asterisk; others stay named, for the retention or a request again:
// RecordingsKept), the reason and timeline
// lines naming it or them (a known contact's name, a callback to the
// number). The records stay, marked erased (CallerErased), for the
// month's counts and billing, which do not change; each is rewritten in
// one transaction (a classification made meanwhile is kept) and comes
// again in the change feed, so that copies elsewhere are blanked too. It
// returns what it erased. Erase the relay's copies and the recordings
// first (CallerData): asked again after an erasure cut short, it finishes
// what is left.
func (s *Store) ForgetCaller(e164 string, deleted []string) (CallerData, error) {
	found, err := s.CallerData(e164)
	if err != nil {
		return found, err
	}
	out := CallerData{Intakes: map[string]int{}}
	ids := make([]string, 0, len(found.Intakes))
	for id := range found.Intakes {
		ids = append(ids, id)
	}
	if _, err := s.purgeIntakes(ids, func(in Intake) bool {
		out.Intakes[in.ID] = in.Version
		return true
	}); err != nil {
		return out, fmt.Errorf("store: forget caller: messages: %w", err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		b, idx := tx.Bucket(bucketCallbacks), tx.Bucket(bucketCallbacksPending)
		for _, id := range found.Callbacks {
			if b == nil || b.Get([]byte(id)) == nil {
				continue
			}
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
			if idx != nil {
				if err := idx.Delete([]byte(id)); err != nil {
					return err
				}
			}
			out.Callbacks = append(out.Callbacks, id)
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("store: forget caller: callback requests: %w", err)
	}
	spellings := phone.ParseCallerID(e164).Spellings()
	for _, id := range found.Calls {
		var rec, kept string
		err := s.rewriteCallThen(id, func(r *CallRecord) bool {
			if !callersCall(*r, e164) {
				return false // erased already, or not theirs
			}
			switch {
			case r.Recording == "":
			case slices.Contains(deleted, r.Recording):
				rec, r.Recording = r.Recording, ""
			default:
				kept = r.Recording
			}
			r.CallerID, r.CallerKind, r.CallbackNumber = "", erasedKind, ""
			r.Reason = scrubNumber(r.Reason, spellings)
			r.Events = slices.DeleteFunc(r.Events, func(e CallEvent) bool { return namesCaller(e.What, spellings) })
			return true
		}, func(tx *bolt.Tx, changed bool) error {
			if !changed || kept == "" {
				return nil
			}
			// Its record no longer says whose it was: kept where the
			// erasure's next request, and the retention's sweeps, find
			// it to delete it (ErasedRecordingsLeft).
			b, err := tx.CreateBucketIfNotExists(bucketErasedRecordingsLeft)
			if err != nil {
				return err
			}
			return b.Put([]byte(kept), []byte(id))
		})
		if err != nil {
			return out, fmt.Errorf("store: forget caller: call %s: %w", id, err)
		}
		out.Calls = append(out.Calls, id)
		if rec != "" {
			out.Recordings = append(out.Recordings, rec)
		}
		if kept != "" {
			out.RecordingsKept = append(out.RecordingsKept, kept)
		}
	}
	return out, nil
}

// rewriteCall changes the stored record id with change, in one write
// transaction, as PutCall stores one (its indexes, the counts, the change
// feed); change returns false to leave it as it is. A record not stored
// is left.
func (s *Store) rewriteCall(id string, change func(*CallRecord) bool) error {
	return s.rewriteCallThen(id, change, nil)
}

// rewriteCallThen is rewriteCall, then, in the same transaction, runs
// then (if not nil) with whether the record was changed (written).
func (s *Store) rewriteCallThen(id string, change func(*CallRecord) bool, then func(tx *bolt.Tx, changed bool) error) error {
	return s.write(func(tx *bolt.Tx) error {
		changed, err := rewriteCallTx(tx, id, change)
		if err == nil && then != nil {
			err = then(tx, changed)
		}
		return err
	})
}

// rewriteCallTx is rewriteCall's change in tx; it reports whether the
// record was written.
func rewriteCallTx(tx *bolt.Tx, id string, change func(*CallRecord) bool) (bool, error) {
	calls := tx.Bucket(bucketCalls)
	old := calls.Get([]byte(id))
	if old == nil {
		return false, nil
	}
	prev, err := decodeCall(old)
	if err != nil {
		return false, err
	}
	r := prev
	r.Events = slices.Clone(prev.Events)
	if !change(&r) {
		return false, nil
	}
	r, val, err := encodeStored(tx, r)
	if err != nil {
		return false, err
	}
	if err := unindex(tx, prev); err != nil {
		return false, err
	}
	if err := calls.Put([]byte(id), val); err != nil {
		return false, err
	}
	return true, index(tx, r)
}

// bucketErasedRecordingsLeft holds the recordings an erasure could not
// delete in Asterisk (recording name → call id): their records, erased,
// no longer say whose they were, so that a request again for the number
// would not find them. Created by the first such erasure.
var bucketErasedRecordingsLeft = []byte("erased_recordings_left")

// ErasedRecordingsLeft lists the recordings erasures left in Asterisk, by
// name, with the call each was made in.
func (s *Store) ErasedRecordingsLeft() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketErasedRecordingsLeft)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: recordings erasures left: %w", err)
	}
	return out, nil
}

// keyErasedLeftBackfilled (in meta) says BackfillErasedRecordingsLeft ran.
var keyErasedLeftBackfilled = []byte("erased_left_backfilled")

// BackfillErasedRecordingsLeft lists, once, the recordings that erasures
// made before erased_recordings_left existed left named by their erased
// records: their callers' numbers are gone from the records, so that
// asking again would not find them. It reads every call record, in one
// write transaction, the first time only; it returns how many it found.
func (s *Store) BackfillErasedRecordingsLeft() (int, error) {
	// Done once: the hourly sweep's look costs a read, not a write.
	done := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get(keyErasedLeftBackfilled) != nil
		return nil
	}); err != nil {
		return 0, fmt.Errorf("store: list the recordings earlier erasures left: %w", err)
	}
	if done {
		return 0, nil
	}
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keyErasedLeftBackfilled) != nil {
			return nil
		}
		var left [][2]string
		err := tx.Bucket(bucketCalls).ForEach(func(k, v []byte) error {
			r, err := decodeCall(v)
			if err != nil {
				return err
			}
			if CallerErased(r) && r.Recording != "" {
				left = append(left, [2]string{r.Recording, r.ID})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(left) > 0 {
			b, err := tx.CreateBucketIfNotExists(bucketErasedRecordingsLeft)
			if err != nil {
				return err
			}
			for _, l := range left {
				if err := b.Put([]byte(l[0]), []byte(l[1])); err != nil {
					return err
				}
			}
		}
		n = len(left)
		return meta.Put(keyErasedLeftBackfilled, []byte("1"))
	})
	if err != nil {
		return 0, fmt.Errorf("store: list the recordings earlier erasures left: %w", err)
	}
	return n, nil
}

// dropErasedLeft: recording name, if an erasure left it, is deleted now.
func dropErasedLeft(tx *bolt.Tx, name string) error {
	if b := tx.Bucket(bucketErasedRecordingsLeft); b != nil {
		return b.Delete([]byte(name))
	}
	return nil
}

// RecordingDeleted notes in call id's record that its recording name was
// deleted (by the recording retention, or as an erasure left it): the
// name cleared and note added, in one transaction on the record as stored
// then, so that what changed in it since it was read (a caller's data
// erased, a classification) is kept, and the name no longer listed among
// those erasures left (ErasedRecordingsLeft). A record that names another
// recording, or none, is left.
func (s *Store) RecordingDeleted(id, name string, note CallEvent) error {
	err := s.rewriteCallThen(id, func(r *CallRecord) bool {
		if r.Recording != name {
			return false
		}
		r.Recording = ""
		r.Events = append(r.Events, note)
		return true
	}, func(tx *bolt.Tx, _ bool) error { return dropErasedLeft(tx, name) })
	if err != nil {
		return fmt.Errorf("store: recording %s of call %s deleted: %w", name, id, err)
	}
	return nil
}

// scrubNumber is s with the caller's number, in any of spellings, as
// "***" (a reason that names the block rule that matched it).
func scrubNumber(s string, spellings []string) string {
	for _, n := range spellings {
		if n != "" {
			s = strings.ReplaceAll(s, n, "***")
		}
	}
	return s
}

// namesCaller reports whether a timeline line names the caller: their
// number in any spelling or grouped for reading (03-1234-5678), or what
// was said of them (a known contact's name, a callback to them).
func namesCaller(what string, spellings []string) bool {
	if strings.HasPrefix(what, "known caller: ") || strings.HasPrefix(what, "callback requested to ") {
		return true
	}
	digits := strings.NewReplacer("-", "", " ", "", "(", "", ")", "").Replace(what)
	for _, n := range spellings {
		if n != "" && (strings.Contains(what, n) || strings.Contains(digits, n)) {
			return true
		}
	}
	return false
}
