package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketCallClasses holds the operators' classification of calls: call id
// → callClass JSON. It is created by the first write; a file without it
// reads as empty.
var bucketCallClasses = []byte("call_classes")

// Call classes an operator gives a call that needs no message and is not
// billed: a sales call refused politely, a wrong number, a call in which
// nobody spoke (or a prank). "" is an ordinary call.
const (
	ClassSales       = "sales"
	ClassWrongNumber = "wrong-number"
	ClassSilent      = "silent"
)

// CallClasses lists the classes, in the order the console offers them.
var CallClasses = []string{ClassSales, ClassWrongNumber, ClassSilent}

// callClass is a classification, and what the call's rules had made of
// its billing before it (restored when the class is taken back).
type callClass struct {
	Class string    `json:"class"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
	// RuleBillable is the record's Billable before the class applied;
	// set once the record exists.
	RuleBillable *bool `json:"rule_billable,omitempty"`
}

// ClassifyCall sets call id's class ("" takes a class back), by operator
// by at at. A classified call is not billable; taking the class back gives
// the call the billing its rules gave it. The call's record may be stored
// before or after: the class applies to it either way (PutCall applies a
// class stored earlier), and the monthly counters follow in the same
// transaction.
func (s *Store) ClassifyCall(id, class, by string, at time.Time) error {
	if id == "" || class != "" && !slices.Contains(CallClasses, class) {
		return fmt.Errorf("%w: call %q: class %q", ErrInvalidRecord, id, class)
	}
	err := s.write(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketCallClasses)
		if err != nil {
			return err
		}
		cc := callClass{Class: class, By: by, At: at}
		if old := b.Get([]byte(id)); old != nil {
			var prev callClass
			if err := json.Unmarshal(old, &prev); err != nil {
				return fmt.Errorf("%w: decode class of call %q: %w", ErrCorrupt, id, err)
			}
			cc.RuleBillable = prev.RuleBillable
		}
		calls := tx.Bucket(bucketCalls)
		if old := calls.Get([]byte(id)); old != nil {
			prev, err := decodeCall(old)
			if err != nil {
				return err
			}
			if cc.RuleBillable == nil {
				rb := prev.Billable
				cc.RuleBillable = &rb
			}
			next := withClass(prev, cc)
			val, err := json.Marshal(next)
			if err != nil {
				return err
			}
			if !bytes.Equal(val, old) { // the same class again changes nothing
				if err := unindex(tx, prev); err != nil {
					return err
				}
				if err := calls.Put([]byte(id), val); err != nil {
					return err
				}
				if err := index(tx, next); err != nil {
					return err
				}
			}
		}
		val, err := json.Marshal(cc)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), val)
	})
	if err != nil {
		return fmt.Errorf("store: classify call %q: %w", id, err)
	}
	return nil
}

// withClass is r under classification cc (whose RuleBillable is set).
func withClass(r CallRecord, cc callClass) CallRecord {
	r.Class = cc.Class
	r.Billable = *cc.RuleBillable && cc.Class == ""
	return r
}

// applyClass gives r, about to be stored as the call's record, the class
// an operator gave the call, if any, and remembers r's own billing for
// the class: unless r was read back with its class applied (a record
// rewritten, by the recording sweep for one), whose Billable is no longer
// the rules'. It runs inside the record's write transaction.
func applyClass(tx *bolt.Tx, r CallRecord) (CallRecord, error) {
	b := tx.Bucket(bucketCallClasses)
	if b == nil {
		return r, nil
	}
	old := b.Get([]byte(r.ID))
	if old == nil {
		return r, nil
	}
	var cc callClass
	if err := json.Unmarshal(old, &cc); err != nil {
		return r, fmt.Errorf("%w: decode class of call %q: %w", ErrCorrupt, r.ID, err)
	}
	if r.Class == "" || cc.RuleBillable == nil {
		rb := r.Billable
		cc.RuleBillable = &rb
	}
	val, err := json.Marshal(cc)
	if err != nil {
		return r, err
	}
	if err := b.Put([]byte(r.ID), val); err != nil {
		return r, err
	}
	return withClass(r, cc), nil
}

// CallClass is the class an operator gave call id ("" when none).
func (s *Store) CallClass(id string) (string, error) {
	classes, err := s.CallClasses(id)
	return classes[id], err
}

// CallClasses are the classes operators gave calls ids, by id, read in
// one transaction; a call with none is left out.
func (s *Store) CallClasses(ids ...string) (map[string]string, error) {
	classes := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCallClasses)
		if b == nil {
			return nil
		}
		for _, id := range ids {
			v := b.Get([]byte(id))
			if v == nil {
				continue
			}
			var cc callClass
			if err := json.Unmarshal(v, &cc); err != nil {
				return fmt.Errorf("%w: decode class of call %q: %w", ErrCorrupt, id, err)
			}
			if cc.Class != "" {
				classes[id] = cc.Class
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: class of calls %q: %w", ids, err)
	}
	return classes, nil
}
