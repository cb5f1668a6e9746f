package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Forgotten is what ForgetCaller erased.
type Forgotten struct {
	// Intakes are the messages deleted, each with its last version (the
	// relay's copies of every version are the caller's to delete).
	Intakes map[string]int `json:"intakes"`
	// Calls are the call records whose caller was blanked, Recordings
	// the recordings those calls made (Asterisk's, to be deleted there).
	Calls      []string `json:"calls"`
	Recordings []string `json:"recordings"`
	Callbacks  int      `json:"callbacks"`
}

// ForgetCaller erases a caller from the store, on their request (個人情報
// の消去請求): every message taken from their number, in any of spellings
// (phone.CallerID.Spellings: a trunk's +81…, a gateway's 0…), with all its
// versions, every callback request to it, pending or done, and the number
// in the records of their calls, with the timeline lines that name it or
// them (a known contact's name, a callback to the number). The records
// stay, blanked, for the month's counts and billing, which do not change;
// each comes again in the change feed, so that copies elsewhere are
// blanked too. The relay's copies and the recordings are the caller's to
// delete (Forgotten says which).
func (s *Store) ForgetCaller(spellings []string) (Forgotten, error) {
	out := Forgotten{Intakes: map[string]int{}}
	if len(spellings) == 0 {
		return out, nil
	}
	var ids []string
	for _, n := range spellings {
		ins, err := s.IntakesForCaller(n, 0)
		if err != nil {
			return out, fmt.Errorf("store: forget caller: %w", err)
		}
		for _, in := range ins {
			if _, seen := out.Intakes[in.ID]; !seen {
				ids = append(ids, in.ID)
			}
			out.Intakes[in.ID] = in.Version
		}
	}
	if _, err := s.purgeIntakes(ids, func(in Intake) bool {
		out.Intakes[in.ID] = max(out.Intakes[in.ID], in.Version)
		return true
	}); err != nil {
		return out, fmt.Errorf("store: forget caller: messages: %w", err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCallbacks)
		if b == nil {
			return nil
		}
		var gone [][]byte
		n, err := deleteWhere(b, func(k, v []byte) (bool, error) {
			var c Callback
			if err := json.Unmarshal(v, &c); err != nil {
				return false, fmt.Errorf("%w: callback: %w", ErrCorrupt, err)
			}
			if slices.Contains(spellings, c.Number) {
				gone = append(gone, append([]byte(nil), k...))
				return true, nil
			}
			return false, nil
		})
		if err != nil {
			return err
		}
		out.Callbacks = n
		if idx := tx.Bucket(bucketCallbacksPending); idx != nil {
			for _, k := range gone {
				if err := idx.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("store: forget caller: callback requests: %w", err)
	}
	var calls []CallRecord
	err = s.EachCallPage(CallFilter{}, 500, func(page []CallRecord) error {
		for _, r := range page {
			if slices.Contains(spellings, strings.TrimSpace(r.CallerID)) {
				calls = append(calls, r)
			}
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("store: forget caller: call records: %w", err)
	}
	for _, r := range calls {
		if r.Recording != "" {
			out.Recordings = append(out.Recordings, r.Recording)
		}
		// The recording goes too (the caller deletes it in Asterisk; one
		// left there is named by no record, and the daily sweep of such
		// recordings deletes it).
		r.CallerID, r.Recording = "", ""
		r.Events = slices.DeleteFunc(r.Events, func(e CallEvent) bool { return namesCaller(e.What, spellings) })
		if err := s.PutCall(r); err != nil {
			return out, fmt.Errorf("store: forget caller: call %s: %w", r.ID, err)
		}
		out.Calls = append(out.Calls, r.ID)
	}
	return out, nil
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
