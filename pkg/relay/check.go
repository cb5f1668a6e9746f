package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ErrUnreadable: an outbox entry does not decode (CheckEntries).
var ErrUnreadable = errors.New("relay: outbox entries unreadable")

// checkNamed bounds the unreadable entries CheckEntries names one by one.
const checkNamed = 20

// CheckEntries decodes every entry of the outbox's buckets in tx: pending
// and delivered, dead letters, and the records of those set aside
// unreadable. bbolt's own check reads the pages, not the values; an entry
// that does not decode is set aside at the next OpenOutbox, its message
// never sent. It returns how many entries were set aside already (found
// unreadable at an earlier start), and an error wrapping ErrUnreadable
// that names the bucket and key of each value that does not decode (the
// first checkNamed of them, then how many more). A file in which no
// outbox was ever opened has none of these buckets: nothing to check.
func CheckEntries(tx *bolt.Tx) (setAside int, err error) {
	var named []string
	bad := 0
	for _, name := range [][]byte{bucketOutbox, bucketDead, bucketUnreadable} {
		b := tx.Bucket(name)
		if b == nil {
			continue
		}
		aside := string(name) == string(bucketUnreadable)
		err := b.ForEach(func(k, v []byte) error {
			var err error
			if aside {
				setAside++
				err = json.Unmarshal(v, &unreadable{})
			} else {
				_, err = decodeEntry(v)
			}
			if err != nil {
				if bad++; len(named) < checkNamed {
					named = append(named, fmt.Sprintf("%s %q: %v", name, k, err))
				}
			}
			return nil
		})
		if err != nil {
			return setAside, fmt.Errorf("relay: check %s: %w", name, err)
		}
	}
	if bad == 0 {
		return setAside, nil
	}
	msg := fmt.Sprintf("%d value(s) do not decode (an entry of %s or %s is set aside at the next start, never sent): %s",
		bad, bucketOutbox, bucketDead, strings.Join(named, "; "))
	if more := bad - len(named); more > 0 {
		msg += fmt.Sprintf("; and %d more", more)
	}
	return setAside, fmt.Errorf("%w: %s", ErrUnreadable, msg)
}
